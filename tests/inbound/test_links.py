import pytest
from django.test import override_settings

from touchbase.inbound.links import link_for, make_token, read_token


def test_a_token_names_its_delivery():
    assert read_token(make_token(12345, "review"), "review") == 12345


@pytest.mark.parametrize(
    "token",
    ["", "3039", "3039:forged", make_token(12345, "review")[:-1] + "A", "x" * 300, "3039:"],
)
def test_forged_tampered_or_malformed_tokens_name_nothing(token):
    assert read_token(token, "review") is None


def test_a_review_token_is_not_an_unsubscribe_token():
    token = make_token(7, "review")

    assert read_token(token, "unsubscribe") is None
    assert read_token(token, "feedback") is None


def test_a_token_made_with_another_secret_is_refused():
    with override_settings(SECRET_KEY="another-deployment-" * 3):
        foreign = make_token(7, "review")

    assert read_token(foreign, "review") is None


@override_settings(PUBLIC_BASE_URL="https://reviews.example.com")
def test_links_are_touchbase_urls_on_the_public_base():
    assert link_for(7, "review").startswith("https://reviews.example.com/r/")
    assert link_for(7, "unsubscribe").startswith("https://reviews.example.com/u/7:")
    assert link_for(7, "feedback").startswith("https://reviews.example.com/f/7:")


@pytest.mark.parametrize("delivery_id", [1, 7, 123_456, 14_000_000])
def test_a_review_link_path_is_at_most_12_characters_and_reads_back(delivery_id):
    # Issue 13, problem 8: the link alone made every default SMS two segments.
    token = make_token(delivery_id, "review")

    assert len(f"/r/{token}") <= 12
    assert token.isalnum()
    assert read_token(token, "review") == delivery_id


def test_a_short_review_token_is_signed_every_character_counts():
    token = make_token(123_456, "review")
    forged = [
        token[:i] + other + token[i + 1 :]
        for i in range(len(token))
        for other in "0aZ"
        if other != token[i]
    ]

    assert all(read_token(candidate, "review") != 123_456 for candidate in forged)
    assert read_token(make_token(123_457, "review")[:-1] + token[-1], "review") is None
    assert read_token(token, "unsubscribe") is None


def test_old_long_review_links_keep_working():
    old = signing_token(12345)

    assert read_token(old, "review") == 12345


def signing_token(delivery_id: int) -> str:
    from django.core import signing

    signer = signing.Signer(salt="touchbase.link.review", algorithm="sha256")
    return signer.sign(format(delivery_id, "x"))
