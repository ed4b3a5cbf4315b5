"""Every form is protected against cross-site request forgery: each POST form on every page
carries the token, and each of their targets refuses a POST without it."""

from html.parser import HTMLParser

import pytest
from django.test import Client


class PostForms(HTMLParser):
    """(action, has a CSRF token) for every <form method="post"> of a page."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[list] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.forms.append([attrs.get("action") or self.page_url, False])
            self.inside = True
        elif tag == "input" and self.inside and attrs.get("name") == "csrfmiddlewaretoken":
            self.forms[-1][1] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def post_forms(client, url: str) -> list[list]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = PostForms(url)
    parser.feed(response.content.decode())
    return parser.forms


def pages(tenant) -> list[str]:
    return [
        "/",
        "/onboarding/",
        "/onboarding/campaign/",
        "/jobs/",
        "/jobs/new/",
        f"/jobs/{tenant.job.pk}/",
        f"/jobs/{tenant.job.pk}/edit/",
        "/customers/",
        "/customers/new/",
        f"/customers/{tenant.customer.pk}/",
        f"/customers/{tenant.customer.pk}/edit/",
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{tenant.campaign.pk}/",
        f"/campaigns/{tenant.campaign.pk}/edit/",
        "/templates/",
        "/templates/new/",
        f"/templates/{tenant.template.pk}/",
        "/activity/?status=all",
        "/settings/",
        "/settings/team/",
        "/settings/api-keys/",
        "/jobs/import/",
        "/business/new/",
    ]


ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"]


@pytest.fixture(autouse=True)
def open_sign_up(settings):
    settings.TOUCHBASE_SIGNUP = "open"


def test_every_post_form_on_every_page_carries_the_csrf_token(owner_client, mine):
    seen = 0
    for url in pages(mine):
        for action, has_token in post_forms(owner_client, url):
            assert has_token, f"a form on {url} posting to {action} has no CSRF token"
            seen += 1
    owner_client.logout()
    for url in ANONYMOUS_PAGES:
        for action, has_token in post_forms(owner_client, url):
            assert has_token, f"a form on {url} posting to {action} has no CSRF token"
            seen += 1
    assert seen > 25  # the walk really found the forms


def test_every_form_target_refuses_a_post_without_the_token(owner_client, mine):
    targets = {action for url in pages(mine) for action, _ in post_forms(owner_client, url)}
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mine.user)

    for action in sorted(targets):
        response = strict.post(action, {"name": "x"})
        assert response.status_code == 403, f"{action} accepted a POST without a CSRF token"


@pytest.mark.parametrize("url", [*ANONYMOUS_PAGES, "/accounts/logout/"])
def test_account_forms_refuse_a_post_without_the_token(db, url):
    response = Client(enforce_csrf_checks=True).post(url, {"email": "a@b.test"})

    assert response.status_code == 403


def test_a_post_with_the_token_is_accepted(mine):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mine.user)
    strict.get("/campaigns/")
    token = strict.cookies["csrftoken"].value

    response = strict.post(f"/campaigns/{mine.campaign.pk}/toggle/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 302
    mine.campaign.refresh_from_db()
    assert mine.campaign.status == "paused"
