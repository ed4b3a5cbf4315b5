"""touchbase's own tracked links: review (/r/), unsubscribe (/u/), private feedback (/f/).

A token names one delivery and is signed with the secret key and a per-purpose salt, so a
review token cannot be replayed as an unsubscribe token and a guessed id is worthless.
Tokens do not expire: a customer may click a review request weeks later.

Review links go into texts, where every character counts (a default SMS must fit one GSM-7
segment, issue 13), so their token is short: one base62 number that packs the delivery id
with a 5-character HMAC tag (62^5 ≈ 9·10^8 possible tags for each id, behind the links' rate
limit). `/r/` plus the token stays within 12 characters up to 62^4 ≈ 14.7 million
deliveries. Unsubscribe and feedback links only travel in emails and keep the longer signed
form (`<hex id>:<signature>`); both forms are read, so links already sent keep working.
"""

import functools
import hmac
import string

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

PURPOSES = ("review", "unsubscribe", "feedback")
PATHS = {"review": "r", "unsubscribe": "u", "feedback": "f"}
SHORT_PURPOSES = ("review",)

ALPHABET = string.digits + string.ascii_letters
TAG_LENGTH = 5
TAG_SPACE = len(ALPHABET) ** TAG_LENGTH
MAX_SHORT_TOKEN = 16  # longer input is not a short token (and not worth decoding)


def _check(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")


def _signer(purpose: str) -> signing.Signer:
    _check(purpose)
    return signing.Signer(salt=f"touchbase.link.{purpose}", algorithm="sha256")


@functools.lru_cache(maxsize=16)
def _keyed(purpose: str, secret: str) -> hmac.HMAC:
    """`salted_hmac`'s keyed HMAC before any message: its key derivation and pads are
    computed once per purpose and secret key, not once per link (the worker signs one
    for every message it decides to send)."""
    return salted_hmac(f"touchbase.shortlink.{purpose}", b"", secret=secret, algorithm="sha256")


def _tag(delivery_id: int, purpose: str) -> int:
    mac = _keyed(purpose, settings.SECRET_KEY).copy()
    mac.update(str(delivery_id).encode())
    return int.from_bytes(mac.digest()[:8], "big") % TAG_SPACE


def _base62(number: int) -> str:
    digits = []
    while True:
        number, rest = divmod(number, len(ALPHABET))
        digits.append(ALPHABET[rest])
        if not number:
            return "".join(reversed(digits))


def _short_token(delivery_id: int, purpose: str) -> str:
    return _base62(delivery_id * TAG_SPACE + _tag(delivery_id, purpose))


def _read_short(token: str, purpose: str) -> int | None:
    if not token or len(token) > MAX_SHORT_TOKEN or token.strip(ALPHABET):
        return None
    number = 0
    for char in token:
        number = number * len(ALPHABET) + ALPHABET.index(char)
    delivery_id, tag = divmod(number, TAG_SPACE)
    if delivery_id < 1 or not hmac.compare_digest(
        _base62(tag), _base62(_tag(delivery_id, purpose))
    ):
        return None
    return delivery_id


def make_token(delivery_id: int, purpose: str) -> str:
    _check(purpose)
    if purpose in SHORT_PURPOSES:
        return _short_token(delivery_id, purpose)
    return _signer(purpose).sign(format(delivery_id, "x"))


def read_token(token: str, purpose: str) -> int | None:
    """The delivery id a token names, or None when it is forged, tampered or malformed."""
    _check(purpose)
    if ":" not in token:
        return _read_short(token, purpose)
    try:
        return int(_signer(purpose).unsign(token), 16)
    except (signing.BadSignature, ValueError):
        return None


def link_for(delivery_id: int, purpose: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/{PATHS[purpose]}/{make_token(delivery_id, purpose)}"
