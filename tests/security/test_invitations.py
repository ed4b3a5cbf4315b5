"""Invitations: an emailed, signed, expiring link that only the invited address, logged in,
can accept; owners revoke invitations and remove members."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client

from tests.factories import make_customer, make_user
from tests.security.conftest import link_in_last_email
from touchbase.tenancy.models import Membership, User

pytestmark = pytest.mark.django_db


def invite(client, email="dana@brightair.test", role="staff"):
    return client.post("/settings/team/", {"email": email, "role": role})


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_a_stranger_holding_the_invited_address_gains_nothing(owner_client, business):
    customer = make_customer(business, "Secret Customer")
    stranger = make_user("dana@brightair.test")  # signed up first, with the teammate's address
    invite(owner_client)

    as_stranger = Client()
    as_stranger.force_login(stranger)
    assert not Membership.objects.filter(user=stranger, business=business).exists()
    assert as_stranger.get(f"/customers/{customer.pk}/").status_code in (302, 404)
    assert "Secret Customer" not in as_stranger.get("/customers/", follow=True).content.decode()


def test_only_a_person_logged_in_with_the_invited_address_can_accept(owner_client, business):
    invite(owner_client)
    link = link_in_last_email("/invitations/")
    someone_else = Client()
    someone_else.force_login(make_user("eve@evil.test"))

    refused = someone_else.post(link)

    assert refused.status_code == 403 and "dana@brightair.test" in refused.content.decode()
    assert Membership.objects.filter(business=business).count() == 1  # the owner only


def test_the_invited_person_with_an_account_logs_in_and_accepts(owner_client, business):
    dana = make_user("dana@brightair.test")
    invite(owner_client, role="staff")
    link = link_in_last_email("/invitations/")
    anonymous = Client()
    assert "log in as dana@brightair.test" in anonymous.get(link).content.decode()
    assert anonymous.post(link, {"password": "a-long-pass-9"}).status_code == 403
    assert not dana.memberships.exists()

    as_dana = Client()
    as_dana.force_login(dana)
    response = as_dana.post(link)

    assert response.status_code == 302
    assert Membership.objects.get(user=dana, business=business).role == "staff"
    assert as_dana.post(link).status_code == 404  # used once


def test_a_new_person_chooses_a_password_and_joins_verified(business, owner_client):
    invite(owner_client, role="owner")
    link = link_in_last_email("/invitations/")
    newcomer = Client()

    response = newcomer.post(link, {"password": "a-long-pass-9"})

    assert response.status_code == 302
    dana = User.objects.get(email="dana@brightair.test")
    assert dana.email_verified and dana.check_password("a-long-pass-9")
    assert Membership.objects.get(user=dana, business=business).role == "owner"
    assert newcomer.get("/").status_code == 200


def test_the_link_expires(owner_client, clock):
    invite(owner_client)
    link = link_in_last_email("/invitations/")
    clock.shift(timedelta(days=8))

    response = Client().post(link, {"password": "a-long-pass-9"})

    assert response.status_code == 404
    assert not User.objects.filter(email="dana@brightair.test").exists()


def test_a_forged_or_altered_link_is_refused(owner_client):
    invite(owner_client)
    link = link_in_last_email("/invitations/")

    assert Client().get(link[:-4] + "abc/").status_code == 404
    assert Client().get("/invitations/1/").status_code == 404


def test_a_revoked_invitation_stops_working(owner_client, business):
    invite(owner_client)
    link = link_in_last_email("/invitations/")
    invitation = business.invitations.get()

    owner_client.post(f"/settings/team/invitations/{invitation.pk}/revoke/")

    assert Client().post(link, {"password": "a-long-pass-9"}).status_code == 404
    assert "Revoke invitation for" not in owner_client.get("/settings/team/").content.decode()


def test_inviting_again_replaces_the_old_link(owner_client):
    invite(owner_client)
    old = link_in_last_email("/invitations/")
    invite(owner_client)

    assert Client().get(old).status_code == 404
    assert Client().get(link_in_last_email("/invitations/")).status_code == 200


def test_a_removed_member_loses_access_at_once(owner_client, business, staff):
    customer = make_customer(business, "Secret Customer")
    as_staff = Client()
    as_staff.force_login(staff)
    assert as_staff.get(f"/customers/{customer.pk}/").status_code == 200
    membership = Membership.objects.get(user=staff, business=business)

    owner_client.post(f"/settings/team/members/{membership.pk}/remove/")

    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert as_staff.get(f"/customers/{customer.pk}/").status_code in (302, 404)


def test_the_last_owner_cannot_be_removed(owner_client, business, owner):
    membership = Membership.objects.get(user=owner, business=business)

    response = owner_client.post(f"/settings/team/members/{membership.pk}/remove/", follow=True)

    assert "needs at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_another_business_cannot_revoke_or_remove_here(business, staff, owner):
    from tests.factories import make_business
    from touchbase.tenancy.services import add_member

    rival = make_business("Rival")
    rival_owner = make_user("boss@rival.test")
    add_member(business=rival, user=rival_owner, role="owner")
    as_rival = Client()
    as_rival.force_login(rival_owner)
    membership = Membership.objects.get(user=staff, business=business)

    as_rival.post(f"/settings/team/members/{membership.pk}/remove/")

    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_invitation_answers_alike_whether_or_not_the_address_has_an_account(owner_client):
    make_user("known@elsewhere.test")

    known = invite(owner_client, email="known@elsewhere.test")
    unknown = invite(owner_client, email="nobody@elsewhere.test")

    assert known.status_code == unknown.status_code == 302
    assert not User.objects.filter(email="nobody@elsewhere.test").exists()
    assert mail.outbox[0].subject == mail.outbox[1].subject
    first = mail.outbox[0].body.split("/invitations/")
    second = mail.outbox[1].body.split("/invitations/")
    assert first[0] == second[0]  # the same words before the link


def test_invitations_are_limited_per_business(owner_client):
    for n in range(20):
        invite(owner_client, email=f"p{n}@x.test")

    response = invite(owner_client, email="one-too-many@x.test")

    assert "too many invitations" in response.content.decode()
    assert len(mail.outbox) == 20
