"""A review link's tag is the HMAC `salted_hmac` gives (links already sent keep reading
back), and its keyed HMAC, computed once per purpose and secret, follows a new secret key."""

from django.test import override_settings
from django.utils.crypto import salted_hmac

from touchbase.inbound.links import TAG_SPACE, _tag, make_token, read_token


def salted_tag(delivery_id: int, secret: str) -> int:
    digest = salted_hmac(
        "touchbase.shortlink.review", str(delivery_id), secret=secret, algorithm="sha256"
    ).digest()
    return int.from_bytes(digest[:8], "big") % TAG_SPACE


def test_a_review_tag_is_salted_hmacs_for_every_delivery():
    with override_settings(SECRET_KEY="k" * 50):
        assert [_tag(n, "review") for n in (1, 42, 10**7)] == [
            salted_tag(n, "k" * 50) for n in (1, 42, 10**7)
        ]


def test_a_new_secret_key_signs_with_the_new_key_at_once():
    with override_settings(SECRET_KEY="a" * 50):
        before = make_token(42, "review")
    with override_settings(SECRET_KEY="b" * 50):
        assert _tag(42, "review") == salted_tag(42, "b" * 50)
        assert make_token(42, "review") != before
        assert read_token(before, "review") is None
