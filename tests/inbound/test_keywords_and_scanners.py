from datetime import UTC, datetime, timedelta

import pytest

from touchbase.inbound.keywords import keyword_intent, looks_like_stop_request
from touchbase.inbound.scanners import scanner_reason

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15"


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("STOP", "opt_out"),
        ("Stop.", "opt_out"),
        ("  stopall ", "opt_out"),
        ("Unsubscribe!", "opt_out"),
        ("cancel", "opt_out"),
        ("END", "opt_out"),
        ("quit", "opt_out"),
        ("Revoke", "opt_out"),
        ("optout", "opt_out"),
        ("Opt Out", "opt_out"),
        ("opt-out", "opt_out"),
        ("START", "opt_in"),
        ("unstop!", "opt_in"),
        ("Help?", "help"),
        ("info", "help"),
    ],
)
def test_a_message_that_is_exactly_a_keyword_has_its_meaning(body, intent):
    assert keyword_intent(body) == intent


@pytest.mark.parametrize(
    "body", ["stop it please", "Please STOP", "the end", "start over", "", "helpful tech"]
)
def test_a_sentence_containing_a_keyword_is_not_a_keyword(body):
    assert keyword_intent(body) is None


@pytest.mark.parametrize(
    "body",
    [
        "stop it please",
        "Please stop texting me",
        "Don't text me",
        "remove me from your list",
        "No more texts!",
        "I want to opt out",
    ],
)
def test_plain_language_stop_requests_are_recognised(body):
    assert looks_like_stop_request(body)


@pytest.mark.parametrize("body", ["Thanks, great job!", "When is my next visit?", "Stopped by"])
def test_ordinary_replies_are_not_stop_requests(body):
    assert not looks_like_stop_request(body)


def test_a_person_clicking_later_is_not_a_scanner():
    assert (
        scanner_reason(method="GET", user_agent=BROWSER, sent_at=NOW - timedelta(hours=2), now=NOW)
        is None
    )


@pytest.mark.parametrize(
    ("method", "agent", "sent_ago", "reason"),
    [
        ("HEAD", BROWSER, timedelta(hours=1), "head"),
        ("GET", "Mozilla/5.0 (compatible; BingPreview/1.0b)", timedelta(hours=1), "user_agent"),
        ("GET", "", timedelta(hours=1), "user_agent"),
        ("GET", BROWSER, timedelta(seconds=14), "too_soon"),
    ],
)
def test_scanners_are_recognised(method, agent, sent_ago, reason):
    assert (
        scanner_reason(method=method, user_agent=agent, sent_at=NOW - sent_ago, now=NOW) == reason
    )
