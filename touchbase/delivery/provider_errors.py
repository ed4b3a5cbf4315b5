"""What a provider's error code means for a delivery and for the customer (PRODUCT §8).

Kept as data so a new code is a new row. Used by the worker (errors returned by the API
call) and by the status callbacks (errors reported later by the carrier), so both update
the customer the same way.
"""

from dataclasses import dataclass

from touchbase.customers.models import ConsentSource, Customer, PhoneUnusable


@dataclass(frozen=True)
class ProviderError:
    permanent: bool
    # What the error tells us about the customer: a PhoneUnusable value, "carrier_opt_out",
    # or "" (nothing about the customer, e.g. a carrier filter).
    customer_effect: str = ""
    description: str = ""


TWILIO_ERRORS: dict[str, ProviderError] = {
    "21211": ProviderError(True, PhoneUnusable.INVALID, "invalid 'To' phone number"),
    "21614": ProviderError(True, PhoneUnusable.LANDLINE, "'To' number is not a mobile number"),
    "30005": ProviderError(True, PhoneUnusable.UNKNOWN_HANDSET, "unknown destination handset"),
    "30006": ProviderError(True, PhoneUnusable.LANDLINE, "landline or unreachable carrier"),
    "21610": ProviderError(True, "carrier_opt_out", "recipient unsubscribed at the carrier"),
    "30007": ProviderError(True, "", "message filtered by the carrier"),
    "30003": ProviderError(False, "", "unreachable destination handset"),
    "30008": ProviderError(False, "", "unknown error at the carrier"),
    "20429": ProviderError(False, "", "too many requests"),
}


def classify_twilio(code: str | int | None, http_status: int | None = None) -> ProviderError:
    """Known codes from the table; otherwise 429 and 5xx are transient, other 4xx permanent."""
    if code is not None and str(code) in TWILIO_ERRORS:
        return TWILIO_ERRORS[str(code)]
    if http_status is None or http_status == 429 or http_status >= 500:
        return ProviderError(False, "", f"provider error {code or http_status}")
    return ProviderError(True, "", f"provider refused the message ({code or http_status})")


def apply_to_customer(customer: Customer, error: ProviderError) -> None:
    """Record what a permanent error says about the customer."""
    from touchbase.customers.services import mark_phone_unusable, record_sms_opt_out

    if error.customer_effect == "carrier_opt_out":
        if customer.sms_consent != "revoked":
            record_sms_opt_out(customer=customer, source=ConsentSource.CARRIER)
    elif error.customer_effect:
        mark_phone_unusable(customer=customer, reason=error.customer_effect)
