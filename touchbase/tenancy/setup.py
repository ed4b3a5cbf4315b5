"""A business cannot go live half set up (PRODUCT §9).

Before any campaign is active, and before the worker sends anything for it, a business needs
a review destination (a Google Place ID or an https review URL) and a postal address for the
email footer (CAN-SPAM). One rule, called by the settings service, the campaign services,
the worker and the review link.
"""

import re

from django.core.exceptions import ValidationError

# Why the worker holds a touch (Delivery.defer_reason) while the business is incomplete.
SETUP_INCOMPLETE = "setup_incomplete"

# Google Place IDs are opaque base64url-like strings ("ChIJN1t_tDeuEmsRUsoyG83frY4").
_PLACE_ID = re.compile(r"^[A-Za-z0-9_-]{16,255}$")

PLACE_ID_PROBLEM = (
    "does not look like a Google Place ID (letters, digits, - and _, such as "
    "ChIJN1t_tDeuEmsRUsoyG83frY4)"
)
REVIEW_URL_PROBLEM = "must be an https:// address"


def review_destination_problems(*, review_url: str, google_place_id: str) -> dict[str, str]:
    """What is wrong with the review destination as typed (blank is not wrong here)."""
    problems: dict[str, str] = {}
    if google_place_id and not _PLACE_ID.match(google_place_id):
        problems["google_place_id"] = PLACE_ID_PROBLEM
    if review_url and not review_url.lower().startswith("https://"):
        problems["review_url"] = REVIEW_URL_PROBLEM
    return problems


def missing_setup(business) -> dict[str, str]:
    """Each missing piece of setup, by field, in words the owner can act on."""
    missing: dict[str, str] = {}
    if not (business.google_place_id or business.review_url):
        missing["review_url"] = "a review link or a Google Place ID is required before sending"
    if not (business.postal_address or "").strip():
        missing["postal_address"] = "a postal address is required in every email's footer"
    return missing


def setup_complete(business) -> bool:
    return not missing_setup(business)


def require_setup(business, *, field: str = "status") -> None:
    """Refuse to make a campaign active for a business that is not set up."""
    missing = missing_setup(business)
    if missing:
        raise ValidationError(
            {
                field: "finish setting up your business first ("
                + "; ".join(missing.values())
                + "): see Settings"
            }
        )
