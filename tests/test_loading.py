"""Models loaded without `Model.__init__` (touchbase/loading.py): the same objects Django
would make, and only for models where skipping `__init__` loses nothing."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init, pre_init
from django.test.utils import CaptureQueriesContext

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery
from touchbase.loading import FastLoad

FAST = [model for model in apps.get_models() if issubclass(model, FastLoad)]


def test_the_engines_models_load_fast():
    assert {model.__name__ for model in FAST} >= {"Delivery", "Enrollment", "Customer", "Job"}


@pytest.mark.parametrize("model", FAST, ids=lambda model: model.__name__)
def test_nothing_is_lost_by_skipping_init(model):
    assert model.__init__ is Model.__init__
    assert not pre_init.has_listeners(model)
    assert not post_init.has_listeners(model)


@pytest.mark.django_db
def test_a_loaded_object_is_the_one_django_makes():
    business = make_business()
    make_campaign(business)
    customer = make_customer(business, phone="+13055550123")
    result = complete_job(business, customer)
    delivery = Delivery.objects.get(enrollment_id=result.enrollment.enrollment_id)

    loaded = (
        Delivery.objects.select_related("enrollment__customer", "enrollment__job")
        .only(
            "status",
            "send_after",
            "enrollment__status",
            "enrollment__customer__name",
            "enrollment__job__service_type",
        )
        .get(pk=delivery.pk)
    )
    assert (loaded.pk, loaded.status, loaded.send_after) == (
        delivery.pk,
        delivery.status,
        delivery.send_after,
    )
    assert not loaded._state.adding and loaded._state.db == "default"
    with CaptureQueriesContext(connection) as related:
        assert loaded.enrollment.customer.name == "Pat Doe"
        assert loaded.enrollment.job.pk == result.job.pk
    assert len(related) == 0  # select_related's objects came with it
    with CaptureQueriesContext(connection) as deferred:
        assert loaded.enrollment.customer.phone == "+13055550123"
    assert len(deferred) == 1  # a column not loaded is read on first use, as with only()

    loaded.status = "held"
    loaded.save(update_fields=["status"])  # an UPDATE of the stored row, not an INSERT
    assert Delivery.objects.get(pk=delivery.pk).status == "held"
    assert Enrollment.objects.count() == 1
