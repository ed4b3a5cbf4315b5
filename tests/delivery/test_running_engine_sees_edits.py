"""A running engine uses what the owner or the operator saved at its very next batch: the
template's text, the sequence's touches, a state's send-window rule. Guards any per-process
cache of these (one engine instance across batches, as a worker runs it)."""

from datetime import time

import pytest

from tests.delivery.test_engine import at, enroll, fresh
from tests.factories import make_business, make_customer
from touchbase.campaigns.services import (
    TouchSpec,
    create_template,
    set_campaign_touches,
    update_template,
)
from touchbase.delivery.models import DeliveryStatus, SendWindowRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    return make_business("Cool Air", email_hourly_limit=1000, sms_hourly_limit=1000)


def own_email_template(business, body: str):
    """The campaign's first touch on a template of the business's own."""
    template = create_template(
        business=business, name="Ours", channel="email", subject="Thanks", body=body
    )
    campaign = business.campaigns.get()
    set_campaign_touches(
        campaign=campaign,
        touches=[TouchSpec(channel="email", delay_hours=2, template=template)],
    )
    return template


EDITS = {
    "an edited template": lambda business, template: update_template(
        template=template, body="Second words {{review_link}}"
    ),
    "a new sequence": lambda business, template: own_email_template(
        business, "Second words {{review_link}}"
    ),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_the_owners_edit_is_used_at_the_next_batch(engine, business, clock, mailoutbox, edit):
    first = enroll(business)
    template = own_email_template(business, "First words {{review_link}}")
    at(clock, first.send_after)
    engine.run_batch()
    assert "First words" in mailoutbox[-1].body

    edit(business, template)
    second = enroll(business, make_customer(business, "Pat Doe", email="pat@example.com"))
    at(clock, second.send_after)
    engine.run_batch()

    assert fresh(second).status == DeliveryStatus.SENT
    assert "Second words" in mailoutbox[-1].body


def test_an_edited_state_rule_is_used_at_the_next_batch(engine, business, clock, sms_outbox):
    first = enroll(business, preset="aggressive", phone="+13055550142", sms_consent=True)
    at(clock, first.send_after)
    engine.run_batch()
    assert fresh(first).status == DeliveryStatus.SENT

    # The operator moves Florida's window past the owner's: the next text has no legal window.
    SendWindowRule.objects.update_or_create(
        region="US-FL", defaults={"earliest": time(21), "latest": time(22)}
    )
    second = enroll(
        business,
        make_customer(business, "Pat Doe", phone="+13055550143", sms_consent=True),
    )
    at(clock, second.send_after)
    engine.run_batch()

    assert fresh(second).status == DeliveryStatus.SKIPPED
    assert fresh(second).skip_reason == "no_legal_window"
