"""Every stop, skip, defer and error reason the engine records, in the owner's words.

The engine stores short codes (`no_sms_consent`, `send_window`); pages show these sentences.
One table for every page (timeline, activity, dashboard, campaign detail), so a reason reads
the same everywhere. An unknown code falls back to its words ("some_code" -> "some code").
"""

from touchbase.campaigns.models import StopReason
from touchbase.delivery.segments import MAX_SEGMENTS
from touchbase.tenancy.setup import SETUP_INCOMPLETE

STOP_REASONS = {value: label for value, label in StopReason.choices}

SKIP_REASONS = {
    "no_email": "no email address",
    "no_phone": "no mobile number",
    "email_opted_out": "unsubscribed from email",
    "email_bounced": "email address bounced",
    "sms_opted_out": "opted out of texts",
    "no_sms_consent": "no consent to texts",
    "phone_invalid": "the number is not valid",
    "phone_landline": "the number is a landline",
    "phone_unknown_handset": "the number cannot receive texts",
    "touch_removed": "the touch was removed from the campaign",
    "enrollment_stopped": "the sequence was stopped",
    "enrollment_completed": "the sequence had finished",
}

DEFER_REASONS = {
    "send_window": "outside the send window",
    "frequency_cap": "the customer was messaged less than an hour ago",
    "throttle": "the hourly sending limit was reached",
    "retry": "retrying after a provider error",
    "requeued_by_owner": "sent again by the owner",
    SETUP_INCOMPLETE: "setup incomplete: add your review link and postal address in Settings",
    "no_legal_window": "no legal sending time for this customer",
}

ERROR_CODES = {
    "too_long": f"the text is longer than {MAX_SEGMENTS} segments",
    "unexpected": "unexpected error",
    "refused": "the provider refused the recipient",
    "connect": "could not reach the provider",
    "connect_timeout": "the provider did not answer in time",
    "no_response": "no answer from the provider",
}

EVENT_KINDS = {
    "review_clicked": "clicked the review link",
    "review_link_scanned": "review link opened by a security scanner",
    "review_link_unset": "clicked a link with no review page set up",
    "feedback_submitted": "sent private feedback",
    "unsubscribed": "unsubscribed",
}

_ALL = {
    **{key: label.lower() for key, label in STOP_REASONS.items()},
    **SKIP_REASONS,
    **DEFER_REASONS,
    **ERROR_CODES,
    **EVENT_KINDS,
}


def reason_label(code: str) -> str:
    """The owner's words for any reason code the engine or an inbound event recorded."""
    if not code:
        return ""
    return _ALL.get(code) or code.replace("_", " ")
