"""Guessing passwords: after 10 failures for one account, or from one address, within 15
minutes, even the right password is refused until the window passes; the answer never says
whether the account exists."""

from datetime import timedelta

import pytest
from django.test import Client

from tests.factories import make_user
from tests.security.conftest import page_text

pytestmark = pytest.mark.django_db
RIGHT = "pw-123456!"


def log_in(client, email, password, address="198.51.100.7"):
    return client.post(
        "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address
    )


def logged_in(response) -> bool:
    return response.status_code == 302


def test_ten_failures_lock_the_account_even_with_the_right_password(clock):
    make_user("ana@sparkle.test")
    client = Client()
    for n in range(10):
        assert not logged_in(log_in(client, "ana@sparkle.test", f"guess-{n}"))

    refused = log_in(client, "ana@sparkle.test", RIGHT)
    from_elsewhere = log_in(Client(), "ana@sparkle.test", RIGHT, address="203.0.113.9")

    assert not logged_in(refused) and "Too many failed log-ins" in refused.content.decode()
    assert not logged_in(from_elsewhere)  # per account, whichever address guesses
    clock.shift(timedelta(minutes=16))
    assert logged_in(log_in(Client(), "ana@sparkle.test", RIGHT))


def test_nine_failures_still_let_the_owner_in():
    make_user("ana@sparkle.test")
    for n in range(9):
        log_in(Client(), "ana@sparkle.test", f"guess-{n}")

    assert logged_in(log_in(Client(), "ana@sparkle.test", RIGHT))


def test_ten_failures_from_one_address_over_many_accounts_block_that_address():
    make_user("ana@sparkle.test")
    for n in range(10):
        log_in(Client(), f"someone{n}@sparkle.test", "guess")

    assert not logged_in(log_in(Client(), "ana@sparkle.test", RIGHT))
    assert logged_in(log_in(Client(), "ana@sparkle.test", RIGHT, address="203.0.113.9"))


def test_the_admin_login_is_throttled_too():
    admin = make_user("ops@install.test")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    for n in range(10):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": "ops@install.test", "password": f"guess-{n}"},
            REMOTE_ADDR="198.51.100.7",
        )

    client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@install.test", "password": RIGHT},
        REMOTE_ADDR="198.51.100.7",
    )
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_a_locked_unknown_account_answers_like_a_locked_real_one():
    make_user("ana@sparkle.test")
    for n in range(10):
        log_in(Client(), "ana@sparkle.test", f"guess-{n}", address=f"198.51.100.{n}")
        log_in(Client(), "ghost@sparkle.test", f"guess-{n}", address=f"198.51.100.{n}")

    real = log_in(Client(), "ana@sparkle.test", "again", address="203.0.113.1")
    ghost = log_in(Client(), "ghost@sparkle.test", "again", address="203.0.113.1")

    assert page_text(real).replace("ana", "X") == page_text(ghost).replace("ghost", "X")
