"""Customers of a business, their reachability and their consent (PRODUCT §8)."""

from django.db import models
from django.db.models import Q

from touchbase.languages import Language
from touchbase.loading import FastLoad
from touchbase.tenancy.models import Business
from touchbase.validation import validate_time_zone


class SmsConsent(models.TextChoices):
    UNKNOWN = "unknown", "Not given"
    GRANTED = "granted", "Opted in"
    REVOKED = "revoked", "Opted out"


class ConsentSource(models.TextChoices):
    FORM = "form", "Form"
    IMPORT = "import", "CSV import"
    API = "api", "API"
    KEYWORD = "keyword", "SMS keyword"
    CARRIER = "carrier", "Carrier"
    ADMIN = "admin", "Admin"


class PhoneUnusable(models.TextChoices):
    INVALID = "invalid", "Invalid number"
    LANDLINE = "landline", "Landline"
    UNKNOWN_HANDSET = "unknown_handset", "Unknown handset"


class Customer(FastLoad, models.Model):
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +14155550123")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Empty: guessed from the phone number, else the business's.",
    )
    # db_default: rows written by raw bulk inserts that predate the column stay valid.
    language = models.CharField(
        max_length=2,
        choices=Language.choices,
        blank=True,
        default="",
        db_default="",
        help_text="Empty: the business's default customer language.",
    )
    email_opted_out_at = models.DateTimeField(null=True, blank=True)
    email_bounced_at = models.DateTimeField(null=True, blank=True, help_text="Hard bounce.")
    sms_consent = models.CharField(
        max_length=10, choices=SmsConsent.choices, default=SmsConsent.UNKNOWN
    )
    sms_consent_changed_at = models.DateTimeField(null=True, blank=True)
    phone_unusable = models.CharField(max_length=20, choices=PhoneUnusable.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["business", "email"], name="customer_business_email"),
            models.Index(fields=["business", "phone"], name="customer_business_phone"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sms_consent__in=SmsConsent.values), name="customer_sms_consent_valid"
            ),
            models.CheckConstraint(
                condition=Q(phone="") | Q(phone__startswith="+"), name="customer_phone_is_e164"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["", *Language.values]), name="customer_language_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class ConsentRecord(models.Model):
    """One SMS opt-in or opt-out, kept for years (PRODUCT §8). Never edited, never cascaded
    away with the customer: the record must outlive a deleted customer."""

    class Action(models.TextChoices):
        OPT_IN = "opt_in", "Opt-in"
        OPT_OUT = "opt_out", "Opt-out"

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="consent_records"
    )
    phone = models.CharField(max_length=20)
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=10, choices=ConsentSource.choices)
    disclosure_text = models.TextField(blank=True, help_text="The exact text the customer saw.")
    recorded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["business", "phone"], name="consent_business_phone")]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=["opt_in", "opt_out"]), name="consent_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.action} via {self.source} at {self.created_at:%Y-%m-%d %H:%M}Z"


class SmsSuppression(models.Model):
    """A number that must not be texted by this business; survives deleting the customer."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20)
    reason = models.CharField(max_length=40)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "phone"], name="one_suppression_per_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} ({self.reason})"
