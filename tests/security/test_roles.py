"""Roles: staff run jobs, customers and campaigns; only owners change settings, sender
identity, API keys, webhooks and the team. Checked on every settings route, for each role."""

from datetime import timedelta

import pytest
from django.test import Client

from tests.factories import failed_message, make_customer
from tests.security.conftest import url_patterns
from touchbase import clock
from touchbase.api.keys import create_api_key
from touchbase.tenancy.models import Invitation, Membership

pytestmark = pytest.mark.django_db

# Every route under these prefixes is owner-only; the walk below fails when a new one
# appears without being listed here with the request that exercises it.
OWNER_PREFIXES = ("settings/", "onboarding/")


def owner_routes(business, staff) -> dict[str, tuple[str, dict]]:
    api_key = create_api_key(business=business, name="sync").api_key
    invitation = Invitation.objects.create(
        business=business,
        email="x@y.test",
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=1),
    )
    member = Membership.objects.get(user=staff, business=business)
    endpoint, message = failed_message(business)
    return {
        "settings/": ("/settings/", {"name": "Hacked"}),
        "settings/test-message/": ("/settings/test-message/", {"channel": "email"}),
        "settings/brand/": ("/settings/brand/", {"colour": "#000000"}),
        "settings/phone/": ("/settings/phone/", {"phone": "+13055550142"}),
        "settings/team/": ("/settings/team/", {"email": "friend@evil.test", "role": "owner"}),
        "settings/team/invitations/<int:pk>/revoke/": (
            f"/settings/team/invitations/{invitation.pk}/revoke/",
            {},
        ),
        "settings/team/members/<int:pk>/remove/": (
            f"/settings/team/members/{member.pk}/remove/",
            {},
        ),
        "settings/api-keys/": ("/settings/api-keys/", {"name": "stolen"}),
        "settings/api-keys/<int:pk>/revoke/": (f"/settings/api-keys/{api_key.pk}/revoke/", {}),
        "settings/webhook-secret/": ("/settings/webhook-secret/", {}),
        "settings/webhooks/": ("/settings/webhooks/", {"url": "https://93.184.215.14/x"}),
        "settings/webhooks/<int:pk>/": (f"/settings/webhooks/{endpoint.pk}/", {}),
        "settings/webhooks/<int:pk>/enable/": (f"/settings/webhooks/{endpoint.pk}/enable/", {}),
        "settings/webhooks/<int:pk>/delete/": (f"/settings/webhooks/{endpoint.pk}/delete/", {}),
        "settings/webhooks/messages/<int:pk>/replay/": (
            f"/settings/webhooks/messages/{message.pk}/replay/",
            {},
        ),
        "onboarding/": ("/onboarding/", {"name": "Hacked"}),
    }


def test_every_owner_only_route_is_covered(business, staff):
    routes = owner_routes(business, staff)
    listed = {r for r in url_patterns() if r.startswith(OWNER_PREFIXES)} - {"onboarding/campaign/"}

    assert listed == set(routes)


def test_staff_get_403_on_every_settings_route_and_change_nothing(business, staff, owner):
    routes = owner_routes(business, staff)
    client = Client()
    client.force_login(staff)
    secret, name = business.webhook_secret, business.name

    for route, (url, data) in routes.items():
        assert client.get(url).status_code in (403, 405), route
        assert client.post(url, data).status_code == 403, route

    business.refresh_from_db()
    assert (business.webhook_secret, business.name) == (secret, name)
    assert business.api_keys.filter(revoked_at__isnull=True).count() == 1
    assert Membership.objects.filter(business=business).count() == 2
    assert Invitation.objects.filter(email="friend@evil.test").count() == 0


def test_owners_open_every_settings_route(business, staff, owner):
    routes = owner_routes(business, staff)
    client = Client()
    client.force_login(owner)

    for route, (url, _data) in routes.items():
        if route.endswith(
            (
                "revoke/",
                "remove/",
                "test-message/",
                "phone/",
                "secret/",
                "enable/",
                "delete/",
                "replay/",
            )
        ):
            continue  # POST-only actions, exercised below
        assert client.get(url).status_code == 200, route
    assert client.post(routes["settings/webhook-secret/"][0]).status_code == 302
    assert client.post(routes["settings/team/members/<int:pk>/remove/"][0]).status_code == 302
    assert not Membership.objects.filter(user=staff).exists()


def test_staff_run_jobs_customers_and_campaigns(business, staff):
    customer = make_customer(business, "Pat Doe")
    client = Client()
    client.force_login(staff)

    for url in [
        "/",
        "/jobs/",
        "/jobs/new/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/campaigns/",
        "/campaigns/new/",
        "/templates/",
        "/activity/",
        "/jobs/import/",
    ]:
        assert client.get(url).status_code == 200, url
    assert 'href="/settings/"' not in client.get("/").content.decode()
