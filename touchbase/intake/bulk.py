"""The set-based intake path: a chunk of validated jobs (CSV import, `POST /jobs:batch`)
with the rules of `take_job`, in a few statements per chunk instead of a dozen per job.

1. Jobs known by external id and customers given by id: one query each.
2. Problems only the database can show (a new job without service type or customer, an
   unknown customer id) refuse their item before any write.
3. Customers by the matching rule (`intake.matching.CustomerIndex`) on one query for the chunk's
   emails and phones; the missing ones are looked up again under the creation lock, then
   created with one INSERT, their consent records with another; the suppression list is read
   once.
4. New jobs: one INSERT (a concurrent API upsert of the same external id makes it fail; the
   chunk then looks the jobs up again and updates them instead). Changed jobs go through
   `update_job` one by one (the rare case on a re-import); unchanged ones cost nothing.
5. Jobs whose completion triggers enrollment go to the engine's batch entry point.

An external id seen twice in one call splits the call at the repeat, so the second version
updates the first as it would one by one. No per-item savepoint: a bad item is refused
before anything is written. Callers hold the transaction.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from touchbase import clock
from touchbase.campaigns.enrollment import EnrollmentResult
from touchbase.campaigns.enrollment_batch import enroll_jobs
from touchbase.customers.models import ConsentSource, Customer, SmsConsent
from touchbase.customers.services import build_customer, consent_record
from touchbase.delivery.bulk_write import insert_rows
from touchbase.intake.matching import (
    SUPPRESSED_WARNING,
    CustomerIndex,
    candidates_for,
    lock_customer_creation,
    record_consent_given,
    suppressed_phones,
)
from touchbase.intake.pipeline import job_fields, new_job_problems
from touchbase.intake.schema import CustomerIntake, JobIntake
from touchbase.jobs.models import Job, JobStatus
from touchbase.jobs.services import ENROLLMENT_TRIGGERS, build_job, enroll_after_save, update_job
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)


@dataclass
class ItemResult:
    """What happened to one item: refused (`errors`), or its job created, updated or left
    unchanged, and the enrollment engine's answer when its completion triggered it."""

    errors: dict[str, str] = field(default_factory=dict)
    job: Job | None = None
    created: bool = False
    updated: bool = False
    previous_status: str | None = None  # before this update; None for a new job
    enrollment: EnrollmentResult | None = None
    warnings: list[str] = field(default_factory=list)


def take_jobs(
    *,
    business: Business,
    intakes: Sequence[JobIntake],
    recorded_by: str,
    consent_source: str = ConsentSource.IMPORT,
) -> list[ItemResult]:
    """One ItemResult per intake, in order; see the module docstring."""
    results: list[ItemResult] = []
    segment: list[JobIntake] = []
    seen: set[str] = set()
    for intake in intakes:
        if intake.external_id and intake.external_id in seen:
            results += _segment(business, segment, recorded_by, consent_source)
            segment, seen = [], set()
        segment.append(intake)
        if intake.external_id:
            seen.add(intake.external_id)
    return results + _segment(business, segment, recorded_by, consent_source)


def _segment(
    business: Business, intakes: list[JobIntake], recorded_by: str, consent_source: str
) -> list[ItemResult]:
    if not intakes:
        return []
    results = [ItemResult() for _ in intakes]
    existing = _jobs_by_external_id(business, intakes)
    by_id = Customer.objects.filter(
        business=business, pk__in=[i.customer_id for i in intakes if i.customer_id]
    ).in_bulk()
    for intake, result in zip(intakes, results, strict=True):
        result.errors = new_job_problems(intake, existing.get(intake.external_id))
        if intake.customer_id and intake.customer_id not in by_id:
            result.errors["customer_id"] = "not found for this business"
    customers = _match_customers(business, intakes, results, recorded_by, consent_source)
    for position, intake in enumerate(intakes):
        if intake.customer_id in by_id:
            customers[position] = by_id[intake.customer_id]
    _write_jobs(business, intakes, results, customers, existing)
    _enroll(intakes, results)
    return results


def _jobs_by_external_id(business: Business, intakes: Sequence[JobIntake]) -> dict[str, Job]:
    ids = [intake.external_id for intake in intakes if intake.external_id]
    if not ids:
        return {}
    jobs = Job.objects.filter(business=business, external_id__in=ids)
    return {job.external_id: job for job in jobs}


def _match_customers(
    business: Business,
    intakes: list[JobIntake],
    results: list[ItemResult],
    recorded_by: str,
    consent_source: str,
) -> dict[int, Customer]:
    """Position in the chunk -> its customer, by the matching rule; creates the missing."""
    given = {
        position: intake.customer
        for position, intake in enumerate(intakes)
        if intake.customer is not None and not results[position].errors
    }
    matched = _pick_all(business, given)
    suppressed = suppressed_phones(business, [c.phone for c in given.values()])
    new_ones: list[Customer] = []
    if len(matched) < len(given):
        lock_customer_creation(business)
        matched = _pick_all(business, given)  # some may have been created meanwhile
        matched, new_ones = _create(
            business, given, matched, suppressed, recorded_by, consent_source
        )
    created = {id(customer) for customer in new_ones}
    for position, customer in given.items():
        found = matched[position]
        if id(found) not in created:
            _, warnings = record_consent_given(
                found,
                customer,
                suppressed=customer.phone in suppressed,
                source=consent_source,
                recorded_by=recorded_by,
            )
            results[position].warnings += warnings
        elif customer.sms_consent and customer.phone in suppressed:
            results[position].warnings.append(SUPPRESSED_WARNING)
    return matched


def _pick_all(business: Business, given: dict[int, CustomerIntake]) -> dict[int, Customer]:
    if not given:
        return {}
    candidates = candidates_for(
        business, [c.email for c in given.values()], [c.phone for c in given.values()]
    )
    index = CustomerIndex(candidates)
    picked = {p: index.pick(c.email, c.phone) for p, c in given.items()}
    return {p: customer for p, customer in picked.items() if customer is not None}


def _create(
    business: Business,
    given: dict[int, CustomerIntake],
    matched: dict[int, Customer],
    suppressed: set[str],
    recorded_by: str,
    consent_source: str,
) -> tuple[dict[int, Customer], list[Customer]]:
    """Every position's customer, and the new ones, created with one INSERT. Walks the chunk
    in order, as one by one would: a customer created for an earlier item is newer than
    every stored one, so it wins only by email over a stored phone match, or when nothing
    stored matched (the rule's "oldest first")."""
    now = clock.now()
    new: list[Customer] = []
    earlier_ones = CustomerIndex()
    consent: dict[int, CustomerIntake] = {}
    resolved: dict[int, Customer] = {}
    for position, wanted in given.items():
        stored = matched.get(position)
        earlier = earlier_ones.pick(wanted.email, wanted.phone)
        by_email = bool(wanted.email) and earlier is not None and earlier.email == wanted.email
        if stored is not None and (not by_email or stored.email == wanted.email):
            resolved[position] = stored
        elif earlier is not None:
            resolved[position] = earlier
        else:
            fields = {"name": wanted.name, "email": wanted.email, "phone": wanted.phone}
            customer = build_customer(
                business,
                {**fields, "time_zone": wanted.time_zone, "language": wanted.language},
                suppressed=wanted.phone in suppressed,
                now=now,
            )
            if wanted.sms_consent and wanted.phone and wanted.phone not in suppressed:
                customer.sms_consent, customer.sms_consent_changed_at = SmsConsent.GRANTED, now
                consent[len(new)] = wanted
            new.append(customer)
            earlier_ones.add(customer)
            resolved[position] = customer
    insert_rows(new)
    insert_rows(
        [
            consent_record(
                new[index],
                granted=True,
                source=consent_source,
                disclosure_text=wanted.consent_disclosure,
                recorded_by=recorded_by,
                now=now,
            )
            for index, wanted in consent.items()
        ]
    )
    return resolved, new


def _unchanged(job: Job, fields: dict) -> bool:
    return all(
        (job.customer_id == value.pk) if name == "customer" else getattr(job, name) == value
        for name, value in fields.items()
    )


def _write_jobs(
    business: Business,
    intakes: list[JobIntake],
    results: list[ItemResult],
    customers: dict[int, Customer],
    existing: dict[str, Job],
) -> None:
    for attempt in range(2):
        new = [
            p
            for p, intake in enumerate(intakes)
            if not results[p].errors and existing.get(intake.external_id) is None
        ]
        jobs = []
        for position in new:
            intake = intakes[position]
            fields = job_fields(intake, customers.get(position))
            fields.setdefault("status", JobStatus.SCHEDULED)
            fields["external_id"] = intake.external_id
            jobs.append(build_job(business, fields, intake.completed_at))
        try:
            with transaction.atomic():
                insert_rows(jobs)
            break
        except IntegrityError:
            # A concurrent upsert took one of these external ids: update that job instead.
            if attempt:
                raise
            existing = _jobs_by_external_id(business, intakes)
    for position, job in zip(new, jobs, strict=True):
        results[position].job, results[position].created = job, True
    for position, intake in enumerate(intakes):
        job = existing.get(intake.external_id)
        if results[position].errors or job is None:
            continue
        fields = job_fields(intake, customers.get(position))
        results[position].job = job
        if not _unchanged(job, fields):
            results[position].previous_status = job.status
            update_job(job=job, enroll_in_campaign=False, **fields)
            results[position].updated = True


def _enroll(intakes: list[JobIntake], results: list[ItemResult]) -> None:
    """The completion trigger of create_job / update_job, for the chunk at once."""
    triggered: dict[int, int] = {}
    for position, (intake, result) in enumerate(zip(intakes, results, strict=True)):
        job = result.job
        if job is None or not intake.enroll or job.status not in ENROLLMENT_TRIGGERS:
            continue
        if result.created or (result.updated and job.status != result.previous_status):
            triggered[job.pk] = position
    if not triggered:
        return
    jobs = [results[position].job for position in triggered.values()]
    try:
        with transaction.atomic():
            outcomes = enroll_jobs(jobs)
    except Exception:
        # Enrollment never blocks intake: one job at a time records a failure on its job.
        logger.exception("batch enrollment failed; enrolling one job at a time")
        outcomes = {job.pk: enroll_after_save(job) for job in jobs}
    for job_pk, position in triggered.items():
        results[position].enrollment = outcomes.get(job_pk)
