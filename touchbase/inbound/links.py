"""touchbase's own tracked links: review (/r/), unsubscribe (/u/), private feedback (/f/).

A token names one delivery and is signed with the secret key and a per-purpose salt, so a
review token cannot be replayed as an unsubscribe token and a guessed id is worthless.
Tokens do not expire: a customer may click a review request weeks later.
"""

from django.conf import settings
from django.core import signing

PURPOSES = ("review", "unsubscribe", "feedback")
PATHS = {"review": "r", "unsubscribe": "u", "feedback": "f"}


def _signer(purpose: str) -> signing.Signer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return signing.Signer(salt=f"touchbase.link.{purpose}", algorithm="sha256")


def make_token(delivery_id: int, purpose: str) -> str:
    return _signer(purpose).sign(format(delivery_id, "x"))


def read_token(token: str, purpose: str) -> int | None:
    """The delivery id a token names, or None when it is forged, tampered or malformed."""
    try:
        return int(_signer(purpose).unsign(token), 16)
    except (signing.BadSignature, ValueError):
        return None


def link_for(delivery_id: int, purpose: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/{PATHS[purpose]}/{make_token(delivery_id, purpose)}"
