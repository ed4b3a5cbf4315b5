"""Every URL pattern of the web app, tried by every kind of visitor with another business's
ids and with junk: no server error, and nothing of the other business changes."""

import pytest
from django.test import Client

from tests.security.conftest import url_patterns
from tests.web.conftest import make_tenant
from tests.web.test_isolation import OBJECT_PAGES
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db
JUNK = {
    "name": "\x00<script>",
    "email": "a@",
    "phone": "\x00",
    "code": "x" * 500,
    "channel": "fax",
    "role": "admin",
    "business": "abc",
    "q": "\x00",
}


def web_patterns() -> list[str]:
    return [p for p in url_patterns() if not p.startswith(("api/", "admin/", "hooks/", "static/"))]


def test_every_web_route_with_an_id_is_in_the_isolation_matrix():
    covered = {pattern.strip("/").replace("{}", "<int:pk>") for _, pattern, _ in OBJECT_PAGES}

    assert {p.strip("/") for p in web_patterns() if "<int:pk>" in p} == covered


def test_no_route_answers_5xx_to_any_visitor(db):
    mine, theirs = make_tenant("Bright Air"), make_tenant("Rival Plumbing")
    staff = make_tenant("Staff Home").user
    add_member(business=mine.business, user=staff, role="staff")
    visitors = {"anonymous": Client(raise_request_exception=False)}
    for name, user in {"owner": mine.user, "staff": staff}.items():
        visitors[name] = Client(raise_request_exception=False)
        visitors[name].force_login(user)
    urls = []
    for pattern in web_patterns():
        if pattern == "accounts/logout/":
            continue  # would end the visitor's session half-way through the walk
        url = "/" + pattern.replace("<int:pk>", str(theirs.job.pk))
        url = url.replace("<str:token>", "forged").replace("<uidb64>/<token>", "MQ/forged")
        urls.append(url)

    failures = []
    for name, client in visitors.items():
        for url in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url, JUNK)
                # /healthz's 503 is its answer (no worker reports in a test), not an error.
                designed = url == "/healthz" and response.status_code == 503
                if response.status_code >= 500 and not designed:
                    failures.append((name, method, url, response.status_code))

    assert failures == []
    theirs.business.refresh_from_db()
    assert theirs.business.name == "Rival Plumbing"
