"""The job webhook (/hooks/jobs/<business>): field-service tools push completed jobs.
Stored once per signature (an Event), so a captured request cannot be replayed."""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from touchbase import clock
from touchbase.campaigns.enrollment import EnrollmentResult
from touchbase.customers.models import ConsentSource, Customer, SmsConsent
from touchbase.customers.services import (
    create_customer,
    is_suppressed,
    normalize_email,
    normalize_phone,
    record_sms_consent,
    update_customer,
)
from touchbase.inbound.events import store_event
from touchbase.jobs.models import Job, JobStatus
from touchbase.jobs.services import JobResult, create_job, update_job
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import Business

# --- Job webhook (/hooks/jobs/<business>) ---------------------------------------------------

JOB_FIELDS = {
    "external_id",
    "service_type",
    "status",
    "completed_at",
    "technician_name",
    "notes",
    "enroll",
    "customer",
}
CUSTOMER_FIELDS = {"name", "email", "phone", "time_zone", "sms_consent", "consent_disclosure"}


class ReplayedWebhook(Exception):
    """This exact signed request was received before; nothing was done the second time."""


@dataclass(frozen=True)
class JobWebhookResult:
    job: Job
    created: bool
    enrollment: EnrollmentResult | None
    warnings: list[str] = field(default_factory=list)


def _text(data: dict[str, Any], name: str, errors: dict[str, str], *, prefix: str = "") -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[prefix + name] = "must be a string"
        return ""
    return value.strip()


def _parse_job_payload(data: Any) -> dict[str, Any]:
    """Check the whole body before anything is written; one error naming every bad field."""
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    for unknown in sorted(set(data) - JOB_FIELDS):
        errors[unknown] = f"is not a job field; expected some of: {', '.join(sorted(JOB_FIELDS))}"
    parsed: dict[str, Any] = {}
    if isinstance(data.get("external_id"), int) and not isinstance(data["external_id"], bool):
        data = {**data, "external_id": str(data["external_id"])}  # many tools number their jobs
    parsed["external_id"] = _text(data, "external_id", errors)
    if not parsed["external_id"] and "external_id" not in errors:
        errors["external_id"] = "is required (the job's id in your system)"
    elif len(parsed["external_id"]) > 255:
        errors["external_id"] = "is longer than 255 characters"
    if "service_type" in data:
        raw = _text(data, "service_type", errors)
        parsed["service_type"] = parse_service_type(raw)
        if parsed["service_type"] is None and "service_type" not in errors:
            errors["service_type"] = unknown_service_type_message(raw)
    status = _text(data, "status", errors) or JobStatus.COMPLETED
    if status not in JobStatus.values:
        errors["status"] = f"{status!r} is not one of: {', '.join(JobStatus.values)}"
    parsed["status"] = status
    completed_at = _text(data, "completed_at", errors)
    parsed["completed_at"] = None
    if completed_at:
        try:
            moment = parse_datetime(completed_at)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            errors["completed_at"] = "must be an ISO 8601 date-time with a UTC offset"
        elif moment > clock.now() + timedelta(minutes=5):
            errors["completed_at"] = "is in the future"
        parsed["completed_at"] = moment
    for name in ("technician_name", "notes"):
        if name in data:
            parsed[name] = _text(data, name, errors)
    enroll = data.get("enroll", True)
    if not isinstance(enroll, bool):
        errors["enroll"] = "must be true or false"
    parsed["enroll"] = enroll is not False
    customer = data.get("customer")
    parsed["customer"] = None
    if customer is not None:
        if not isinstance(customer, dict):
            errors["customer"] = "must be an object with name, email, phone..."
        else:
            parsed["customer"] = _parse_customer(customer, errors)
    if errors:
        raise ValidationError(errors)
    return parsed


def _parse_customer(data: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    for unknown in sorted(set(data) - CUSTOMER_FIELDS):
        errors[f"customer.{unknown}"] = (
            f"is not a customer field; expected some of: {', '.join(sorted(CUSTOMER_FIELDS))}"
        )
    parsed = {
        name: _text(data, name, errors, prefix="customer.")
        for name in ("name", "email", "phone", "time_zone", "consent_disclosure")
    }
    for name, normalize in (("email", normalize_email), ("phone", normalize_phone)):
        try:
            parsed[name] = normalize(parsed[name])
        except ValidationError as exc:
            errors[f"customer.{name}"] = exc.message_dict[name][0]
    consent = data.get("sms_consent", False)
    if not isinstance(consent, bool):
        errors["customer.sms_consent"] = "must be true or false"
    parsed["sms_consent"] = consent is True
    if parsed["sms_consent"] and not parsed["phone"]:
        errors["customer.sms_consent"] = "needs a phone number"
    return parsed


def _prefixed(exc: ValidationError, prefix: str) -> ValidationError:
    return ValidationError({f"{prefix}{key}": msgs[0] for key, msgs in exc.message_dict.items()})


def _customer_for_job(business: Business, data: dict[str, Any], warnings: list[str]) -> Customer:
    """The business's customer with this phone (else email), filled in where blank; or a
    new customer. Consent is recorded only for a customer who has not decided yet, and never
    over a STOP."""
    found = None
    if data["phone"]:
        found = Customer.objects.filter(business=business, phone=data["phone"]).first()
    if found is None and data["email"]:
        found = Customer.objects.filter(business=business, email__iexact=data["email"]).first()
    suppressed = bool(data["phone"]) and is_suppressed(business=business, phone=data["phone"])
    wants_consent = data["sms_consent"] and not suppressed
    if data["sms_consent"] and suppressed:
        warnings.append(
            "customer.sms_consent: this number opted out by text message; consent not recorded"
        )
    try:
        if found is None:
            if not data["name"]:
                raise ValidationError({"name": "is required for a new customer"})
            return create_customer(
                business=business,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                time_zone=data["time_zone"],
                sms_consent=wants_consent,
                consent_source=ConsentSource.API,
                consent_disclosure=data["consent_disclosure"],
                recorded_by="job webhook",
            )
        blanks = {
            name: data[name]
            for name in ("email", "phone", "time_zone")
            if data[name] and not getattr(found, name)
        }
        if blanks:
            update_customer(customer=found, **blanks)
        if wants_consent and found.sms_consent == SmsConsent.UNKNOWN and found.phone:
            record_sms_consent(
                customer=found,
                granted=True,
                source=ConsentSource.API,
                disclosure_text=data["consent_disclosure"],
                recorded_by="job webhook",
            )
        return found
    except ValidationError as exc:
        raise _prefixed(exc, "customer.") from None


def handle_job_webhook(*, business: Business, data: Any, signature: str) -> JobWebhookResult:
    """A field-service tool tells us about a job (PRODUCT §6): create or update it by its
    external id and complete it, enrolling as usual.

    The whole body is checked first; then, in one transaction, the signature is stored (a
    replay raises ReplayedWebhook), the customer is found or created and the job created or
    updated through the jobs services. Any error rolls everything back: nothing is written.
    """
    parsed = _parse_job_payload(data)
    warnings: list[str] = []
    with transaction.atomic():
        stored = store_event(
            source="job_webhook",
            external_id=f"{business.pk}:{signature}",
            kind="job_webhook",
            business=business,
            payload={"external_id": parsed["external_id"], "status": parsed["status"]},
        )
        if stored is None:
            raise ReplayedWebhook
        job = (
            Job.objects.select_for_update()
            .filter(business=business, external_id=parsed["external_id"])
            .first()
        )
        changes = {name: parsed[name] for name in ("technician_name", "notes") if name in parsed}
        if job is None:
            if not parsed.get("service_type"):
                raise ValidationError({"service_type": "is required for a new job"})
            if parsed["customer"] is None:
                raise ValidationError({"customer": "is required for a new job"})
            customer = _customer_for_job(business, parsed["customer"], warnings)
            result: JobResult = create_job(
                business=business,
                customer=customer,
                service_type=parsed["service_type"],
                status=parsed["status"],
                external_id=parsed["external_id"],
                completed_at=parsed["completed_at"],
                enroll_in_campaign=parsed["enroll"],
                **changes,
            )
            created = True
        else:
            if parsed["customer"] is not None:
                warnings.append("customer: ignored for an existing job (it keeps its customer)")
            if parsed.get("service_type"):
                changes["service_type"] = parsed["service_type"]
            result = update_job(
                job=job, status=parsed["status"], enroll_in_campaign=parsed["enroll"], **changes
            )
            created = False
        stored.payload = {**stored.payload, "job": result.job.pk}
        stored.save(update_fields=["payload"])
    return JobWebhookResult(result.job, created, result.enrollment, warnings)
