"""Whether a customer can be reached on a channel right now, and if not, why.

One place for the rule, used by the worker before every send (PRODUCT §3) and by the
inbound events that decide whether a sequence has anything left to send (PRODUCT §4).
"""

from touchbase.channels import Channel
from touchbase.customers.models import Customer, SmsConsent, SmsSuppression


def email_block(customer: Customer) -> str | None:
    """None when an email may be sent; else the skip reason."""
    if not customer.email:
        return "no_email"
    if customer.email_opted_out_at:
        return "email_opted_out"
    if customer.email_bounced_at:
        return "email_bounced"
    return None


def sms_block(customer: Customer, *, suppressed: bool | None = None) -> str | None:
    """None when a text may be sent; else the skip reason. `suppressed` may be passed by a
    caller that looked the suppression list up for many customers at once."""
    if not customer.phone:
        return "no_phone"
    if customer.phone_unusable:
        return f"phone_{customer.phone_unusable}"
    if customer.sms_consent == SmsConsent.REVOKED:
        return "sms_opted_out"
    if customer.sms_consent != SmsConsent.GRANTED:
        return "no_sms_consent"
    if suppressed is None:
        suppressed = SmsSuppression.objects.filter(
            business_id=customer.business_id, phone=customer.phone
        ).exists()
    if suppressed:
        return "sms_opted_out"
    return None


def channel_block(
    customer: Customer, channel: str, *, suppressed: bool | None = None
) -> str | None:
    if channel == Channel.EMAIL:
        return email_block(customer)
    return sms_block(customer, suppressed=suppressed)


def number_opted_out(phone: str) -> bool:
    """Whether any business was told STOP by `phone` (or recorded its opt-out): a text that
    is not a review request (a test, a verification code) is refused for it everywhere, as a
    carrier-level STOP blocks the shared sending number for every business."""
    return (
        SmsSuppression.objects.filter(phone=phone).exists()
        or Customer.objects.filter(phone=phone, sms_consent=SmsConsent.REVOKED).exists()
    )
