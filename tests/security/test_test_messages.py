"""The settings page's test message cannot be used to text or email anyone but the owner,
through the operator's provider account."""

import re

import pytest
from django.core import mail

from tests.factories import make_customer, make_user
from touchbase import clock
from touchbase.customers.models import SmsSuppression
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db
VICTIM = "+13055550199"


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def verify_phone(client, texts, phone="+13055550142"):
    client.post("/settings/phone/", {"phone": phone})
    code = re.search(r"\b(\d{6})\b", texts[-1].text).group(1)
    return client.post("/settings/phone/", {"code": code}, follow=True)


def test_a_test_text_goes_only_to_the_owners_verified_number(owner_client, owner, texts):
    refused = owner_client.post(
        "/settings/test-message/", {"channel": "sms", "phone": VICTIM}, follow=True
    )
    assert "verify your mobile number first" in messages_of(refused) and not texts

    verify_phone(owner_client, texts)
    owner_client.post("/settings/test-message/", {"channel": "sms", "phone": VICTIM})

    assert [t.to for t in texts] == ["+13055550142", "+13055550142"]  # the code, the test
    assert "Bright Air" in texts[-1].text  # names the business it is sent for


def test_a_wrong_code_does_not_verify_and_five_tries_end_it(owner_client, owner, texts):
    owner_client.post("/settings/phone/", {"phone": VICTIM})
    for _ in range(5):
        owner_client.post("/settings/phone/", {"code": "000000"})
    code = re.search(r"\b(\d{6})\b", texts[-1].text).group(1)

    response = owner_client.post("/settings/phone/", {"code": code}, follow=True)

    owner.refresh_from_db()
    assert "too many wrong codes" in messages_of(response) and not owner.verified_phone


def test_a_test_email_goes_only_to_the_logged_in_owner(owner_client, owner):
    owner_client.post("/settings/test-message/", {"channel": "email", "to": "x@victim.test"})

    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "Bright Air" in mail.outbox[0].subject


def test_an_unverified_account_sends_no_test_and_no_code(client, business, texts):
    newcomer = make_user("new@brightair.test", verified=False)
    add_member(business=business, user=newcomer, role="owner")
    client.force_login(newcomer)

    email = client.post("/settings/test-message/", {"channel": "email"}, follow=True)
    code = client.post("/settings/phone/", {"phone": VICTIM}, follow=True)

    assert "confirm your email first" in messages_of(email)
    assert "confirm your email first" in messages_of(code)
    assert not mail.outbox and not texts


def test_a_number_that_said_stop_anywhere_gets_no_code_and_no_test(
    owner_client, owner, business, texts
):
    other = make_customer(business, "Pat", phone=VICTIM)
    SmsSuppression.objects.create(
        business=other.business, phone=VICTIM, reason="stop", created_at=clock.now()
    )

    response = owner_client.post("/settings/phone/", {"phone": VICTIM}, follow=True)
    assert "replied STOP" in messages_of(response) and not texts

    owner.phone, owner.phone_verified_at = VICTIM, clock.now()  # verified before the STOP
    owner.save()
    response = owner_client.post("/settings/test-message/", {"channel": "sms"}, follow=True)
    assert "replied STOP" in messages_of(response) and not texts


def test_test_messages_are_limited_per_business(owner_client, business, texts, staff):
    for _ in range(5):
        owner_client.post("/settings/test-message/", {"channel": "email"})
    second_owner = make_user("partner@brightair.test")
    add_member(business=business, user=second_owner, role="owner")
    owner_client.force_login(second_owner)

    response = owner_client.post("/settings/test-message/", {"channel": "email"}, follow=True)

    assert len(mail.outbox) == 5
    assert "too many test messages" in messages_of(response)


def test_verification_codes_are_limited_per_business(owner_client, texts):
    for n in range(3):
        owner_client.post("/settings/phone/", {"phone": f"+1305555014{n}"})

    response = owner_client.post("/settings/phone/", {"phone": "+13055550149"}, follow=True)

    assert len(texts) == 3 and "too many test messages" in messages_of(response)
