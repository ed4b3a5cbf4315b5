from datetime import timedelta

import pytest

from tests.inbound.conftest import send_first_touch
from touchbase.inbound.links import make_token
from touchbase.inbound.models import Event, RateLimitBucket
from touchbase.inbound.ratelimit import hit

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


@pytest.fixture
def limits(settings):
    settings.TOUCHBASE_RATE_LIMITS = {"links": 5, "hooks": 3}
    return settings.TOUCHBASE_RATE_LIMITS


def test_a_flood_of_clicks_from_one_address_is_cut_off_and_cannot_fill_the_database(
    client, business, limits
):
    sent = send_first_touch(business)
    path = f"/r/{make_token(sent.delivery.pk, 'review')}"

    codes = [client.get(path, HTTP_USER_AGENT=BROWSER).status_code for _ in range(200)]

    assert codes[:5] == [302] * 5
    assert set(codes[5:]) == {429}
    assert Event.objects.count() == 1
    assert RateLimitBucket.objects.count() == 1


def test_a_refused_request_says_when_to_retry(client, business, limits):
    for _ in range(5):
        client.get("/r/forged")

    response = client.get("/r/forged")

    assert response.status_code == 429
    assert response["Retry-After"] == "60"


def test_another_address_is_not_limited_by_the_flood(client, business, limits):
    for _ in range(6):
        client.get("/u/forged", REMOTE_ADDR="203.0.113.7")

    assert client.get("/u/forged", REMOTE_ADDR="203.0.113.8").status_code == 404


def test_the_limit_opens_again_in_the_next_minute(client, business, limits, clock):
    for _ in range(6):
        client.get("/f/forged")
    clock.shift(timedelta(minutes=1))

    assert client.get("/f/forged").status_code == 404


def test_webhooks_are_limited_with_a_json_answer(client, business, limits):
    for _ in range(3):
        client.post("/hooks/twilio/sms", {})

    response = client.post("/hooks/twilio/sms", {})

    assert response.status_code == 429
    assert "rate_limit" in response.json()["error"]


def test_the_owners_pages_are_not_limited(client, business, limits):
    for _ in range(10):
        response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert not RateLimitBucket.objects.exists()


def test_old_windows_are_pruned_as_new_ones_open(business, clock):
    for minute in range(30):
        hit(key=f"links:198.51.100.{minute}", limit=10)
        clock.shift(timedelta(minutes=1))

    assert RateLimitBucket.objects.count() <= 6


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(client, business, limits):
    for n in range(6):
        response = client.get("/r/forged", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited(client, business, limits, settings):
    settings.TOUCHBASE_TRUSTED_PROXY_HOPS = 1
    for _ in range(5):
        client.get("/r/forged", HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.9")

    assert client.get("/r/forged", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429
    assert client.get("/r/forged", HTTP_X_FORWARDED_FOR="198.51.100.10").status_code == 404


def test_an_ipv6_client_is_limited_by_its_64_network(client, business, limits):
    for n in range(5):
        client.get("/r/forged", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")

    assert client.get("/r/forged", REMOTE_ADDR="2001:db8:1:2::ffff").status_code == 429
    assert client.get("/r/forged", REMOTE_ADDR="2001:db8:1:3::1").status_code == 404
