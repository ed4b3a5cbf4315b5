"""Issue 13, problem 5: the demo looks alive — history on every page, and a touch the
worker sends within a minute of start-up."""

from datetime import timedelta

import pytest

from tests.delivery.conftest import engine, sms_outbox  # noqa: F401 (fixtures)
from touchbase.delivery.models import Delivery
from touchbase.ops.demo import DEMO_EMAIL, seed_demo
from touchbase.tenancy.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_dashboard_has_weeks_of_history(client, clock):
    seed_demo()
    client.force_login(User.objects.get(email=DEMO_EMAIL))

    dash = client.get("/").context["dash"]
    activity = client.get("/activity/").content.decode()

    assert sum(dash.chart["series"][0]["values"]) > 0  # sent this week
    assert sum(dash.chart["series"][1]["values"]) > 0  # clicked this week
    assert dash.attention_count >= 1  # the uncertain send
    assert dash.recent_replies and dash.recent_feedback
    assert "It arrived: mark sent" in activity


def test_one_touch_falls_due_within_a_minute_and_the_worker_sends_it(
    engine,  # noqa: F811
    clock,
    mailoutbox,
    sms_outbox,  # noqa: F811
):
    seed_demo()
    assert engine.run_batch().claimed == 0

    clock.shift(timedelta(minutes=1))
    engine.run_batch()

    sent = Delivery.objects.filter(status="sent", sent_at__gte=clock_now() - timedelta(seconds=5))
    assert sent.count() == 1
    assert len(mailoutbox) + len(sms_outbox) == 1


def clock_now():
    from touchbase import clock

    return clock.now()
