import pytest
from django.core.exceptions import ValidationError

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.clock import now
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.services import mark_uncertain_sent, requeue_uncertain

pytestmark = pytest.mark.django_db


@pytest.fixture
def uncertain(clock):
    business = make_business()
    make_campaign(business, "conservative")
    job = complete_job(business, make_customer(business)).job
    delivery = Delivery.objects.get(enrollment__job=job)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.UNCERTAIN, error_code="lease_expired"
    )
    delivery.refresh_from_db()
    return delivery


def test_the_owner_can_record_an_uncertain_delivery_as_sent(uncertain):
    mark_uncertain_sent(delivery=uncertain)

    assert uncertain.status == DeliveryStatus.SENT and uncertain.sent_at is not None


def test_the_owner_can_requeue_an_uncertain_delivery_to_go_out_now(uncertain):
    requeue_uncertain(delivery=uncertain)

    assert uncertain.status == DeliveryStatus.PENDING
    assert uncertain.send_after == now()
    assert uncertain.lease_expires_at is None and uncertain.defer_reason == "requeued_by_owner"


def test_a_delivery_that_is_no_longer_uncertain_cannot_be_settled_again(uncertain):
    mark_uncertain_sent(delivery=uncertain)

    with pytest.raises(ValidationError, match="no longer uncertain"):
        requeue_uncertain(delivery=uncertain)
    with pytest.raises(ValidationError, match="no longer uncertain"):
        mark_uncertain_sent(delivery=uncertain)


def test_requeueing_is_refused_once_the_sequence_has_ended(uncertain):
    stop_enrollment(enrollment=uncertain.enrollment)
    uncertain.refresh_from_db()

    with pytest.raises(ValidationError, match="sequence has ended"):
        requeue_uncertain(delivery=uncertain)
    assert Delivery.objects.get(pk=uncertain.pk).status == DeliveryStatus.UNCERTAIN


def test_the_admin_shows_a_delivery_but_cannot_change_its_status(admin_client, uncertain):
    url = f"/admin/delivery/delivery/{uncertain.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()

    admin_client.post(url, {"status": "pending"})

    assert Delivery.objects.get(pk=uncertain.pk).status == "uncertain"
