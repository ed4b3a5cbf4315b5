from datetime import timedelta

import pytest

from tests.factories import make_business
from tests.inbound.conftest import PLACE_ID, send_first_touch
from touchbase.delivery.models import DeliveryStatus
from touchbase.inbound.links import ALPHABET, TAG_SPACE, link_for, make_token
from touchbase.inbound.models import Event
from touchbase.tenancy.models import Business

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
GOOGLE_REVIEW = f"https://search.google.com/local/writereview?placeid={PLACE_ID}"


def base62_value(token: str) -> int:
    number = 0
    for char in token:
        number = number * len(ALPHABET) + ALPHABET.index(char)
    return number


def base62(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, len(ALPHABET))
        digits = ALPHABET[rest] + digits
        if not number:
            return digits


def review_path(delivery) -> str:
    return f"/r/{make_token(delivery.pk, 'review')}"


def test_the_customers_click_stops_the_sequence_and_redirects_to_the_google_review_page(
    client, business
):
    sent = send_first_touch(business)

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert response["Location"] == GOOGLE_REVIEW
    assert (sent.enrollment.status, sent.enrollment.stop_reason) == ("stopped", "review_clicked")
    event = Event.objects.get(kind="review_clicked")
    assert (event.delivery_id, event.customer_id) == (sent.delivery.pk, sent.customer.pk)


def test_the_link_in_a_message_is_the_one_the_endpoint_answers(client, business):
    sent = send_first_touch(business)
    path = link_for(sent.delivery.pk, "review").removeprefix("https://reviews.example.com")

    assert client.get(path, HTTP_USER_AGENT=BROWSER).status_code == 302


def test_a_second_click_redirects_again_and_changes_nothing(client, business):
    sent = send_first_touch(business)
    client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)
    stopped_at = sent.enrollment.stopped_at

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert Event.objects.filter(kind="review_clicked").count() == 1
    assert sent.enrollment.stopped_at == stopped_at


def test_the_review_url_is_used_when_the_business_has_no_place_id(client, clock):
    business = make_business(review_url="https://www.example.com/reviews/new")
    sent = send_first_touch(business)

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response["Location"] == "https://www.example.com/reviews/new"


def test_a_head_request_is_recorded_as_a_scan_and_stops_nothing(client, business):
    sent = send_first_touch(business)

    response = client.head(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert sent.enrollment.status == "active"
    assert Event.objects.get().kind == "review_link_scanned"
    assert Event.objects.get().payload["scanner"] == "head"


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))",
        "Mimecast-URL-Protect/1.0",
        "facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "python-requests/2.31.0",
        "",
    ],
)
def test_a_known_scanner_is_recorded_and_stops_nothing(client, business, agent):
    sent = send_first_touch(business)

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=agent)

    assert response.status_code == 302
    assert sent.enrollment.status == "active"
    assert Event.objects.get().kind == "review_link_scanned"


def test_a_fetch_seconds_after_the_send_is_a_scanner_but_the_customers_later_click_counts(
    client, business, clock
):
    sent = send_first_touch(business, sent_ago=timedelta(seconds=3))

    client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)
    assert sent.enrollment.status == "active"

    clock.shift(timedelta(minutes=20))
    client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert sent.enrollment.stop_reason == "review_clicked"
    assert sorted(Event.objects.values_list("kind", flat=True)) == [
        "review_clicked",
        "review_link_scanned",
    ]


def test_a_click_after_the_sequence_ended_still_redirects(client, business):
    sent = send_first_touch(business)
    enrollment = sent.enrollment
    enrollment.status, enrollment.completed_at = "completed", enrollment.enrolled_at
    enrollment.save()

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert sent.enrollment.status == "completed"


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "7b:not-a-signature",
        make_token(10**9, "review"),  # well signed, but no such delivery
        make_token(1, "unsubscribe"),  # a token for another purpose
    ],
)
def test_a_forged_or_unknown_token_gets_a_friendly_404_and_changes_nothing(client, business, token):
    sent = send_first_touch(business)
    if token == make_token(1, "unsubscribe"):
        token = make_token(sent.delivery.pk, "unsubscribe")

    response = client.get(f"/r/{token}", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 404
    assert b"This link doesn't work" in response.content
    assert b"Traceback" not in response.content
    assert not Event.objects.exists()
    assert sent.enrollment.status == "active"


def test_a_tampered_token_of_a_real_delivery_changes_nothing(client, business):
    sent = send_first_touch(business)
    other = send_first_touch(business)
    # The short token packs id * TAG_SPACE + tag: keep the real tag, put the other's id.
    tag = base62_value(make_token(sent.delivery.pk, "review")) % TAG_SPACE
    tampered = base62(other.delivery.pk * TAG_SPACE + tag)

    response = client.get(f"/r/{tampered}", HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 404
    assert other.enrollment.status == sent.enrollment.status == "active"


def test_a_click_on_a_link_that_leads_nowhere_never_stops_the_sequence(client, clock):
    business = make_business("Plain Plumbing")
    sent = send_first_touch(business)
    # A business set up before review destinations were required, then emptied.
    Business.objects.filter(pk=business.pk).update(review_url="", google_place_id="")

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 200
    assert b"Plain Plumbing" in response.content
    assert sent.enrollment.status == "active"
    assert sent.enrollment.stop_reason == ""


def test_the_token_is_not_leaked_to_the_review_site_or_caches(client, business):
    sent = send_first_touch(business)

    response = client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER)

    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"


def test_stopping_on_click_cancels_the_next_pending_touch(client, business):
    sent = send_first_touch(business)
    delivery = sent.delivery
    delivery.status = DeliveryStatus.PENDING
    delivery.save()

    client.get(review_path(delivery), HTTP_USER_AGENT=BROWSER)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.skip_reason) == ("cancelled", "review_clicked")


def test_the_404_page_is_the_friendly_one_even_with_debug_on(client, business, settings):
    settings.DEBUG = True

    response = client.get("/r/forged/and/more")

    assert response.status_code == 404
    assert b"This link doesn't work" in response.content
    assert b"URLconf" not in response.content
