"""Thin HTTP adapters of intake that are not the ninja API: the signed job webhook.
Every answer has the API's one error shape (`touchbase.api.errors`)."""

import json
import logging

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from touchbase import clock
from touchbase.api.errors import error_response, fields_from_django, validation_message
from touchbase.inbound.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    job_webhook_signature_problem,
)
from touchbase.intake.webhook import ReplayedWebhook, handle_job_webhook
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)

JOB_WEBHOOK_MAX_BYTES = 64 * 1024


def parse_json_body(body: bytes):
    """The decoded JSON body, or ValueError saying why not. Nesting too deep for the parser
    is refused as a bad body, never a server error."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"is not valid JSON ({exc})") from None
    except RecursionError:
        raise ValueError("is nested too deeply") from None


@csrf_exempt
@require_POST
def job_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    business = Business.objects.filter(slug=slug).first()
    if business is None:
        return error_response(404, "not_found", f"no business {slug!r}")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > JOB_WEBHOOK_MAX_BYTES:
        message = f"the body is larger than {JOB_WEBHOOK_MAX_BYTES} bytes"
        return error_response(413, "payload_too_large", message, {"body": message})
    body = request.body
    problem = job_webhook_signature_problem(
        secret=business.webhook_secret,
        timestamp=request.headers.get(TIMESTAMP_HEADER, "").strip(),
        signature=request.headers.get(SIGNATURE_HEADER, "").strip(),
        body=body,
        now=clock.now(),
    )
    if problem:
        logger.warning("refused job webhook for %s: %s", business.slug, problem)
        return error_response(401, "unauthorized", "; ".join(problem.values()), problem)
    try:
        data = parse_json_body(body)
    except ValueError as exc:
        return error_response(400, "bad_request", f"the body {exc}", {"body": str(exc)})
    try:
        result = handle_job_webhook(
            business=business,
            data=data,
            signature=request.headers[SIGNATURE_HEADER].strip().lower(),
        )
    except ReplayedWebhook:
        reason = "this request was already received; nothing changed"
        return error_response(409, "conflict", reason, {"signature": reason})
    except ValidationError as exc:
        fields = fields_from_django(exc)
        return error_response(422, "validation_error", validation_message(fields), fields)
    enrollment = result.enrollment
    return JsonResponse(
        {
            "job": {
                "id": result.job.pk,
                "external_id": result.job.external_id,
                "status": result.job.status,
                "created": result.created,
            },
            "enrollment": None
            if enrollment is None
            else {
                "outcome": enrollment.outcome,
                "enrollment_id": enrollment.enrollment_id,
                "reason": enrollment.skip_reason or enrollment.error or "",
                "detail": enrollment.detail,
            },
            "warnings": result.warnings,
        },
        status=201 if result.created else 200,
    )
