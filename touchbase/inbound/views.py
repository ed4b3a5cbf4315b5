"""Public endpoints: tracked links (no login) and provider webhooks (signature checked).

Views are thin: they read the request, call one service and shape the answer. A link with a
forged or unknown token gets a friendly 404 page; a webhook with a bad signature gets 401/403
and a malformed one 4xx JSON naming the problem, with nothing written.
"""

import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.twiml.messaging_response import MessagingResponse

from touchbase.inbound import customer_actions, receipts, sms_replies
from touchbase.inbound.links import link_for
from touchbase.inbound.selectors import delivery_for_token
from touchbase.inbound.signatures import (
    has_valid_twilio_signature,
)
from touchbase.languages import customer_language

logger = logging.getLogger(__name__)


def _no_store(response: HttpResponse) -> HttpResponse:
    # Tokens are capabilities: keep them out of caches and out of the review site's Referer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def customer_page(
    request: HttpRequest, template: str, context=None, *, language: str, status: int = 200
) -> HttpResponse:
    """A customer-facing page in the customer's language (the owner's app stays English)."""
    with translation.override(language):
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    return response


def _language_of(delivery) -> str:
    customer = delivery.enrollment.customer if delivery.enrollment_id else None
    return customer_language(customer, delivery.business)


def _link_not_found(request: HttpRequest) -> HttpResponse:
    # Nobody is known from a bad token: the browser's preference (English or Spanish).
    language = translation.get_language_from_request(request)
    return _no_store(
        customer_page(request, "inbound/not_found.html", language=language, status=404)
    )


@require_http_methods(["GET", "HEAD"])
def review_link(request: HttpRequest, token: str) -> HttpResponse:
    delivery = delivery_for_token(token, "review")
    if delivery is None:
        return _link_not_found(request)
    result = customer_actions.record_click(
        delivery=delivery,
        method=request.method or "GET",
        user_agent=request.headers.get("User-Agent", ""),
    )
    if not result.destination:
        return _no_store(
            customer_page(
                request,
                "inbound/no_review_page.html",
                {"business": delivery.business},
                language=_language_of(delivery),
            )
        )
    return _no_store(HttpResponseRedirect(result.destination))


# No CSRF token: the page has no session or login to protect, the token in the URL is the
# capability, and a customer whose browser refuses cookies must still be able to send it.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    delivery = delivery_for_token(token, "feedback")
    if delivery is None:
        return _link_not_found(request)
    language = _language_of(delivery)
    context = {
        "business": delivery.business,
        # Offered beside the review link, never instead of it (PRODUCT §8, no review gating).
        "review_url": link_for(delivery.pk, "review") if delivery.business.review_link else "",
        "already_sent": hasattr(delivery, "feedback"),
        "message": "",
    }
    if request.method == "POST":
        message = request.POST.get("message", "")
        error = ""
        with translation.override(language):  # its error is shown on the customer's page
            try:
                result = customer_actions.record_feedback(delivery=delivery, message=message)
            except ValidationError as exc:
                error = exc.messages[0]
        if error:
            context.update(message=message, error=error)
            return _no_store(
                customer_page(
                    request, "inbound/feedback.html", context, language=language, status=400
                )
            )
        context["already_sent"] = not result.created
        return _no_store(
            customer_page(request, "inbound/feedback_thanks.html", context, language=language)
        )
    return _no_store(customer_page(request, "inbound/feedback.html", context, language=language))


# RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" with no cookie, no
# CSRF token and no login; the token in the URL is the authority.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    delivery = delivery_for_token(token, "unsubscribe")
    if delivery is None:
        return _link_not_found(request)
    customer = delivery.enrollment.customer if delivery.enrollment_id else None
    done = ""
    if request.method == "POST":
        if request.POST.get("action") == "resubscribe":
            customer_actions.record_resubscribe(delivery=delivery)
            done = "resubscribed"
        else:
            customer_actions.record_unsubscribe(delivery=delivery)
            done = "unsubscribed"
        if customer is not None:
            customer.refresh_from_db()
    context = {
        "business": delivery.business,
        "email": delivery.to_address or (customer.email if customer else ""),
        "opted_out": customer is None or customer.email_opted_out_at is not None,
        # A deleted customer gets no more email and has nothing to resubscribe.
        "can_resubscribe": customer is not None,
        "done": done,
    }
    return _no_store(
        customer_page(request, "inbound/unsubscribe.html", context, language=_language_of(delivery))
    )


def _twiml(text: str = "") -> HttpResponse:
    response = MessagingResponse()
    if text:
        response.message(text)
    return HttpResponse(str(response), content_type="application/xml")


def _forbidden_signature(request: HttpRequest) -> JsonResponse:
    logger.warning(
        "refused %s: missing or invalid X-Twilio-Signature (from %s)",
        request.path,
        request.META.get("REMOTE_ADDR", "?"),
    )
    return JsonResponse({"error": {"X-Twilio-Signature": "missing or invalid"}}, status=403)


def _bad_request(exc: ValidationError, status: int = 400) -> JsonResponse:
    errors = {key: msgs[0] for key, msgs in exc.message_dict.items()}
    return JsonResponse({"error": errors}, status=status)


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    if not has_valid_twilio_signature(request):
        return _forbidden_signature(request)
    try:
        result = sms_replies.handle_inbound_sms(
            message_sid=request.POST.get("MessageSid") or request.POST.get("SmsSid", ""),
            from_number=request.POST.get("From", ""),
            to_number=request.POST.get("To", ""),
            body=request.POST.get("Body", ""),
        )
    except ValidationError as exc:
        return _bad_request(exc)
    return _twiml(result.answer_text)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not has_valid_twilio_signature(request):
        return _forbidden_signature(request)
    try:
        receipts.handle_sms_status(
            message_sid=request.POST.get("MessageSid") or request.POST.get("SmsSid", ""),
            status=request.POST.get("MessageStatus") or request.POST.get("SmsStatus", ""),
            error_code=request.POST.get("ErrorCode", ""),
            error_message=request.POST.get("ErrorMessage", ""),
            delivery_id=request.GET.get("delivery", ""),
        )
    except ValidationError as exc:
        return _bad_request(exc)
    return HttpResponse(status=204)
