"""One schema for a job with its customer, and the one validator every entry point uses
(HTTP API, job webhook, CSV import, web form).

`clean_job(values)` takes the loose values an entry point received (JSON types, CSV text,
form data) and returns a `JobIntake`, or raises one `ValidationError` naming every bad field
at once, nested fields dotted (`customer.phone`). It reads nothing from the database, so the
bulk path validates a whole chunk before writing anything.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from touchbase import clock
from touchbase.customers.services import clean_customer_fields
from touchbase.jobs.models import JobStatus
from touchbase.service_types import parse_service_type, unknown_service_type_message

MAX_EXTERNAL_ID = 255
MAX_TECHNICIAN = 100
MAX_NOTES = 10_000
MAX_DISCLOSURE = 2_000
FUTURE_SLACK = timedelta(minutes=5)  # clocks of other systems run a little ahead

JOB_FIELDS = {
    "external_id",
    "customer_id",
    "customer",
    "service_type",
    "status",
    "completed_at",
    "technician_name",
    "notes",
    "enroll",
}
CUSTOMER_FIELDS = {
    "name",
    "email",
    "phone",
    "time_zone",
    "language",
    "sms_consent",
    "consent_disclosure",
}

TRUE_WORDS = {"yes", "y", "true", "1", "x", "opted in", "opt in", "granted"}
FALSE_WORDS = {"no", "n", "false", "0", "", "opted out", "none"}
STATUS_WORDS = {
    "completed": JobStatus.COMPLETED,
    "scheduled": JobStatus.SCHEDULED,
    "complete": JobStatus.COMPLETED,
    "done": JobStatus.COMPLETED,
    "finished": JobStatus.COMPLETED,
    "closed": JobStatus.COMPLETED,
    "open": JobStatus.SCHEDULED,
    "pending": JobStatus.SCHEDULED,
    "booked": JobStatus.SCHEDULED,
    "do not send": JobStatus.DO_NOT_SEND,
    "dnd": JobStatus.DO_NOT_SEND,
}
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%m/%d/%y",
)


@dataclass(frozen=True)
class CustomerIntake:
    """A customer given inline; email and phone already normalised (the matching keys)."""

    name: str
    email: str
    phone: str
    time_zone: str = ""
    language: str = ""  # "en", "es"; "": the business's default customer language
    sms_consent: bool = False
    consent_disclosure: str = ""


@dataclass(frozen=True)
class JobIntake:
    """A job as any entry point hands it in. `None` means "not given": an update keeps the
    job's value, a new job takes the default."""

    external_id: str | None
    customer: CustomerIntake | None
    customer_id: int | None
    service_type: str | None
    status: str | None
    completed_at: datetime | None
    technician_name: str | None
    notes: str | None
    enroll: bool = True


class _Errors(dict):
    def text(self, values: Mapping[str, Any], name: str, limit: int, prefix: str = "") -> Any:
        """The stripped string under `name`, None when absent; numbers become strings
        (many tools number their jobs)."""
        value = values.get(name)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self[prefix + name] = "must be a string"
            return None
        value = value.strip()
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            self[prefix + name] = "must not contain NUL characters"
        elif len(value) > limit:
            self[prefix + name] = f"is longer than {limit} characters"
        return value

    def flag(self, values: Mapping[str, Any], name: str, default: bool, prefix: str = "") -> bool:
        value = values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return value.strip().lower() in TRUE_WORDS
        self[prefix + name] = f"{value!r} is not yes or no"
        return default


def parse_status(raw: str) -> str | None:
    return STATUS_WORDS.get(raw.strip().lower().replace("-", " ").replace("_", " "))


def parse_moment(value: Any, zone: str) -> datetime | None:
    """An aware UTC datetime from a datetime or text (ISO 8601 or a spreadsheet's date);
    a time without a zone is the business's local time. None when it cannot be read."""
    if isinstance(value, datetime):
        moment = value
    else:
        raw = str(value).strip()
        try:
            moment = parse_datetime(raw.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        for pattern in DATE_FORMATS if moment is None else ():
            try:
                moment = datetime.strptime(raw, pattern)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _clean_customer(data: Any, errors: _Errors) -> CustomerIntake | None:
    if not isinstance(data, Mapping):
        errors["customer"] = "must be an object with name, email, phone..."
        return None
    for unknown in sorted(set(data) - CUSTOMER_FIELDS):
        errors[f"customer.{unknown}"] = (
            f"is not a customer field; expected some of: {', '.join(sorted(CUSTOMER_FIELDS))}"
        )
    prefix = "customer."
    given = {
        "name": errors.text(data, "name", 200, prefix) or "",
        "email": errors.text(data, "email", 254, prefix) or "",
        "phone": errors.text(data, "phone", 40, prefix) or "",
        "time_zone": errors.text(data, "time_zone", 64, prefix) or "",
        "language": errors.text(data, "language", 20, prefix) or "",
    }
    disclosure = errors.text(data, "consent_disclosure", MAX_DISCLOSURE, prefix) or ""
    consent = errors.flag(data, "sms_consent", False, prefix)
    if not given["email"] and not given["phone"]:
        errors["customer.email"] = "an email or a phone number is required"
    try:
        # The one normaliser of names, emails, phones and zones (customers/services.py).
        cleaned = clean_customer_fields(
            {k: v for k, v in given.items() if prefix + k not in errors}
        )
    except ValidationError as exc:
        errors.update({prefix + key: msgs[0] for key, msgs in exc.message_dict.items()})
        return None
    if consent and not cleaned.get("phone") and "customer.phone" not in errors:
        errors["customer.sms_consent"] = "needs a phone number"
    if any(key.startswith(prefix) for key in errors):
        return None
    return CustomerIntake(
        name=cleaned["name"],
        email=cleaned.get("email", ""),
        phone=cleaned.get("phone", ""),
        time_zone=cleaned.get("time_zone", ""),
        language=cleaned.get("language", ""),
        sms_consent=consent,
        consent_disclosure=disclosure,
    )


def clean_job(
    values: Mapping[str, Any],
    *,
    zone: str,
    default_status: str | None = JobStatus.COMPLETED,
    require_external_id: bool = False,
) -> JobIntake:
    """Validate one job (with its inline customer) from any entry point; see the module
    docstring. `zone` is the business's time zone, for dates written without one."""
    errors = _Errors()
    if not isinstance(values, Mapping):
        raise ValidationError({"body": "must be a JSON object"})
    for unknown in sorted(set(values) - JOB_FIELDS):
        errors[unknown] = f"is not a job field; expected some of: {', '.join(sorted(JOB_FIELDS))}"

    external_id = errors.text(values, "external_id", MAX_EXTERNAL_ID) or None
    if external_id is None and require_external_id and "external_id" not in errors:
        errors["external_id"] = "is required (it makes sending the job again safe)"

    service_type = None
    raw_service = errors.text(values, "service_type", 40)
    if raw_service is not None and "service_type" not in errors:
        service_type = parse_service_type(raw_service)
        if service_type is None:
            errors["service_type"] = unknown_service_type_message(raw_service)

    raw_status = errors.text(values, "status", 20) or ""
    status = parse_status(raw_status) if raw_status else default_status
    if raw_status and status is None:
        errors["status"] = (
            f"{raw_status!r} is not a job status (completed, scheduled or do_not_send)"
        )

    completed_at = None
    raw_moment = values.get("completed_at")
    if raw_moment not in (None, ""):
        completed_at = parse_moment(raw_moment, zone)
        if completed_at is None:
            errors["completed_at"] = (
                f"{raw_moment!r} is not a date (use 2026-03-02, 03/02/2026 or ISO 8601)"
            )
        elif completed_at > clock.now() + FUTURE_SLACK:
            errors["completed_at"] = "is in the future"

    customer_id = values.get("customer_id")
    if customer_id is not None and (
        isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1
    ):
        errors["customer_id"] = "must be a positive integer"
    customer = None
    if values.get("customer") is not None:
        if customer_id is not None:
            errors["customer"] = "give either customer_id or customer, not both"
        else:
            customer = _clean_customer(values["customer"], errors)

    intake = JobIntake(
        external_id=external_id,
        customer=customer,
        customer_id=customer_id,
        service_type=service_type,
        status=status or default_status,
        completed_at=completed_at,
        technician_name=errors.text(values, "technician_name", MAX_TECHNICIAN),
        notes=errors.text(values, "notes", MAX_NOTES),
        enroll=errors.flag(values, "enroll", True),
    )
    if errors:
        raise ValidationError(dict(errors))
    return intake


def clean_customer(values: Mapping[str, Any]) -> CustomerIntake:
    """Validate a customer on its own (the customers CSV import); errors dotted as in
    `clean_job` (`customer.email`)."""
    errors = _Errors()
    customer = _clean_customer(values, errors)
    if errors or customer is None:
        raise ValidationError(dict(errors))
    return customer
