import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_business, make_user
from touchbase.tenancy.models import Business, Membership, User
from touchbase.tenancy.services import create_owner, rotate_webhook_secret, sign_up

pytestmark = pytest.mark.django_db


def test_sign_up_creates_the_login_the_business_and_the_owner_membership():
    result = sign_up(
        email="Ana@Sparkle.test", password="a-long-password-9", business_name="Sparkle"
    )

    assert result.user.email == "ana@sparkle.test"
    assert result.user.check_password("a-long-password-9")
    assert result.business.name == "Sparkle" and result.business.cooldown_days == 30
    membership = Membership.objects.get(user=result.user)
    assert (membership.business, membership.role) == (result.business, "owner")


def test_sign_up_names_every_bad_field_and_creates_nothing():
    with pytest.raises(ValidationError) as caught:
        sign_up(email="not-an-email", password="123", business_name="  ")

    assert set(caught.value.message_dict) == {"email", "password", "business_name"}
    assert not User.objects.exists() and not Business.objects.exists()


def test_sign_up_with_an_address_that_has_an_account_creates_nothing_and_tells_its_holder(
    mailoutbox,
):
    make_user("ana@sparkle.test")

    result = sign_up(email="ANA@sparkle.test", password="a-long-password-9", business_name="S")

    assert result.user is None and not Business.objects.exists()
    assert [m.to for m in mailoutbox] == [["ana@sparkle.test"]]
    assert "already has an account" in mailoutbox[0].body


def test_a_new_account_is_unverified_until_it_opens_the_emailed_link(client, mailoutbox):
    result = sign_up(email="ana@sparkle.test", password="a-long-password-9", business_name="S")
    assert not result.user.email_verified

    link = next(word for word in mailoutbox[0].body.split() if "/accounts/verify/" in word)
    client.get(link.removeprefix("http://127.0.0.1:8000"))

    result.user.refresh_from_db()
    assert result.user.email_verified


def test_create_owner_makes_a_verified_owner_and_refuses_a_taken_address():
    result = create_owner(email="Op@Install.test", password="a-long-password-9", business_name="B")

    assert result.user.email_verified and not result.user.is_staff
    assert Membership.objects.get(user=result.user).role == "owner"
    with pytest.raises(ValidationError) as caught:
        create_owner(email="op@install.test", password="a-long-password-9", business_name="C")
    assert "already has an account" in caught.value.message_dict["email"][0]


def test_rotating_the_webhook_secret_replaces_it():
    business = make_business()
    old = business.webhook_secret

    new = rotate_webhook_secret(business=business)

    business.refresh_from_db()
    assert business.webhook_secret == new != old and len(new) >= 32
