from datetime import time

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_business
from touchbase.tenancy.models import Business
from touchbase.tenancy.services import update_business_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cooldown_days", 6, "from 7 to 90"),
        ("cooldown_days", 91, "from 7 to 90"),
        ("time_zone", "Eastern", "not an IANA time zone"),
        ("service_type_timing", {"chimney": 4}, "unknown service type 'chimney'"),
        ("service_type_timing", {"hvac": 0}, "from 1 to 720"),
        ("service_types", ["hvac", "teleportation"], "unknown service type"),
        ("send_window_start", time(7, 30), "earlier than 08:00"),
        ("send_window_end", time(21, 30), "later than 21:00"),
        ("sms_hourly_limit", 0, "at least 1"),
        ("review_url", "not a url", "valid URL"),
    ],
)
def test_bad_setting_is_refused_naming_the_field_and_nothing_changes(field, value, message):
    business = make_business(cooldown_days=45)

    with pytest.raises(ValidationError) as error:
        update_business_settings(business=business, **{"cooldown_days": 30, field: value})

    assert message in error.value.message_dict[field][0]
    assert Business.objects.get(pk=business.pk).cooldown_days == 45
    assert business.cooldown_days == 45


def test_settings_are_normalised_and_saved():
    business = make_business()

    update_business_settings(
        business=business,
        service_types=["HVAC", "pest control", "hvac"],
        service_type_timing={"Cleaning": 4},
        send_window_start=time(10),
        send_window_end=time(18),
    )

    business.refresh_from_db()
    assert business.service_types == ["hvac", "pest_control"]
    assert business.service_type_timing == {"cleaning": 4}
    assert (business.send_window_start, business.send_window_end) == (time(10), time(18))


def test_review_link_is_built_from_the_google_place_id():
    business = make_business(
        review_url="https://example.com/r", google_place_id="ChIJN1t_tDeuEmsRUsoyG83frY4"
    )

    assert business.review_link == (
        "https://search.google.com/local/writereview?placeid=ChIJN1t_tDeuEmsRUsoyG83frY4"
    )


def test_slugs_are_unique():
    assert make_business("Bright Air").slug == "bright-air"
    assert make_business("Bright Air").slug == "bright-air-2"
