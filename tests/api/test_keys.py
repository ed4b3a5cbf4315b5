import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from tests.api.conftest import ApiClient, error_of
from tests.factories import make_user
from touchbase.api.keys import create_api_key, revoke_api_key
from touchbase.api.models import ApiKey


def test_a_key_is_stored_only_as_its_hash_with_a_visible_prefix(business):
    new = create_api_key(business=business, name="Jobber sync")

    stored = ApiKey.objects.get(pk=new.api_key.pk)
    assert new.raw_key.startswith("tb_") and len(new.raw_key) > 40
    assert stored.key_hash == hashlib.sha256(new.raw_key.encode()).hexdigest()
    assert new.raw_key not in str(ApiKey.objects.filter(pk=stored.pk).values().first())
    assert new.raw_key.startswith(stored.prefix) and len(stored.prefix) == 10


def test_a_request_without_a_key_is_refused_with_401(api):
    response = ApiClient(None).get("/customers")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer tb_not-a-real-key", "Bearer ", "Basic dXNlcjpwdw=="])
def test_a_wrong_key_is_refused_with_401(business, header):
    response = Client(HTTP_AUTHORIZATION=header).get("/api/v1/customers")

    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_revoked_key_stops_working_at_once(business):
    new = create_api_key(business=business, name="old")
    api = ApiClient(new.raw_key)
    assert api.get("/customers").status_code == 200

    assert revoke_api_key(api_key=new.api_key) is True

    assert api.get("/customers").status_code == 401
    assert revoke_api_key(api_key=new.api_key) is False


def test_using_a_key_records_when_it_was_last_used(business, clock):
    new = create_api_key(business=business, name="zap")
    assert new.api_key.last_used_at is None

    ApiClient(new.raw_key).get("/customers")
    first = ApiKey.objects.get(pk=new.api_key.pk).last_used_at
    clock.shift(timedelta(hours=2))
    ApiClient(new.raw_key).get("/customers")

    assert first is not None
    assert ApiKey.objects.get(pk=new.api_key.pk).last_used_at == first + timedelta(hours=2)


def test_a_key_needs_a_name(business):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        create_api_key(business=business, name="  ")
    assert "name" in caught.value.message_dict


def test_the_admin_creates_a_key_and_shows_it_once(business):
    admin_user = make_user("ops@example.com")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)

    response = client.post(
        "/admin/api/apikey/add/", {"business": business.pk, "name": "From admin"}
    )

    key = ApiKey.objects.get(name="From admin")
    page = response.content.decode()
    raw = re.search(r"tb_[A-Za-z0-9_-]+", page).group(0)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    # Shown on the answering page only: never in a cookie (Django's messages cookie is
    # signed, not encrypted).
    assert all(raw not in morsel.value for morsel in response.cookies.values())
    assert raw not in client.get("/admin/api/apikey/").content.decode()
    assert hashlib.sha256(raw.encode()).hexdigest() == key.key_hash
    assert ApiClient(raw).get("/customers").status_code == 200
    detail = client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert raw not in detail and key.prefix in detail


def test_the_admin_revokes_keys_with_an_action(business):
    admin_user = make_user("ops2@example.com")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    new = create_api_key(business=business, name="to revoke")

    client.post(
        "/admin/api/apikey/",
        {"action": "revoke_selected", "_selected_action": [new.api_key.pk]},
    )

    assert ApiKey.objects.get(pk=new.api_key.pk).revoked_at is not None
    assert ApiClient(new.raw_key).get("/customers").status_code == 401
    assert site._registry[ApiKey].has_delete_permission(None) is False
