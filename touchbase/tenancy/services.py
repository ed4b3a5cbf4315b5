"""Writes on businesses and memberships."""

from dataclasses import dataclass
from datetime import time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.text import slugify

from touchbase import clock
from touchbase.delivery.services import release_setup_holds
from touchbase.languages import Language
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import (
    COOLDOWN_DAYS_MAX,
    COOLDOWN_DAYS_MIN,
    LEGAL_WINDOW_END,
    LEGAL_WINDOW_START,
    TOUCH1_HOURS_MAX,
    TOUCH1_HOURS_MIN,
    Business,
    Membership,
    User,
    new_webhook_secret,
)
from touchbase.tenancy.setup import missing_setup, review_destination_problems
from touchbase.tenancy.verification import send_account_exists, send_verification
from touchbase.validation import validate_time_zone

SETTINGS_FIELDS = (
    "name",
    "time_zone",
    "review_url",
    "google_place_id",
    "sender_name",
    "sender_email",
    "reply_to_email",
    "contact_phone",
    "postal_address",
    "service_types",
    "service_type_timing",
    "cooldown_days",
    "send_window_start",
    "send_window_end",
    "email_hourly_limit",
    "sms_hourly_limit",
    "stop_on_reply",
    "default_customer_language",
)


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_settings(business: Business, changes: dict[str, Any]) -> None:
    """Apply `changes` to `business` (unsaved), raising one error that names every bad field."""
    errors: dict[str, str] = {}
    for name, value in changes.items():
        if name not in SETTINGS_FIELDS:
            errors[name] = "is not a business setting"
        elif name == "time_zone":
            try:
                validate_time_zone(value)
            except ValidationError as exc:
                errors[name] = exc.messages[0]
        elif name == "service_types":
            parsed = [parse_service_type(str(item)) for item in value or []]
            bad = [item for item, ok in zip(value or [], parsed, strict=True) if ok is None]
            if bad:
                errors[name] = unknown_service_type_message(str(bad[0]))
            value = sorted(set(filter(None, parsed)))
        elif name == "service_type_timing":
            if not isinstance(value, dict):
                errors[name] = 'must map service types to hours, e.g. {"hvac": 24}'
                continue
            timing = {}
            for raw_type, hours in value.items():
                service_type = parse_service_type(str(raw_type))
                if service_type is None:
                    errors[name] = unknown_service_type_message(str(raw_type))
                elif not _whole_number(hours) or not TOUCH1_HOURS_MIN <= hours <= TOUCH1_HOURS_MAX:
                    errors[name] = (
                        f"{service_type}: hours before touch 1 must be a whole number from "
                        f"{TOUCH1_HOURS_MIN} to {TOUCH1_HOURS_MAX} (got {hours!r})"
                    )
                else:
                    timing[service_type] = hours
            value = timing
        elif name == "cooldown_days":
            if not _whole_number(value) or not COOLDOWN_DAYS_MIN <= value <= COOLDOWN_DAYS_MAX:
                errors[name] = (
                    f"must be a whole number of days from {COOLDOWN_DAYS_MIN} to "
                    f"{COOLDOWN_DAYS_MAX} (got {value!r})"
                )
        elif name in ("email_hourly_limit", "sms_hourly_limit"):
            if not _whole_number(value) or value < 1:
                errors[name] = f"must be a whole number of at least 1 (got {value!r})"
        elif name == "default_customer_language" and value not in Language.values:
            errors[name] = f"{value!r} is not a language touchbase writes in (en or es)"
        elif name in ("send_window_start", "send_window_end") and not isinstance(value, time):
            errors[name] = f"must be a time of day (got {value!r})"
        setattr(business, name, value)
    if not errors:
        if business.send_window_start < LEGAL_WINDOW_START:
            errors["send_window_start"] = "cannot be earlier than 08:00 (the legal limit)"
        if business.send_window_end > LEGAL_WINDOW_END:
            errors["send_window_end"] = "cannot be later than 21:00 (the legal limit)"
        if business.send_window_start >= business.send_window_end:
            errors["send_window_end"] = "must be later than the start of the send window"
    if not errors:
        try:
            business.full_clean(exclude=["slug", "webhook_secret"])
        except ValidationError as exc:
            errors.update({field: msgs[0] for field, msgs in exc.message_dict.items()})
    if not errors:
        errors.update(
            review_destination_problems(
                review_url=business.review_url, google_place_id=business.google_place_id
            )
        )
    if not errors and business.pk and business.campaigns.filter(status="active").exists():
        # An active campaign would start holding its touches: refuse to undo the setup.
        errors.update(
            {
                field: f"{problem} (a campaign is active)"
                for field, problem in missing_setup(business).items()
                if {field, "google_place_id" if field == "review_url" else field} & changes.keys()
            }
        )
    if errors:
        raise ValidationError(errors)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "business"
    slug, n = base, 2
    while Business.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_business(*, name: str, owner: User | None = None, **settings: Any) -> Business:
    business = Business(slug=_unique_slug(name or ""))
    _clean_settings(business, {"name": name, **settings})
    with transaction.atomic():
        business.save()
        if owner is not None:
            Membership.objects.create(user=owner, business=business, role=Membership.Role.OWNER)
    return business


def update_business_settings(*, business: Business, **changes: Any) -> Business:
    """Validate and save; on any error nothing changes (the instance is reloaded)."""
    try:
        _clean_settings(business, changes)
    except ValidationError:
        business.refresh_from_db()
        raise
    business.save()
    if not missing_setup(business):
        release_setup_holds(business=business)
    return business


def add_member(*, business: Business, user: User, role: str = Membership.Role.STAFF) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        user=user, business=business, defaults={"role": role}
    )
    return membership


@dataclass(frozen=True)
class SignUp:
    user: User | None  # None: the address already had an account (told so by email)
    business: Business | None


def _valid_owner_fields(email: str, password: str, business_name: str) -> str:
    """The normalised email, or one error naming every bad field."""
    errors: dict[str, str] = {}
    email = User.objects.normalize_email((email or "").strip()).lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = f"{email!r} is not a valid email address"
    try:
        validate_password(password or "", User(email=email))
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if not (business_name or "").strip():
        errors["business_name"] = "is required"
    if errors:
        raise ValidationError(errors)
    return email


def _create_owner(*, email: str, password: str, business_name: str, **user_fields) -> SignUp:
    with transaction.atomic():
        user = User.objects.create_user(email, password, **user_fields)
        try:
            business = create_business(name=business_name.strip(), owner=user)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "business_name" if field == "name" else field: msgs[0]
                    for field, msgs in exc.message_dict.items()
                }
            ) from None
    return SignUp(user=user, business=business)


def sign_up(*, email: str, password: str, business_name: str) -> SignUp:
    """A new owner on an open install: their login (unverified until they open the emailed
    link), their business (default settings) and the membership that makes them its owner,
    all or nothing. Errors name the field: email, password or business_name.

    An address that already has an account gets nothing new, but an email saying so; the
    caller answers both cases alike, so sign-up does not reveal who has an account."""
    email = _valid_owner_fields(email, password, business_name)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        make_password(password)  # the same work as a real sign-up, so timing tells little
        send_account_exists(existing)
        return SignUp(user=None, business=None)
    result = _create_owner(email=email, password=password, business_name=business_name)
    send_verification(result.user)
    return result


def create_owner(
    *, email: str, password: str, business_name: str, operator: bool = False
) -> SignUp:
    """An owner made at the server (`touchbase createowner`): verified, since the operator
    typed the address; `operator` also opens the Django admin to them."""
    email = _valid_owner_fields(email, password, business_name)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"{email} already has an account"})
    return _create_owner(
        email=email,
        password=password,
        business_name=business_name,
        email_verified_at=clock.now(),
        is_staff=operator,
        is_superuser=operator,
    )


def rotate_webhook_secret(*, business: Business) -> str:
    """A new secret for signed job webhooks; the old one stops working at once."""
    business.webhook_secret = new_webhook_secret()
    Business.objects.filter(pk=business.pk).update(webhook_secret=business.webhook_secret)
    return business.webhook_secret
