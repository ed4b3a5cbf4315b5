"""One job through intake: validated values in, the job created or updated by external id,
its customer matched by the one rule, enrollment by the engine's rules. The HTTP API, the
job webhook and the web form call `take_job`; CSV import and `POST /api/v1/jobs:batch` use
the set-based `touchbase.intake.bulk`, which applies the same rules to a chunk at once.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from touchbase.campaigns.enrollment import EnrollmentResult
from touchbase.customers.models import ConsentSource, Customer
from touchbase.intake.matching import match_or_create_customer
from touchbase.intake.schema import JobIntake
from touchbase.intake.upsert import upsert_job
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job
from touchbase.tenancy.models import Business

NEW_JOB_NEEDS_CUSTOMER = "is required for a new job (give customer_id or customer)"


@dataclass(frozen=True)
class IntakeResult:
    job: Job
    created: bool
    enrollment: EnrollmentResult | None
    warnings: list[str] = field(default_factory=list)


def new_job_problems(intake: JobIntake, existing: Job | None) -> dict[str, str]:
    """What a job needs only when it is new (an update keeps the job's own values)."""
    if existing is not None:
        return {}
    problems = {}
    if intake.service_type is None:
        problems["service_type"] = "is required for a new job"
    if intake.customer is None and intake.customer_id is None:
        problems["customer"] = NEW_JOB_NEEDS_CUSTOMER
    return problems


def job_fields(intake: JobIntake, customer: Customer | None) -> dict:
    """The job fields `intake` sets (what it leaves out, an update keeps)."""
    fields = {
        "customer": customer,
        "service_type": intake.service_type,
        "status": intake.status,
        "technician_name": intake.technician_name,
        "notes": intake.notes,
    }
    return {name: value for name, value in fields.items() if value is not None}


def take_job(
    *,
    business: Business,
    intake: JobIntake,
    recorded_by: str,
    consent_source: str = ConsentSource.API,
    update_known: bool = True,
) -> IntakeResult:
    """Create or update the job `intake` describes; see the module docstring. Raises one
    ValidationError naming every problem found before anything is written. The web form's
    "add a job" passes `update_known=False`: there a known job number is a mistake."""
    existing = None
    if intake.external_id:
        existing = Job.objects.filter(business=business, external_id=intake.external_id).first()
    problems = new_job_problems(intake, existing)
    if existing is not None and not update_known:
        problems["external_id"] = f"{intake.external_id!r} is already used by another job"
    customer = None
    if intake.customer_id is not None:
        customer = Customer.objects.filter(business=business, pk=intake.customer_id).first()
        if customer is None:
            problems["customer_id"] = "not found for this business"
    if problems:
        raise ValidationError(problems)
    warnings: list[str] = []
    if intake.customer is not None:
        match = match_or_create_customer(
            business=business,
            given=intake.customer,
            consent_source=consent_source,
            recorded_by=recorded_by,
        )
        customer, warnings = match.customer, match.warnings
    fields = job_fields(intake, customer)
    if intake.completed_at is not None:
        fields["completed_at"] = intake.completed_at
    if intake.external_id:
        upserted = upsert_job(
            business=business,
            external_id=intake.external_id,
            enroll_in_campaign=intake.enroll,
            **fields,
        )
        result, created = upserted.result, upserted.created
    else:
        result = create_job(business=business, enroll_in_campaign=intake.enroll, **fields)
        created = True
    return IntakeResult(result.job, created, result.enrollment, warnings)
