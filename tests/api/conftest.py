import json

import pytest
from django.test import Client

from tests.factories import make_business
from touchbase.api.keys import create_api_key
from touchbase.api.ratelimit import buckets


class ApiClient:
    """Talks to /api/v1/ as one API key, in JSON."""

    def __init__(self, raw_key: str | None):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"} if raw_key else {}
        self.client = Client(**headers)

    def _call(self, method: str, path: str, body=None, **extra):
        url = f"/api/v1{path}"
        if body is None:
            return getattr(self.client, method)(url, **extra)
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return getattr(self.client, method)(url, data, content_type="application/json", **extra)

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path, body=None, **extra):
        return self._call("post", path, body if body is not None else {}, **extra)

    def patch(self, path, body, **extra):
        return self._call("patch", path, body, **extra)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    buckets.clear()
    yield
    buckets.clear()


@pytest.fixture
def business(db):
    return make_business("Bright Air")


@pytest.fixture
def api(business):
    return ApiClient(create_api_key(business=business, name="test").raw_key)


@pytest.fixture
def other_business(db):
    return make_business("Rival Plumbing")


@pytest.fixture
def other_api(other_business):
    return ApiClient(create_api_key(business=other_business, name="rival").raw_key)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]
