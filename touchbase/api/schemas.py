"""Request and response bodies of the API. Times are ISO-8601 in UTC."""

from datetime import UTC, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field, PlainSerializer

MAX_ID = 2**63 - 1


def _clean_text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded: refuse both
    # here so they answer 422 instead of failing in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _as_utc(value: datetime) -> datetime:
    # A time without an offset is read as UTC (the API speaks UTC everywhere).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def Text(max_length: int):
    return Annotated[str, Field(max_length=max_length), AfterValidator(_clean_text)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
UtcIn = Annotated[datetime, AfterValidator(_as_utc)]
UtcOut = Annotated[
    datetime,
    PlainSerializer(
        lambda value: value.astimezone(UTC).isoformat().replace("+00:00", "Z"), return_type=str
    ),
]


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Schema):
    error: ErrorBody


# --- customers ------------------------------------------------------------------------------


LANGUAGE_HELP = (
    "The language the customer is written to: en or es (English, Spanish also read); "
    "empty: the business's default customer language."
)


class CustomerIn(Schema):
    name: Text(200)
    email: Text(254) = ""
    phone: Text(40) = ""
    time_zone: Text(64) = ""
    language: Text(20) = Field("", description=LANGUAGE_HELP)
    sms_consent: bool = Field(
        False, description="The customer agreed to receive texts (recorded with source 'api')."
    )
    consent_disclosure: Text(2000) = Field(
        "", description="The exact consent text the customer saw."
    )


class CustomerPatch(Schema):
    name: Text(200) | None = None
    email: Text(254) | None = None
    phone: Text(40) | None = None
    time_zone: Text(64) | None = None
    language: Text(20) | None = Field(None, description=LANGUAGE_HELP)


class CustomerOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    time_zone: str
    language: str = Field(description=LANGUAGE_HELP)
    sms_consent: str
    email_opted_out_at: UtcOut | None
    email_bounced_at: UtcOut | None
    created_at: UtcOut
    updated_at: UtcOut


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


# --- jobs -----------------------------------------------------------------------------------


class JobCustomerIn(Schema):
    """A customer given inline: matched by email, then phone; created when none matches."""

    name: Text(200)
    email: Text(254) = ""
    phone: Text(40) = ""
    time_zone: Text(64) = ""
    language: Text(20) = Field("", description=LANGUAGE_HELP)
    sms_consent: bool = False
    consent_disclosure: Text(2000) = ""


class JobIn(Schema):
    external_id: Text(255) | None = Field(
        None, description="Your id for the job: sending it again updates that job."
    )
    customer_id: Id | None = Field(None, description="An existing customer; or give `customer`.")
    customer: JobCustomerIn | None = None
    service_type: Text(40) | None = Field(None, description="Required for a new job.")
    status: Text(20) = Field("scheduled", description="scheduled (default), completed...")
    technician_name: Text(100) = ""
    notes: Text(10000) = ""
    completed_at: UtcIn | None = Field(None, description="Defaults to now for completed jobs.")
    enroll_in_campaign: bool = Field(True, description="Enroll the customer when completed.")


class JobPatch(Schema):
    customer_id: Id | None = None
    service_type: Text(40) | None = None
    status: Text(20) | None = None
    external_id: Text(255) | None = None
    technician_name: Text(100) | None = None
    notes: Text(10000) | None = None
    enroll_in_campaign: bool = True


class CompleteIn(Schema):
    enroll_in_campaign: bool = True


class JobEnrollmentOut(Schema):
    outcome: str = Field(description="enrolled, skipped, failed, or empty when never offered")
    reason: str
    detail: str
    checked_at: UtcOut | None
    enrollment_id: int | None = Field(description="The job's latest enrollment, if any.")


class JobOut(Schema):
    id: int
    external_id: str | None
    customer_id: int
    service_type: str
    status: str
    completed_at: UtcOut | None
    technician_name: str
    notes: str
    enrollment: JobEnrollmentOut
    created_at: UtcOut
    updated_at: UtcOut


MAX_BATCH_JOBS = 1_000


class JobBatchIn(Schema):
    jobs: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=MAX_BATCH_JOBS,
        description="Up to 1,000 jobs, each a `JobIn` (as for `POST /jobs`), checked on its "
        "own: a bad one is refused in its result, the others are written.",
    )


class JobBatchResultOut(Schema):
    index: int = Field(description="The job's position in `jobs`.")
    status: int = Field(description="201 created, 200 updated (or unchanged), 422 refused")
    job: JobOut | None = None
    error: ErrorBody | None = None


class JobBatchOut(Schema):
    results: list[JobBatchResultOut]


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


# --- campaigns ------------------------------------------------------------------------------


class TouchOut(Schema):
    position: int
    channel: str
    delay_hours: int
    template_id: int
    template_name: str


class CampaignOut(Schema):
    id: int
    name: str
    service_type: str | None = Field(description="null: all services")
    status: str
    paused_at: UtcOut | None
    touches: list[TouchOut]
    created_at: UtcOut


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None


# --- deliveries -----------------------------------------------------------------------------


class DeliveryOut(Schema):
    id: int
    enrollment_id: int
    customer_id: int | None
    position: int
    channel: str
    status: str
    scheduled_at: UtcOut
    send_after: UtcOut
    sent_at: UtcOut | None
    attempts: int
    defer_reason: str
    skip_reason: str
    receipt_status: str
    receipt_at: UtcOut | None
    error_code: str
    error_message: str


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


# --- enrollments ----------------------------------------------------------------------------


class EnrollmentOut(Schema):
    id: int
    campaign_id: int | None
    job_id: int | None
    customer_id: int | None
    status: str
    stop_reason: str
    current_position: int
    manual: bool
    enrolled_at: UtcOut
    frozen_at: UtcOut | None
    stopped_at: UtcOut | None
    completed_at: UtcOut | None


class EnrollmentDetailOut(EnrollmentOut):
    deliveries: list[DeliveryOut] = Field(description="The timeline, touch by touch.")


class EnrollmentPage(Schema):
    items: list[EnrollmentOut]
    next_cursor: str | None


class ManualEnrollIn(Schema):
    job_id: Id
    campaign_id: Id | None = Field(None, description="Default: the job's matching campaign.")


class EnrollmentResultOut(Schema):
    success: bool
    enrollment_id: int | None
    skipped: bool
    skip_reason: str | None
    error: str | None
    detail: str
    last_enrolled_at: UtcOut | None
