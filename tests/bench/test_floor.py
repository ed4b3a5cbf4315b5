"""The benchmark's floor does what the engine does, or `engine_vs_floor` means nothing."""

from datetime import timedelta

import pytest
from django.db import connection

from bench.floor import floor_process
from tests.bulk import make_due_deliveries, unthrottled_business
from touchbase.campaigns.models import Enrollment, MessageTemplate
from touchbase.campaigns.services import TouchSpec, create_campaign
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery, DeliveryAttempt


def conninfo() -> str:
    from psycopg.conninfo import make_conninfo

    settings = connection.settings_dict
    return make_conninfo(
        dbname=settings["NAME"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_floor_sends_the_engines_message_and_moves_the_sequence_on():
    business = unthrottled_business()
    template = MessageTemplate.objects.get(system_key="sms_request")
    create_campaign(
        business=business,
        name="Bulk sms",  # make_due_deliveries enrolls into this campaign: two touches
        service_type="other",
        touches=[TouchSpec("sms", 1, template), TouchSpec("sms", 48, template)],
    )
    engine_ids = make_due_deliveries(business, 3)
    DeliveryEngine(transports={"sms": MemorySmsTransport()}).run_batch()
    floor_ids = make_due_deliveries(business, 3, first_id=3)

    assert floor_process(conninfo()) == 3

    floor = list(Delivery.objects.filter(pk__in=floor_ids).order_by("pk"))
    engine = list(Delivery.objects.filter(pk__in=engine_ids).order_by("pk"))
    for ours, theirs in zip(floor, engine, strict=True):
        assert (ours.status, ours.attempts, ours.lease_owner) == ("sent", 1, "")
        # The same words; only the customer's name and the signed link differ.
        assert ours.body_text.split()[:3] == theirs.body_text.split()[:3]
        assert len(ours.body_text) == pytest.approx(len(theirs.body_text), abs=4)
        following = Delivery.objects.get(enrollment_id=ours.enrollment_id, position=2)
        assert following.status == "pending"
        assert following.scheduled_at == ours.scheduled_at + timedelta(hours=48)
    assert DeliveryAttempt.objects.filter(delivery_id__in=floor_ids, outcome="sent").count() == 3
    assert set(
        Enrollment.objects.filter(deliveries__pk__in=floor_ids).values_list(
            "current_position", flat=True
        )
    ) == {2}
