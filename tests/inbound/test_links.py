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
    assert link_for(7, "review").startswith("https://reviews.example.com/r/7:")
    assert link_for(7, "unsubscribe").startswith("https://reviews.example.com/u/7:")
    assert link_for(7, "feedback").startswith("https://reviews.example.com/f/7:")
