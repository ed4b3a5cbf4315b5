import re

import pytest
from django.core import mail
from django.urls import URLPattern, get_resolver

from tests.factories import make_business, make_user
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.tenancy.services import add_member


@pytest.fixture
def business(db):
    return make_business("Bright Air")


@pytest.fixture
def owner(business):
    user = make_user("owner@brightair.test")
    add_member(business=business, user=user, role="owner")
    return user


@pytest.fixture
def staff(business):
    user = make_user("staff@brightair.test")
    add_member(business=business, user=user, role="staff")
    return user


@pytest.fixture
def texts(settings):
    """Texts the product sends in this test, through its real memory transport."""
    settings.TOUCHBASE_SMS_BACKEND = "memory"
    MemorySmsTransport.outbox.clear()
    yield MemorySmsTransport.outbox
    MemorySmsTransport.outbox.clear()


def link_in_last_email(part: str) -> str:
    """The path of the first link containing `part` in the newest email."""
    word = next(w for w in mail.outbox[-1].body.split() if part in w)
    return word.removeprefix("http://127.0.0.1:8000")


def page_text(response) -> str:
    """A page without its per-response CSRF token, to compare two answers."""
    return re.sub(r'("X-CSRFToken": "|value=")[A-Za-z0-9]{64}', r"\1", response.content.decode())


def url_patterns() -> list[str]:
    """Every URL pattern of the project, as written (`settings/team/members/<int:pk>/...`)."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                found.append(prefix + str(pattern.pattern))
            else:
                walk(pattern.url_patterns, prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    return found
