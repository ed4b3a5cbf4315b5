"""Password reset answers alike for every address, and cannot be used to flood a mailbox."""

import pytest
from django.core import mail
from django.test import Client

from tests.factories import make_user
from tests.security.conftest import link_in_last_email

pytestmark = pytest.mark.django_db


def reset(email, address="198.51.100.7"):
    return Client().post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=address)


def test_reset_answers_alike_whether_or_not_the_email_has_an_account():
    make_user("ana@sparkle.test")

    known, unknown = reset("ana@sparkle.test"), reset("ghost@sparkle.test")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [["ana@sparkle.test"]]


def test_one_account_gets_at_most_three_reset_emails_an_hour_and_the_answer_does_not_change():
    make_user("ana@sparkle.test")

    answers = [reset("ana@sparkle.test", address=f"198.51.100.{n}") for n in range(6)]

    assert len(mail.outbox) == 3
    assert {a["Location"] for a in answers} == {"/accounts/password-reset/sent/"}


def test_one_address_is_cut_off_after_five_resets_an_hour():
    for n in range(5):
        reset(f"p{n}@x.test")

    response = reset("p6@x.test")

    assert response.status_code == 200 and "Too many attempts" in response.content.decode()


def test_the_reset_link_confirms_the_address(client):
    ana = make_user("ana@sparkle.test", verified=False)
    reset("ana@sparkle.test")
    link = link_in_last_email("/accounts/password-reset/")

    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-pass-9", "new_password2": "a-long-pass-9"},
    )

    ana.refresh_from_db()
    assert ana.email_verified and ana.check_password("a-long-pass-9")
