import pytest
from django.test import Client

from tests.inbound.conftest import send_first_touch
from touchbase.customers.reachability import email_block
from touchbase.inbound.links import make_token
from touchbase.inbound.models import Event, Feedback

pytestmark = pytest.mark.django_db


def feedback_path(delivery) -> str:
    return f"/f/{make_token(delivery.pk, 'feedback')}"


def unsubscribe_path(delivery) -> str:
    return f"/u/{make_token(delivery.pk, 'unsubscribe')}"


@pytest.fixture
def strict_client():
    """A client that enforces CSRF like a browser-less mail client would meet it."""
    return Client(enforce_csrf_checks=True)


# --- private feedback -----------------------------------------------------------------------


def test_the_feedback_page_offers_the_review_link_beside_the_form(client, business):
    sent = send_first_touch(business)

    response = client.get(feedback_path(sent.delivery))

    assert response.status_code == 200
    assert f"/r/{make_token(sent.delivery.pk, 'review')}".encode() in response.content
    assert b'name="message"' in response.content
    assert sent.enrollment.status == "active"


def test_submitted_feedback_is_kept_for_the_owner_and_stops_the_sequence(strict_client, business):
    sent = send_first_touch(business)

    response = strict_client.post(
        feedback_path(sent.delivery), {"message": "  The tech was late.  "}
    )

    assert response.status_code == 200
    feedback = Feedback.objects.get()
    assert (feedback.message, feedback.business, feedback.customer) == (
        "The tech was late.",
        business,
        sent.customer,
    )
    assert (sent.enrollment.status, sent.enrollment.stop_reason) == (
        "stopped",
        "feedback_submitted",
    )
    assert Event.objects.get().kind == "feedback_submitted"


def test_empty_feedback_is_refused_with_a_message_and_nothing_is_stored(client, business):
    sent = send_first_touch(business)

    response = client.post(feedback_path(sent.delivery), {"message": "   "})

    assert response.status_code == 400
    assert b"please write a few words" in response.content
    assert not Feedback.objects.exists()
    assert sent.enrollment.status == "active"


def test_overlong_feedback_is_refused(client, business):
    sent = send_first_touch(business)

    response = client.post(feedback_path(sent.delivery), {"message": "x" * 5001})

    assert response.status_code == 400
    assert b"longer than 5000 characters" in response.content
    assert not Feedback.objects.exists()


def test_a_second_submission_changes_nothing(client, business):
    sent = send_first_touch(business)
    client.post(feedback_path(sent.delivery), {"message": "First"})

    response = client.post(feedback_path(sent.delivery), {"message": "Second"})

    assert response.status_code == 200
    assert list(Feedback.objects.values_list("message", flat=True)) == ["First"]
    assert Event.objects.count() == 1


def test_a_forged_feedback_token_gets_the_friendly_404(client, business):
    sent = send_first_touch(business)

    response = client.post(f"/f/{make_token(sent.delivery.pk, 'review')}", {"message": "hello"})

    assert response.status_code == 404
    assert not Feedback.objects.exists()


# --- email unsubscribe ----------------------------------------------------------------------


def test_the_unsubscribe_page_asks_for_confirmation_and_changes_nothing(client, business):
    sent = send_first_touch(business)

    response = client.get(unsubscribe_path(sent.delivery))

    assert response.status_code == 200
    assert b"Unsubscribe from Cool Air HVAC emails?" in response.content
    assert email_block(sent.customer) is None


def test_one_click_unsubscribe_works_without_cookies_csrf_or_login(strict_client, business):
    sent = send_first_touch(business, phone="3055550142", sms_consent=True)

    response = strict_client.post(
        unsubscribe_path(sent.delivery),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not response.cookies
    assert email_block(sent.customer) == "email_opted_out"
    # The SMS touch of the Standard campaign can still reach the customer.
    assert sent.enrollment.status == "active"
    assert Event.objects.get().kind == "email_unsubscribed"


def test_unsubscribing_stops_the_sequence_when_nothing_else_can_reach_the_customer(
    strict_client, business
):
    sent = send_first_touch(business)  # email only, no phone

    strict_client.post(unsubscribe_path(sent.delivery), {"action": "unsubscribe"})

    assert (sent.enrollment.status, sent.enrollment.stop_reason) == (
        "stopped",
        "opted_out_email",
    )


def test_unsubscribing_twice_records_one_opt_out(client, business):
    sent = send_first_touch(business)
    client.post(unsubscribe_path(sent.delivery))
    opted_out_at = sent.customer.email_opted_out_at

    client.post(unsubscribe_path(sent.delivery))

    assert sent.customer.email_opted_out_at == opted_out_at
    assert Event.objects.count() == 1


def test_the_same_page_resubscribes(strict_client, business):
    sent = send_first_touch(business, phone="3055550142", sms_consent=True)
    strict_client.post(unsubscribe_path(sent.delivery))

    page = strict_client.get(unsubscribe_path(sent.delivery))
    response = strict_client.post(unsubscribe_path(sent.delivery), {"action": "resubscribe"})

    assert b"Subscribe again" in page.content
    assert b"You are subscribed again" in response.content
    assert email_block(sent.customer) is None
    assert sorted(Event.objects.values_list("kind", flat=True)) == [
        "email_resubscribed",
        "email_unsubscribed",
    ]


def test_a_forged_unsubscribe_token_changes_nothing(client, business):
    sent = send_first_touch(business)

    response = client.post(f"/u/{make_token(sent.delivery.pk, 'review')}")

    assert response.status_code == 404
    assert email_block(sent.customer) is None


def test_a_deleted_customers_link_unsubscribes_nothing_and_offers_no_resubscribe(client, business):
    from touchbase.customers.services import delete_customer

    sent = send_first_touch(business)
    delete_customer(customer=sent.customer)

    response = client.post(unsubscribe_path(sent.delivery))

    assert response.status_code == 200
    assert b"Subscribe again" not in response.content
    assert not Event.objects.exists()


def test_the_owner_sees_feedback_of_their_own_business_only(client, business):
    from tests.factories import make_business
    from touchbase.inbound.selectors import recent_feedback

    sent = send_first_touch(business)
    client.post(feedback_path(sent.delivery), {"message": "Great work"})

    assert [f.message for f in recent_feedback(business)] == ["Great work"]
    assert not recent_feedback(make_business("Other Co")).exists()
