"""Businesses (the tenants), the people who run them, and their memberships."""

import secrets
from datetime import time

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q

from touchbase.languages import Language
from touchbase.validation import validate_time_zone

# The federal floor for texting and emailing consumers (PRODUCT §8): owners may narrow the
# window, never widen it past this.
LEGAL_WINDOW_START = time(8, 0)
LEGAL_WINDOW_END = time(21, 0)
COOLDOWN_DAYS_MIN, COOLDOWN_DAYS_MAX = 7, 90
TOUCH1_HOURS_MIN, TOUCH1_HOURS_MAX = 1, 720


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Business(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    review_url = models.URLField(blank=True, help_text="Where the tracked review link leads.")
    google_place_id = models.CharField(
        max_length=255, blank=True, help_text="Builds the Google review link when set."
    )
    sender_name = models.CharField(max_length=100, blank=True)
    sender_email = models.EmailField(blank=True)
    reply_to_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    postal_address = models.TextField(blank=True, help_text="Shown in every email's footer.")
    service_types = models.JSONField(default=list, blank=True, help_text="Service types offered.")
    service_type_timing = models.JSONField(
        default=dict,
        blank=True,
        help_text='Hours before touch 1 per service type, e.g. {"hvac": 24}.',
    )
    cooldown_days = models.PositiveSmallIntegerField(default=30)
    send_window_start = models.TimeField(default=time(9, 0))
    send_window_end = models.TimeField(default=time(20, 0))
    email_hourly_limit = models.PositiveIntegerField(default=100)
    sms_hourly_limit = models.PositiveIntegerField(default=100)
    stop_on_reply = models.BooleanField(default=True)
    default_customer_language = models.CharField(
        max_length=2,
        choices=Language.choices,
        default=Language.ENGLISH,
        db_default=Language.ENGLISH,
        help_text="The language of customers whose own language is not given.",
    )
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "businesses"
        constraints = [
            models.CheckConstraint(
                condition=Q(cooldown_days__gte=COOLDOWN_DAYS_MIN)
                & Q(cooldown_days__lte=COOLDOWN_DAYS_MAX),
                name="business_cooldown_days_7_to_90",
            ),
            models.CheckConstraint(
                condition=Q(send_window_start__gte=LEGAL_WINDOW_START)
                & Q(send_window_end__lte=LEGAL_WINDOW_END)
                & Q(send_window_start__lt=models.F("send_window_end")),
                name="business_send_window_within_legal_hours",
            ),
            models.CheckConstraint(
                condition=Q(email_hourly_limit__gte=1) & Q(sms_hourly_limit__gte=1),
                name="business_hourly_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(default_customer_language__in=Language.values),
                name="business_default_customer_language_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def review_link(self) -> str:
        """The destination of the tracked review link (the Place ID wins when both are set)."""
        if self.google_place_id:
            return f"https://search.google.com/local/writereview?placeid={self.google_place_id}"
        return self.review_url

    def touch1_hours_for(self, service_type: str) -> int | None:
        hours = (self.service_type_timing or {}).get(service_type)
        return int(hours) if hours else None


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in. Identified by email; may belong to several businesses."""

    username = None
    email = models.EmailField(unique=True)
    # Nothing leaves touchbase for an account until it proved it holds its address (an open
    # install lets anyone sign up); `createowner`, invitations and the reset link prove it.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The only number a test text may go to: proved by a code sent to it.
    phone = models.CharField(max_length=20, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def verified_phone(self) -> str:
        return self.phone if self.phone and self.phone_verified_at else ""


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OWNER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "business"], name="one_membership_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "staff"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.business} ({self.role})"


class Invitation(models.Model):
    """An owner's offer of a role in a business to whoever holds `email`. It becomes a
    membership only when a person logged in with that address accepts it from the emailed,
    signed link before it expires (touchbase/tenancy/invitations.py)."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.STAFF
    )
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["owner", "staff"]), name="invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.business} ({self.role})"
