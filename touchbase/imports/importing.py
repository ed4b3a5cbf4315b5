"""CSV import of customers and of jobs: the service behind `touchbase import` and the web
app's import page.

Each row is validated and written on its own (a savepoint per row, a transaction per chunk
of rows): good rows are imported, a bad row is written to the error CSV with its row
number, column and reason, and never stops the rest. Re-importing a file changes nothing:
customers are matched by email, then phone; jobs by external id. Completed jobs go through
the same services as every other job, so their customers are enrolled as usual. A dry run
does all of it inside one transaction and rolls it back: the preview is exact.
"""

import csv
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from touchbase.campaigns.enrollment import enroll_jobs
from touchbase.customers.matching import match_or_create_customer
from touchbase.customers.models import ConsentSource
from touchbase.customers.services import normalize_email, normalize_phone
from touchbase.imports.reading import FileProblem, Row, build_aliases, read_rows
from touchbase.jobs.models import Job, JobStatus
from touchbase.jobs.services import ENROLLMENT_TRIGGERS
from touchbase.jobs.services import _enroll_after_save as enroll_after_save
from touchbase.jobs.upsert import upsert_job
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)

CHUNK_ROWS = 500
KEPT_ERRORS = 50  # the report keeps the first few for display; all go to the error CSV

CUSTOMER_COLUMNS = {
    "name": ["full name", "customer name", "customer", "client name", "client", "contact name"],
    "first_name": ["first name", "firstname", "given name", "first"],
    "last_name": ["last name", "lastname", "surname", "family name", "last"],
    "email": ["e-mail", "email address", "customer email", "client email", "mail"],
    "phone": [
        "phone number",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell",
        "cell phone",
        "telephone",
        "tel",
        "customer phone",
        "client phone",
    ],
    "time_zone": ["timezone", "tz"],
    "sms_consent": ["sms opt in", "sms optin", "text consent", "sms ok", "consent"],
}
JOB_COLUMNS = {
    **CUSTOMER_COLUMNS,
    "external_id": [
        "job id",
        "job number",
        "job no",
        "job #",
        "id",
        "work order",
        "invoice",
        "invoice number",
        "reference",
    ],
    "service_type": ["service", "job type", "category", "trade", "type"],
    "status": ["job status", "state"],
    "completed_at": [
        "completed",
        "completed on",
        "completion date",
        "completed date",
        "date completed",
        "finished at",
        "date",
    ],
    "technician_name": ["technician", "tech", "assigned to", "employee"],
    "notes": ["note", "description", "comments", "job notes"],
}
TRUE_WORDS = {"yes", "y", "true", "1", "x", "opted in", "opt in", "granted"}
FALSE_WORDS = {"no", "n", "false", "0", "", "opted out", "none"}
STATUS_WORDS = {
    "completed": JobStatus.COMPLETED,
    "complete": JobStatus.COMPLETED,
    "done": JobStatus.COMPLETED,
    "finished": JobStatus.COMPLETED,
    "closed": JobStatus.COMPLETED,
    "scheduled": JobStatus.SCHEDULED,
    "open": JobStatus.SCHEDULED,
    "pending": JobStatus.SCHEDULED,
    "booked": JobStatus.SCHEDULED,
    "do not send": JobStatus.DO_NOT_SEND,
    "do_not_send": JobStatus.DO_NOT_SEND,
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
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    dry_run: bool
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    enrolled: int = 0
    not_enrolled: Counter = field(default_factory=Counter)  # skip reason / error -> jobs
    unknown_columns: list[str] = field(default_factory=list)
    first_errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


class _RowFailed(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def _errors_of(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {name: "; ".join(messages) for name, messages in exc.message_dict.items()}
    return {"": "; ".join(exc.messages)}


def _name(values: dict[str, str]) -> str:
    name = values.get("name", "")
    if not name:
        name = " ".join(filter(None, [values.get("first_name", ""), values.get("last_name", "")]))
    return name


def _consent(values: dict[str, str]) -> bool:
    raw = values.get("sms_consent", "").strip().lower()
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise _RowFailed({"sms_consent": f"{raw!r} is not yes or no"})


def _customer(business: Business, values: dict[str, str], *, update: bool, recorded_by: str):
    errors: dict[str, str] = {}
    name = _name(values)
    if not name:
        errors["name"] = "is required"
    try:
        consent = _consent(values)
    except _RowFailed as exc:
        errors.update(exc.errors)
        consent = False
    if not values.get("email") and not values.get("phone"):
        errors["email"] = "an email or a phone number is required"
    if errors:
        # Name the contact columns' problems too, not only the first one found.
        for column, normalize in (("email", normalize_email), ("phone", normalize_phone)):
            try:
                normalize(values.get(column, ""))
            except ValidationError as exc:
                errors.update(_errors_of(exc))
        raise _RowFailed(errors)
    return match_or_create_customer(
        business=business,
        name=name,
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        time_zone=values.get("time_zone", ""),
        sms_consent=consent,
        consent_source=ConsentSource.IMPORT,
        recorded_by=recorded_by,
        update_existing=update,
    )


def _completed_at(raw: str, business: Business) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        for pattern in DATE_FORMATS:
            try:
                parsed = datetime.strptime(raw, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        raise _RowFailed(
            {"completed_at": f"{raw!r} is not a date (use 2026-03-02, 03/02/2026 or ISO 8601)"}
        )
    if parsed.tzinfo is None:  # a local time of the business
        parsed = parsed.replace(tzinfo=ZoneInfo(business.time_zone))
    return parsed.astimezone(UTC)


def _status(raw: str) -> str:
    key = raw.strip().lower().replace("-", " ")
    if not key:
        return JobStatus.COMPLETED
    if key in STATUS_WORDS:
        return STATUS_WORDS[key]
    raise _RowFailed(
        {"status": f"{raw!r} is not a job status (completed, scheduled or do not send)"}
    )


def _import_customer_row(business: Business, row: Row, report: ImportReport, by: str) -> None:
    match = _customer(business, row.values, update=True, recorded_by=by)
    if match.created:
        report.created += 1
    elif match.changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _import_job_row(
    business: Business,
    row: Row,
    report: ImportReport,
    by: str,
    enroll: bool,
    deferred: "_DeferredEnrollment",
) -> None:
    """Check every column first so a bad row is reported with all its problems at once; the
    row's savepoint undoes a customer created for a row that then fails."""
    values = row.values
    errors: dict[str, str] = {}
    external_id = values.get("external_id", "")
    if not external_id:
        errors["external_id"] = "is required (it makes re-importing the file safe)"
    service_type = values.get("service_type", "")
    if parse_service_type(service_type) is None:
        errors["service_type"] = unknown_service_type_message(service_type)
    status = completed_at = customer = None
    try:
        status = _status(values.get("status", ""))
    except _RowFailed as exc:
        errors.update(exc.errors)
    try:
        completed_at = _completed_at(values.get("completed_at", ""), business)
    except _RowFailed as exc:
        errors.update(exc.errors)
    try:
        customer = _customer(business, values, update=False, recorded_by=by).customer
    except _RowFailed as exc:
        errors.update(exc.errors)
    except ValidationError as exc:
        errors.update(_errors_of(exc))
    if errors:
        raise _RowFailed(errors)
    fields = {
        "customer": customer,
        "service_type": service_type,
        "status": status,
        "technician_name": values.get("technician_name", ""),
        "notes": values.get("notes", ""),
    }
    existing = Job.objects.filter(business=business, external_id=external_id).first()
    if existing is not None and existing.pk in deferred:
        deferred.flush()  # the same job twice in a chunk: enroll the first version first
        existing.refresh_from_db()
    if existing is not None and _same(existing, fields):
        report.unchanged += 1
        return
    if completed_at is not None:
        fields["completed_at"] = completed_at
    upserted = upsert_job(
        business=business, external_id=external_id, enroll_in_campaign=False, **fields
    )
    report.created += upserted.created
    report.updated += not upserted.created
    job = upserted.result.job
    # The completion trigger of create_job / update_job, with the engine run per chunk.
    previous = None if existing is None else existing.status
    if enroll and job.status in ENROLLMENT_TRIGGERS and job.status != previous:
        deferred.add(job)


class _DeferredEnrollment:
    """Jobs whose completion triggered enrollment, enrolled together at the end of each
    chunk through the engine's batch entry point (same rules, same per-job outcome)."""

    def __init__(self, report: ImportReport):
        self.report = report
        self.jobs: dict[int, Job] = {}

    def __contains__(self, job_pk: int) -> bool:
        return job_pk in self.jobs

    def add(self, job: Job) -> None:
        self.jobs[job.pk] = job

    def flush(self) -> None:
        jobs, self.jobs = list(self.jobs.values()), {}
        if not jobs:
            return
        try:
            with transaction.atomic():
                results = enroll_jobs(jobs)
        except Exception:
            # Enrollment never blocks an import: fall back to one job at a time, which
            # records an unexpected failure on the job instead of raising.
            logger.exception("batch enrollment failed; enrolling one job at a time")
            results = {job.pk: enroll_after_save(job) for job in jobs}
        for result in results.values():
            if result.success:
                self.report.enrolled += 1
            elif not (result.skipped and result.skip_reason == "do_not_send"):
                self.report.not_enrolled[result.skip_reason or "error"] += 1


def _same(job: Job, fields: dict) -> bool:
    return (
        job.customer_id == fields["customer"].pk
        and job.service_type == parse_service_type(fields["service_type"])
        and job.status == fields["status"]
        and job.technician_name == fields["technician_name"].strip()
        and job.notes == fields["notes"]
    )


def _run(
    *,
    kind: str,
    business: Business,
    source: BinaryIO,
    errors_to: TextIO | None,
    dry_run: bool,
    on_row: Callable[[int], None] | None,
    required: list[tuple[str, ...]],
    aliases: dict[str, str],
    import_row: Callable[[Row, ImportReport], None],
    end_of_chunk: Callable[[], None] | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    report = report or ImportReport(kind=kind, dry_run=dry_run)
    columns, rows, report.encoding = read_rows(source, aliases)
    report.unknown_columns = columns.unknown
    present = set(columns.by_index.values())
    missing = [" or ".join(group) for group in required if not present.intersection(group)]
    if missing:
        raise FileProblem(f"missing column(s): {', '.join(missing)}")
    names = list(dict.fromkeys(columns.by_index.values()))
    writer = csv.writer(errors_to) if errors_to is not None else None
    if writer is not None:
        writer.writerow(["row", "column", "reason", *names])

    def fail(row: Row, errors: dict[str, str]) -> None:
        report.failed += 1
        for column, reason in errors.items():
            if len(report.first_errors) < KEPT_ERRORS:
                report.first_errors.append(RowError(row.number, column, reason))
            if writer is not None:
                writer.writerow(
                    [row.number, column, reason, *(row.values.get(name, "") for name in names)]
                )

    def chunks() -> Iterator[list[Row]]:
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    with transaction.atomic() if dry_run else nullcontext():
        for chunk in chunks():
            with transaction.atomic():
                for row in chunk:
                    report.rows += 1
                    if row.problem:
                        fail(row, {row.problem_column: row.problem})
                    else:
                        try:
                            with transaction.atomic():
                                import_row(row, report)
                        except _RowFailed as exc:
                            fail(row, exc.errors)
                        except ValidationError as exc:
                            fail(row, _errors_of(exc))
                        except Exception as exc:  # reported on the row; the rest goes on
                            logger.exception("import row %s failed", row.number)
                            fail(row, {"": f"unexpected error: {type(exc).__name__}"})
                    if on_row is not None:
                        on_row(row.number)
                if end_of_chunk is not None:
                    end_of_chunk()
        if dry_run:
            transaction.set_rollback(True)
    return report


def import_customers(
    *,
    business: Business,
    source: BinaryIO,
    errors_to: TextIO | None = None,
    dry_run: bool = False,
    on_row: Callable[[int], None] | None = None,
    recorded_by: str = "csv import",
) -> ImportReport:
    """Import customers from a CSV file (binary stream). Matched by email, then phone:
    a matched customer takes the file's non-empty values; a new one is created."""
    return _run(
        kind="customers",
        business=business,
        source=source,
        errors_to=errors_to,
        dry_run=dry_run,
        on_row=on_row,
        required=[("name", "first_name", "last_name"), ("email", "phone")],
        aliases=build_aliases(CUSTOMER_COLUMNS),
        import_row=lambda row, report: _import_customer_row(business, row, report, recorded_by),
    )


def import_jobs(
    *,
    business: Business,
    source: BinaryIO,
    errors_to: TextIO | None = None,
    dry_run: bool = False,
    enroll: bool = True,
    on_row: Callable[[int], None] | None = None,
    recorded_by: str = "csv import",
) -> ImportReport:
    """Import jobs from a CSV file (binary stream), one per external id: a known external id
    updates its job. The customer is matched by email, then phone, else created. A job that
    is (or becomes) completed enrolls its customer unless `enroll` is false. An empty status
    means completed; a date without a time zone is the business's local time."""
    report = ImportReport(kind="jobs", dry_run=dry_run)
    deferred = _DeferredEnrollment(report)
    return _run(
        kind="jobs",
        business=business,
        source=source,
        errors_to=errors_to,
        dry_run=dry_run,
        on_row=on_row,
        required=[
            ("external_id",),
            ("service_type",),
            ("name", "first_name", "last_name"),
            ("email", "phone"),
        ],
        aliases=build_aliases(JOB_COLUMNS),
        import_row=lambda row, report: _import_job_row(
            business, row, report, recorded_by, enroll, deferred
        ),
        end_of_chunk=deferred.flush,
        report=report,
    )
