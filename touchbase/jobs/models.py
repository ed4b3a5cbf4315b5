"""Jobs: the work a business did for a customer; completing one triggers enrollment."""

from django.db import models
from django.db.models import Q

from touchbase.customers.models import Customer
from touchbase.loading import FastLoad
from touchbase.service_types import ServiceType
from touchbase.tenancy.models import Business


class JobStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    DO_NOT_SEND = "do_not_send", "Completed, do not send"


class EnrollmentOutcome(models.TextChoices):
    """What happened the last time this job was offered to the enrollment engine."""

    ENROLLED = "enrolled", "Enrolled"
    SKIPPED = "skipped", "Not enrolled"
    FAILED = "failed", "Enrollment failed"


class Job(FastLoad, models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="jobs")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="jobs")
    service_type = models.CharField(max_length=30, choices=ServiceType.choices)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.SCHEDULED)
    completed_at = models.DateTimeField(null=True, blank=True)
    # NULL, not "": jobs without an external id stay out of the unique index.
    external_id = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text="The job's id in the system that sent it; unique per business.",
    )
    technician_name = models.CharField(max_length=100, blank=True)
    notes = models.TextField(blank=True)
    enrollment_outcome = models.CharField(
        max_length=10, choices=EnrollmentOutcome.choices, blank=True
    )
    enrollment_reason = models.CharField(
        max_length=40, blank=True, help_text="Skip reason or error code, e.g. cooldown."
    )
    enrollment_detail = models.CharField(max_length=255, blank=True)
    enrollment_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["business", "-created_at"], name="job_business_recent"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "external_id"],
                condition=Q(external_id__isnull=False),
                name="job_external_id_unique_per_business",
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(service_type__in=ServiceType.values), name="job_service_type_known"
            ),
            models.CheckConstraint(
                condition=Q(status="scheduled") | Q(completed_at__isnull=False),
                name="job_completed_has_completed_at",
            ),
            models.CheckConstraint(
                condition=Q(enrollment_outcome__in=["", *EnrollmentOutcome.values]),
                name="job_enrollment_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} job #{self.pk} for {self.customer_id}"
