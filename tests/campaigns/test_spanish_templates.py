"""A template's optional Spanish text (issue 16) follows the English text's rules, each
error naming its own field."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_business
from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.services import copy_template, create_template, update_template

pytestmark = pytest.mark.django_db


def errors_of(**fields) -> dict:
    with pytest.raises(ValidationError) as caught:
        create_template(business=make_business(), name="T", **fields)
    return caught.value.message_dict


def test_an_unknown_placeholder_in_the_spanish_text_is_refused_on_that_field():
    errors = errors_of(channel="sms", body="Hi {review_link}", body_es="Hola {nombre}")

    assert list(errors) == ["body_es"] and "{nombre}" in errors["body_es"][0]


def test_an_sms_has_no_spanish_subject():
    assert "subject_es" in errors_of(channel="sms", body="Hi", subject_es="Hola", body_es="Hola")


def test_a_spanish_email_needs_a_spanish_subject():
    errors = errors_of(channel="email", subject="Hi", body="Hi", body_es="Hola")

    assert errors == {"subject_es": ["a Spanish email needs a Spanish subject"]}


def test_every_preset_template_ships_a_spanish_text():
    for template in MessageTemplate.objects.filter(business=None):
        assert template.body_es.strip(), template.system_key
        assert bool(template.subject_es) == (template.channel == "email")


def test_a_copy_keeps_the_spanish_text_and_it_can_be_cleared():
    business = make_business()
    copy = copy_template(
        business=business, template=MessageTemplate.objects.get(system_key="sms_request")
    )
    assert copy.body_es.startswith("Hola")

    update_template(template=copy, body_es="")

    assert copy.text_for("es") == ("en", "", copy.body)
