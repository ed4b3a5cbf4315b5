"""Campaigns (ordered touches), message templates and enrollments."""

from django.db import models
from django.db.models import Q

from touchbase.channels import Channel
from touchbase.customers.models import Customer
from touchbase.jobs.models import Job
from touchbase.loading import FastLoad
from touchbase.service_types import ServiceType
from touchbase.tenancy.models import Business

MAX_TOUCHES = 4
DELAY_HOURS_MIN, DELAY_HOURS_MAX = 1, 720


class MessageTemplate(models.Model):
    """A message body with whitelisted placeholders. System templates (no business) are the
    read-only defaults a business copies to customise."""

    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, null=True, blank=True, related_name="templates"
    )
    system_key = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=120)
    channel = models.CharField(max_length=5, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # Spanish-speaking customers get these; empty body_es: they get the English text.
    subject_es = models.CharField(max_length=200, blank=True, default="", db_default="")
    body_es = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="template_channel_valid"
            ),
            models.CheckConstraint(
                condition=(Q(business__isnull=True) & ~Q(system_key=""))
                | (Q(business__isnull=False) & Q(system_key="")),
                name="template_system_iff_no_business",
            ),
            models.CheckConstraint(
                condition=Q(channel="email") | Q(subject=""), name="template_sms_has_no_subject"
            ),
            models.CheckConstraint(
                condition=Q(channel="email") | Q(subject_es=""),
                name="template_sms_has_no_spanish_subject",
            ),
            models.UniqueConstraint(
                fields=["system_key"],
                condition=~Q(system_key=""),
                name="template_system_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_system(self) -> bool:
        return self.business_id is None

    def text_for(self, language: str) -> tuple[str, str, str]:
        """(language, subject, body) of the text a customer of `language` gets: the Spanish
        one when there is one, else the English one."""
        if language == "es" and self.body_es.strip():
            return "es", self.subject_es or self.subject, self.body_es
        return "en", self.subject, self.body


class CampaignStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class Campaign(models.Model):
    """A sequence of touches for one service type, or for all services (service_type NULL).
    Presets (no business) are read-only templates of whole campaigns."""

    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, null=True, blank=True, related_name="campaigns"
    )
    preset_key = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=120)
    # NULL, not "": NULL means "all services" and stays out of the per-type unique index.
    service_type = models.CharField(  # noqa: DJ001
        max_length=30,
        choices=ServiceType.choices,
        null=True,
        blank=True,
        help_text="Empty: all services (used when no campaign matches the job's service type).",
    )
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.ACTIVE
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(service_type__isnull=True) | Q(service_type__in=ServiceType.values),
                name="campaign_service_type_known",
            ),
            models.CheckConstraint(
                condition=(Q(business__isnull=True) & ~Q(preset_key=""))
                | (Q(business__isnull=False) & Q(preset_key="")),
                name="campaign_preset_iff_no_business",
            ),
            models.CheckConstraint(
                condition=Q(status="paused", paused_at__isnull=False)
                | Q(status="active", paused_at__isnull=True),
                name="campaign_paused_at_iff_paused",
            ),
            models.UniqueConstraint(
                fields=["business", "service_type"],
                condition=Q(service_type__isnull=False),
                name="one_campaign_per_service_type",
            ),
            models.UniqueConstraint(
                fields=["business"],
                condition=Q(service_type__isnull=True, status="active", business__isnull=False),
                name="one_active_all_services_campaign",
            ),
            models.UniqueConstraint(
                fields=["preset_key"], condition=~Q(preset_key=""), name="preset_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_preset(self) -> bool:
        return self.business_id is None


class Touch(models.Model):
    """One message of a campaign: `delay_hours` after the previous touch's *scheduled* time
    (touch 1: after enrollment, unless the business times it per service type)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="touches")
    position = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=5, choices=Channel.choices)
    delay_hours = models.PositiveIntegerField()
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="one_touch_per_position"),
            models.CheckConstraint(
                condition=Q(position__gte=1) & Q(position__lte=MAX_TOUCHES),
                name="touch_position_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(delay_hours__gte=DELAY_HOURS_MIN) & Q(delay_hours__lte=DELAY_HOURS_MAX),
                name="touch_delay_1_to_720_hours",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="touch_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} touch {self.position} ({self.channel}, +{self.delay_hours}h)"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen (campaign paused)"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


# An enrollment that may still send: the customer is "in a sequence".
LIVE_ENROLLMENT_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.FROZEN)


class StopReason(models.TextChoices):
    REVIEW_CLICKED = "review_clicked", "Clicked the review link"
    FEEDBACK_SUBMITTED = "feedback_submitted", "Sent private feedback"
    OPTED_OUT_SMS = "opted_out_sms", "Opted out of SMS"
    OPTED_OUT_EMAIL = "opted_out_email", "Opted out of email"
    CUSTOMER_REPLIED = "customer_replied", "Replied"
    REPEAT_JOB = "repeat_job", "Repeat job"
    OWNER_STOPPED = "owner_stopped", "Stopped by the owner"
    CUSTOMER_DELETED = "customer_deleted", "Customer deleted"
    JOB_DELETED = "job_deleted", "Job deleted"


class Enrollment(FastLoad, models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="enrollments")
    # SET_NULL: a finished campaign may be deleted, its enrollment history stays.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, related_name="enrollments"
    )
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, related_name="enrollments")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, related_name="enrollments"
    )
    status = models.CharField(
        max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True)
    current_position = models.PositiveSmallIntegerField(default=1)
    manual = models.BooleanField(default=False, help_text="Enrolled by hand (cooldown bypassed).")
    enrolled_at = models.DateTimeField()
    frozen_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-enrolled_at"], name="enrollment_customer_recent"),
            models.Index(fields=["campaign", "status"], name="enrollment_campaign_status"),
            models.Index(fields=["business", "-enrolled_at"], name="enrollment_business_recent"),
        ]
        constraints = [
            # A customer is in at most one sequence at a time (PRODUCT §1.4). This is stronger
            # than "one per customer and campaign" and implies it.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status__in=["active", "frozen"]),
                name="one_live_enrollment_per_customer",
            ),
            models.CheckConstraint(
                condition=Q(status__in=EnrollmentStatus.values), name="enrollment_status_valid"
            ),
            models.CheckConstraint(
                condition=(Q(status="stopped") & Q(stop_reason__in=StopReason.values))
                | (~Q(status="stopped") & Q(stop_reason="")),
                name="enrollment_stop_reason_iff_stopped",
            ),
            models.CheckConstraint(
                condition=Q(current_position__gte=1) & Q(current_position__lte=MAX_TOUCHES),
                name="enrollment_position_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(status="frozen", frozen_at__isnull=False) | ~Q(status="frozen"),
                name="enrollment_frozen_has_frozen_at",
            ),
        ]

    def __str__(self) -> str:
        return f"Enrollment #{self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_ENROLLMENT_STATUSES
