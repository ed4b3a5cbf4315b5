import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer, make_user
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db


def test_home_needs_a_login(client):
    response = client.get("/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_home_shows_only_the_users_businesses(client):
    mine, theirs = make_business("Bright Air"), make_business("Rival Plumbing")
    make_campaign(mine, name="Our follow-up")
    make_campaign(theirs, name="Their secret sequence")
    complete_job(theirs, make_customer(theirs, "Secret Customer"))
    user = make_user()
    add_member(business=mine, user=user)
    client.force_login(user)

    page = client.get("/").content.decode()

    assert "Bright Air" in page and "Our follow-up" in page
    assert "Rival" not in page and "Secret" not in page


def test_health_check_answers_with_the_database_vendor(client):
    assert client.get("/healthz").json()["status"] == "ok"


def test_every_model_has_an_admin_page(admin_client):
    from django.apps import apps
    from django.contrib import admin

    for label in ("tenancy", "customers", "jobs", "campaigns", "delivery", "inbound"):
        for model in apps.get_app_config(label).get_models():
            assert admin.site.is_registered(model), model
            url = f"/admin/{label}/{model._meta.model_name}/"
            assert admin_client.get(url).status_code == 200, url
