from datetime import timedelta

from tests.api.conftest import error_of
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.campaigns.services import pause_campaign


def test_campaigns_list_and_read_with_their_touches(api, business):
    standard = make_campaign(business, service_type="hvac")
    aggressive = make_campaign(business, "aggressive")
    pause_campaign(campaign=aggressive)

    listed = api.get("/campaigns").json()["items"]
    read = api.get(f"/campaigns/{standard.pk}").json()

    assert [c["id"] for c in listed] == [aggressive.pk, standard.pk]
    assert listed[0]["status"] == "paused" and listed[0]["service_type"] is None
    assert [(t["position"], t["channel"], t["delay_hours"]) for t in read["touches"]] == [
        (1, "email", 24),
        (2, "email", 72),
        (3, "sms", 168),
    ]


def test_presets_are_not_the_business_campaigns(api, business):
    from tests.factories import preset

    assert api.get("/campaigns").json()["items"] == []
    assert api.get(f"/campaigns/{preset('standard').pk}").status_code == 404


def test_deliveries_are_listed_with_filters(api, business, clock):
    make_campaign(business, service_type="hvac")
    make_campaign(business, "aggressive", service_type="plumbing")
    maria = make_customer(business, "Maria")
    first = complete_job(business, maria).job
    clock.shift(timedelta(days=40))
    james = make_customer(business, "James")
    second = complete_job(business, james, "plumbing").job
    first_enrollment = Enrollment.objects.get(job=first)

    def ids(**params):
        return [d["enrollment_id"] for d in api.get("/deliveries", **params).json()["items"]]

    second_enrollment = Enrollment.objects.get(job=second)
    assert ids() == [second_enrollment.pk, first_enrollment.pk]
    assert ids(channel="sms") == [second_enrollment.pk]
    assert ids(customer_id=maria.pk) == [first_enrollment.pk]
    assert ids(enrollment_id=first_enrollment.pk) == [first_enrollment.pk]
    assert ids(status="pending") == [second_enrollment.pk, first_enrollment.pk]
    assert ids(status="sent") == []
    assert ids(scheduled_before="2026-03-10T00:00:00Z") == [first_enrollment.pk]
    assert ids(scheduled_after="2026-03-10T00:00:00Z") == [second_enrollment.pk]
    assert "channel" in error_of(api.get("/deliveries", channel="fax"))["fields"]
