"""The settings page's test message, and the code that proves the owner's own number.

Both go through the worker's real transport, so they are what an abuser of an open install
would use to send through the operator's provider account. The rules, in order:
1. the user's email is verified (an open install's new account sends nothing before);
2. the destination is the user's own: their verified email address, or the mobile number
   they proved with a code (the code itself is the only text to an unproved number);
3. a number any business was told STOP by is refused;
4. a business sends at most a few per hour (touchbase/tenancy/throttles.py);
5. every message names the business it is sent for.
"""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.html import format_html

from touchbase.channels import Channel
from touchbase.customers.reachability import number_opted_out
from touchbase.customers.services import normalize_phone
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.base import OutgoingMessage, SendError
from touchbase.ratelimit import Limit
from touchbase.tenancy.models import Business, User
from touchbase.tenancy.throttles import PHONE_CODES_PER_BUSINESS, TEST_MESSAGES_PER_BUSINESS
from touchbase.tenancy.verification import new_phone_code


@dataclass(frozen=True)
class TestSent:
    to: str
    provider_message_id: str


def _check_sender(user: User, business: Business, limit: Limit, field: str) -> None:
    if not user.email_verified:
        raise ValidationError(
            {field: f"confirm your email first: open the link we sent to {user.email}"}
        )
    if not limit.hit(str(business.pk)):
        raise ValidationError(
            {
                field: f"{business.name} sent too many test messages; try again in "
                f"{limit.minutes_left()} minutes"
            }
        )


def _send(message: OutgoingMessage) -> TestSent:
    try:
        sent = transport_for(message.channel).send(message, idempotency_key=f"test-{uuid.uuid4()}")
    except SendError as exc:
        raise ValidationError(
            {"channel": f"the provider refused the test: {exc} {exc.code}".strip()}
        ) from None
    except Exception as exc:  # any transport failure is reported to the owner, not raised
        raise ValidationError({"channel": f"the test failed: {type(exc).__name__}"}) from None
    return TestSent(to=message.to, provider_message_id=sent.provider_message_id)


def send_test_message(*, business: Business, user: User, channel: str) -> TestSent:
    """A test email to the user's own address or a test text to their own proved number."""
    if channel == Channel.SMS:
        to = user.verified_phone
        if not to:
            raise ValidationError(
                {"phone": "verify your mobile number first: a test text goes only to it"}
            )
        if number_opted_out(to):
            raise ValidationError({"phone": f"{to} replied STOP; touchbase texts it no more"})
    _check_sender(user, business, TEST_MESSAGES_PER_BUSINESS, "channel")
    text = f"touchbase test from {business.name}: your review requests can go out this way."
    if channel == Channel.SMS:
        return _send(OutgoingMessage(channel=Channel.SMS, to=user.verified_phone, text=text))
    return _send(
        OutgoingMessage(
            channel=Channel.EMAIL,
            to=user.email,
            text=text,
            subject=f"touchbase test email for {business.name}",
            # A real HTML part: an empty one shows as a blank message in most clients.
            html=format_html("<!doctype html><html><body><p>{}</p></body></html>", text),
            from_name=business.sender_name or business.name,
            reply_to=business.reply_to_email,
        )
    )


def send_phone_code(*, business: Business, user: User, phone: str) -> tuple[str, str]:
    """Text a code to `phone`; returns (the E.164 number, the code's hash to keep)."""
    to = normalize_phone(phone or "")
    if not to:
        raise ValidationError({"phone": "enter your mobile number, e.g. (305) 555-0142"})
    if number_opted_out(to):
        raise ValidationError({"phone": f"{to} replied STOP; touchbase texts it no more"})
    _check_sender(user, business, PHONE_CODES_PER_BUSINESS, "phone")
    code, hashed = new_phone_code()
    text = f"{code} is your touchbase code to verify this number for {business.name}."
    _send(OutgoingMessage(channel=Channel.SMS, to=to, text=text))
    return to, hashed
