"""Turn a touch's template into the exact message a customer receives (PRODUCT §3, §8)."""

import functools

from django.template.loader import render_to_string
from django.utils import translation

from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.placeholders import render
from touchbase.channels import Channel
from touchbase.customers.models import Customer
from touchbase.delivery.backends.base import OutgoingMessage
from touchbase.delivery.models import Delivery
from touchbase.inbound.links import link_for
from touchbase.jobs.models import Job
from touchbase.languages import customer_language
from touchbase.service_types import ServiceType
from touchbase.tenancy.models import Business


@functools.cache  # one catalogue look-up per language for the life of the process
def stop_footer(language: str) -> str:
    """The first SMS's opt-out line in `language` (PRODUCT §8), from the gettext catalogue
    like every customer-facing word: the Spanish one names ALTO, a word touchbase honours
    itself (inbound/keywords.py)."""
    with translation.override(language):
        return translation.gettext("Reply STOP to opt out.")


def header_text(value: str) -> str:
    """A header value from customer or owner data (subject, display name) on one line: a
    CR or LF would make the mail library refuse the message after we decided to send it."""
    return " ".join(value.split())


def placeholder_values(
    *, business: Business, customer: Customer, job: Job | None, review_link: str
) -> dict[str, str]:
    service_type = job.service_type if job else ""
    return {
        "customer_first_name": customer.first_name or "there",
        "customer_name": customer.name,
        "business_name": business.name,
        "review_link": review_link,
        "service_type": ServiceType(service_type).label if service_type else "recent",
        "technician_name": (job.technician_name if job else "") or "our team",
        "sender_name": business.sender_name or business.name,
    }


def sms_text(
    body: str, *, business_name: str, first_of_enrollment: bool, language: str = "en"
) -> str:
    """The first SMS of an enrollment names the business and ends with the opt-out line
    in the text's language."""
    text = body.strip()
    if first_of_enrollment:
        footer = stop_footer(language)
        if business_name.lower() not in text.lower():
            text = f"{business_name}: {text}"
        if not text.rstrip(" .!").lower().endswith(footer.rstrip(".").lower()):
            text = f"{text} {footer}"
    return text


def render_delivery(
    delivery: Delivery, template: MessageTemplate, *, first_sms_of_enrollment: bool
) -> OutgoingMessage:
    enrollment = delivery.enrollment
    business, customer = delivery.business, enrollment.customer
    values = placeholder_values(
        business=business,
        customer=customer,
        job=enrollment.job,
        review_link=link_for(delivery.pk, "review"),
    )
    # The language of the text itself: a Spanish customer whose touch has no Spanish text
    # gets the English one, with its English footer and email words.
    language, subject, body = template.text_for(customer_language(customer, business))
    body = render(body, values)
    if delivery.channel == Channel.SMS:
        return OutgoingMessage(
            channel=Channel.SMS,
            to=customer.phone,
            text=sms_text(
                body,
                business_name=business.name,
                first_of_enrollment=first_sms_of_enrollment,
                language=language,
            ),
        )
    unsubscribe = link_for(delivery.pk, "unsubscribe")
    context = {
        "body": body,
        "business": business,
        "review_link": values["review_link"],
        "feedback_link": link_for(delivery.pk, "feedback"),
        "unsubscribe_link": unsubscribe,
    }
    with translation.override(language):  # the email's own words (buttons, footer)
        text = render_to_string("delivery/email.txt", context).strip() + "\n"
        html = render_to_string("delivery/email.html", context)
    return OutgoingMessage(
        channel=Channel.EMAIL,
        to=customer.email,
        subject=header_text(render(subject, values)),
        text=text,
        html=html,
        from_name=header_text(values["sender_name"]),
        reply_to=business.reply_to_email or business.sender_email,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
