import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_business, make_user
from touchbase.tenancy.models import Business, Membership, User
from touchbase.tenancy.services import invite_member, rotate_webhook_secret, sign_up

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


def test_sign_up_refuses_an_email_that_already_has_an_account():
    make_user("ana@sparkle.test")

    with pytest.raises(ValidationError) as caught:
        sign_up(email="ANA@sparkle.test", password="a-long-password-9", business_name="Sparkle")

    assert "already exists" in caught.value.message_dict["email"][0]
    assert not Business.objects.exists()


def test_inviting_a_new_person_creates_a_login_without_a_usable_password():
    business = make_business("Bright Air")

    invitation = invite_member(business=business, email="Dana@BrightAir.test")

    assert invitation.new_user
    user = invitation.membership.user
    assert user.email == "dana@brightair.test" and not user.has_usable_password()
    assert invitation.membership.role == "staff"


def test_inviting_someone_with_an_account_adds_them_to_the_business():
    first, second = make_business("Bright Air"), make_business("Cool Air")
    dana = make_user("dana@brightair.test")
    invite_member(business=first, email="dana@brightair.test")

    invitation = invite_member(business=second, email="dana@brightair.test", role="owner")

    assert not invitation.new_user
    assert set(dana.memberships.values_list("business__name", "role")) == {
        ("Bright Air", "staff"),
        ("Cool Air", "owner"),
    }


def test_inviting_a_member_twice_is_refused_with_the_reason():
    business = make_business("Bright Air")
    invite_member(business=business, email="dana@brightair.test")

    with pytest.raises(ValidationError) as caught:
        invite_member(business=business, email="dana@brightair.test")

    assert "already a member" in caught.value.message_dict["email"][0]


def test_inviting_with_a_bad_email_or_role_names_the_field():
    business = make_business()

    with pytest.raises(ValidationError) as bad_email:
        invite_member(business=business, email="dana")
    with pytest.raises(ValidationError) as bad_role:
        invite_member(business=business, email="dana@x.test", role="admin")

    assert "email" in bad_email.value.message_dict
    assert "role" in bad_role.value.message_dict


def test_rotating_the_webhook_secret_replaces_it():
    business = make_business()
    old = business.webhook_secret

    new = rotate_webhook_secret(business=business)

    business.refresh_from_db()
    assert business.webhook_secret == new != old and len(new) >= 32
