"""Who can make an account: closed by default; open only when the operator says so, and
then a new account sends nothing until its address is confirmed."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from tests.factories import complete_job, make_campaign, make_customer
from tests.security.conftest import link_in_last_email, page_text
from touchbase import clock as product_clock
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery
from touchbase.tenancy.models import Business, Membership, User

pytestmark = pytest.mark.django_db
SIGN_UP = {"business_name": "Sparkle", "email": "ana@sparkle.test", "password": "a-long-pass-9"}


@pytest.fixture
def open_sign_up(settings):
    settings.TOUCHBASE_SIGNUP = "open"


def test_sign_up_is_closed_by_default_and_creates_nothing(client):
    assert client.get("/accounts/signup/").status_code == 403
    response = client.post("/accounts/signup/", SIGN_UP)

    assert response.status_code == 403 and "closed" in response.content.decode()
    assert not User.objects.exists() and not Business.objects.exists() and not mail.outbox
    assert "Sign up" not in client.get("/accounts/login/").content.decode()


def test_a_malformed_sign_up_setting_stops_the_process(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from touchbase.env import envchoice

    monkeypatch.setenv("TOUCHBASE_SIGNUP", "maybe")
    with pytest.raises(ImproperlyConfigured, match="TOUCHBASE_SIGNUP"):
        envchoice("TOUCHBASE_SIGNUP", "closed", ("open", "closed"))


def test_createowner_makes_the_first_owner_who_can_log_in(client, monkeypatch):
    monkeypatch.setenv("OWNER_PASSWORD", "a-long-pass-9")

    call_command(
        "createowner", email="Op@Install.test", business="Bright Air", password_env="OWNER_PASSWORD"
    )

    user = User.objects.get(email="op@install.test")
    assert user.email_verified and not user.is_superuser
    assert Membership.objects.get(user=user).business.name == "Bright Air"
    client.post("/accounts/login/", {"username": "op@install.test", "password": "a-long-pass-9"})
    assert client.get("/").status_code == 200


def test_createowner_names_the_bad_field(monkeypatch):
    monkeypatch.setenv("OWNER_PASSWORD", "123")

    with pytest.raises(CommandError, match="password"):
        call_command("createowner", email="op@x.test", business="B", password_env="OWNER_PASSWORD")
    assert not User.objects.exists()


def test_an_open_sign_up_answers_alike_whether_or_not_the_email_has_an_account(
    client, open_sign_up
):
    new = client.post("/accounts/signup/", SIGN_UP)
    taken = client.post("/accounts/signup/", {**SIGN_UP, "business_name": "Other"})

    assert new.status_code == taken.status_code == 200
    assert page_text(new) == page_text(taken)
    assert Business.objects.count() == 1  # the second created nothing
    assert "confirm your address" in mail.outbox[0].body
    assert "already has an account" in mail.outbox[1].body  # told to the holder only


def test_a_new_owner_sends_nothing_until_the_email_is_confirmed(client, open_sign_up, clock):
    client.post("/accounts/signup/", SIGN_UP)
    verify = link_in_last_email("/accounts/verify/")
    business = Business.objects.get(name="Sparkle")
    business.review_url, business.postal_address = "https://g.page/r/x/review", "1 Main St"
    business.save()
    make_campaign(business, "standard")
    complete_job(business, make_customer(business, email="victim@example.com"))
    Delivery.objects.update(send_after=product_clock.now())

    engine = DeliveryEngine(
        owner="t",
        concurrency=1,
        transports={"email": DjangoEmailTransport("django.core.mail.backends.locmem.EmailBackend")},
    )
    engine.run_batch()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.defer_reason) == ("pending", "owner_unverified")
    assert len(mail.outbox) == 1  # only the confirmation link

    client.get(verify)
    Delivery.objects.update(send_after=product_clock.now())
    engine.run_batch()
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"
    assert mail.outbox[-1].to == ["victim@example.com"]


def test_the_confirmation_link_cannot_be_forged(client, open_sign_up):
    client.post("/accounts/signup/", SIGN_UP)
    link = link_in_last_email("/accounts/verify/")

    assert client.get(link[:-3] + "xyz/").status_code == 404
    assert not User.objects.get().email_verified


def test_sign_up_is_rate_limited_per_address(client, open_sign_up):
    codes = [
        client.post("/accounts/signup/", {**SIGN_UP, "email": f"a{i}@x.test"}).content
        for i in range(7)
    ]

    assert User.objects.count() == 5
    assert b"Too many attempts" in codes[-1]


def test_on_a_closed_install_an_invited_teammate_cannot_open_a_business_of_their_own(
    client, staff, owner
):
    client.force_login(staff)
    assert client.post("/business/new/", {"name": "Spam Inc"}).status_code == 403
    client.force_login(owner)
    assert client.post("/business/new/", {"name": "Second Shop"}).status_code == 302
    assert not Business.objects.filter(name="Spam Inc").exists()
