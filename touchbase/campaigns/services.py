"""Writes on campaigns, touches and message templates (PRODUCT §2).

Presets and system templates are read-only: every function here refuses to change them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from touchbase import clock
from touchbase.campaigns.models import (
    DELAY_HOURS_MAX,
    DELAY_HOURS_MIN,
    LIVE_ENROLLMENT_STATUSES,
    MAX_TOUCHES,
    Campaign,
    CampaignStatus,
    Enrollment,
    EnrollmentStatus,
    MessageTemplate,
    Touch,
)
from touchbase.campaigns.placeholders import (
    TemplateSyntaxProblem,
    unknown_placeholders,
    valid_placeholder_list,
)
from touchbase.channels import Channel
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import Business
from touchbase.tenancy.setup import require_setup


@dataclass(frozen=True)
class TouchSpec:
    channel: str
    delay_hours: int
    template: MessageTemplate


# --- campaigns -----------------------------------------------------------------------------


def _guard_editable(campaign: Campaign) -> None:
    if campaign.is_preset:
        raise ValidationError(
            {"campaign": "presets are read-only; create a campaign from the preset to customise it"}
        )


def _clean_service_type(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    service_type = parse_service_type(raw)
    if service_type is None:
        raise ValidationError({"service_type": unknown_service_type_message(raw)})
    return service_type


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "is required"})
    if len(name) > 120:
        raise ValidationError({"name": "is longer than 120 characters"})
    return name


def _check_slot_free(
    *, business: Business, service_type: str | None, status: str, exclude: Campaign | None = None
) -> None:
    """The clear error for the two uniqueness rules (the database enforces them too)."""
    others = Campaign.objects.filter(business=business)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if service_type is not None:
        clash = others.filter(service_type=service_type).first()
        if clash:
            raise ValidationError(
                {
                    "service_type": f"{clash.name!r} already covers {service_type}; "
                    "a business has one campaign per service type"
                }
            )
    elif status == CampaignStatus.ACTIVE:
        clash = others.filter(service_type__isnull=True, status=CampaignStatus.ACTIVE).first()
        if clash:
            raise ValidationError(
                {
                    "service_type": f"{clash.name!r} is already the active all-services campaign; "
                    "pause it first or pick a service type"
                }
            )


def _clean_touches(business: Business, touches: Sequence[TouchSpec]) -> list[TouchSpec]:
    if not 1 <= len(touches) <= MAX_TOUCHES:
        raise ValidationError(
            {"touches": f"a campaign has 1 to {MAX_TOUCHES} touches (got {len(touches)})"}
        )
    errors: dict[str, str] = {}
    for index, spec in enumerate(touches, start=1):
        prefix = f"touches[{index}]"
        if spec.channel not in Channel.values:
            errors[f"{prefix}.channel"] = f"{spec.channel!r} is not one of: email, sms"
        if (
            not isinstance(spec.delay_hours, int)
            or isinstance(spec.delay_hours, bool)
            or not DELAY_HOURS_MIN <= spec.delay_hours <= DELAY_HOURS_MAX
        ):
            errors[f"{prefix}.delay_hours"] = (
                f"must be a whole number of hours from {DELAY_HOURS_MIN} to {DELAY_HOURS_MAX} "
                f"(got {spec.delay_hours!r})"
            )
        template = spec.template
        if template.business_id not in (None, business.pk):
            errors[f"{prefix}.template"] = "not found for this business"
        elif template.channel != spec.channel:
            errors[f"{prefix}.template"] = (
                f"{template.name!r} is an {template.channel} template; this touch is {spec.channel}"
            )
    if errors:
        raise ValidationError(errors)
    return list(touches)


def _write_touches(campaign: Campaign, touches: Sequence[TouchSpec]) -> None:
    campaign.touches.all().delete()
    Touch.objects.bulk_create(
        Touch(
            campaign=campaign,
            position=position,
            channel=spec.channel,
            delay_hours=spec.delay_hours,
            template=spec.template,
        )
        for position, spec in enumerate(touches, start=1)
    )


def _save_new_campaign(
    *,
    business: Business,
    name: str,
    service_type: str | None,
    status: str,
    touches: Sequence[TouchSpec],
) -> Campaign:
    name = _clean_name(name)
    service_type = _clean_service_type(service_type)
    if status not in CampaignStatus.values:
        raise ValidationError({"status": f"{status!r} is not one of: active, paused"})
    touches = _clean_touches(business, touches)
    if status == CampaignStatus.ACTIVE:
        require_setup(business)
    _check_slot_free(business=business, service_type=service_type, status=status)
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                business=business,
                name=name,
                service_type=service_type,
                status=status,
                paused_at=clock.now() if status == CampaignStatus.PAUSED else None,
            )
            _write_touches(campaign, touches)
    except IntegrityError:  # lost a race for the same slot
        raise ValidationError(
            {"service_type": "another campaign took this service type a moment ago"}
        ) from None
    return campaign


def _specs_of(campaign: Campaign) -> list[TouchSpec]:
    return [
        TouchSpec(channel=touch.channel, delay_hours=touch.delay_hours, template=touch.template)
        for touch in campaign.touches.select_related("template").order_by("position")
    ]


def create_campaign(
    *,
    business: Business,
    name: str,
    touches: Sequence[TouchSpec],
    service_type: str | None = None,
    status: str = CampaignStatus.ACTIVE,
) -> Campaign:
    return _save_new_campaign(
        business=business, name=name, service_type=service_type, status=status, touches=touches
    )


def create_campaign_from_preset(
    *,
    business: Business,
    preset: Campaign,
    name: str | None = None,
    service_type: str | None = None,
    status: str = CampaignStatus.ACTIVE,
) -> Campaign:
    if not preset.is_preset:
        raise ValidationError({"preset": f"{preset.name!r} is not a preset"})
    return _save_new_campaign(
        business=business,
        name=name or preset.name,
        service_type=service_type,
        status=status,
        touches=_specs_of(preset),
    )


def duplicate_campaign(
    *,
    campaign: Campaign,
    name: str | None = None,
    service_type: str | None = None,
    status: str = CampaignStatus.PAUSED,
) -> Campaign:
    """A copy to edit; paused by default so it cannot take the original's jobs by surprise."""
    _guard_editable(campaign)
    return _save_new_campaign(
        business=campaign.business,
        name=name or f"{campaign.name} (copy)",
        service_type=service_type,
        status=status,
        touches=_specs_of(campaign),
    )


def update_campaign(
    *, campaign: Campaign, name: str | None = None, service_type: str | None = ...
) -> Campaign:
    """Rename, or move to another service type (None: all services). `...` leaves it."""
    _guard_editable(campaign)
    if name is not None:
        campaign.name = _clean_name(name)
    if service_type is not ...:
        campaign.service_type = _clean_service_type(service_type)
        _check_slot_free(
            business=campaign.business,
            service_type=campaign.service_type,
            status=campaign.status,
            exclude=campaign,
        )
    campaign.save()
    return campaign


def set_campaign_touches(*, campaign: Campaign, touches: Sequence[TouchSpec]) -> Campaign:
    """Replace the sequence. Live enrollments keep their next scheduled touch and follow the
    new sequence from there; one whose position is past the new end completes after it."""
    _guard_editable(campaign)
    touches = _clean_touches(campaign.business, touches)
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        _write_touches(campaign, touches)
    return campaign


def pause_campaign(*, campaign: Campaign) -> int:
    """Freeze the campaign's active enrollments and hold their pending touches.
    Returns how many enrollments were frozen."""
    _guard_editable(campaign)
    now = clock.now()
    with transaction.atomic():
        paused = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.ACTIVE).update(
            status=CampaignStatus.PAUSED, paused_at=now, updated_at=now
        )
        campaign.refresh_from_db()
        if not paused:
            return 0
        frozen = Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.ACTIVE
        ).update(status=EnrollmentStatus.FROZEN, frozen_at=now)
        Delivery.objects.filter(
            enrollment__campaign=campaign,
            enrollment__status=EnrollmentStatus.FROZEN,
            status=DeliveryStatus.PENDING,
        ).update(status=DeliveryStatus.HELD, updated_at=now)
    return frozen


def resume_campaign(*, campaign: Campaign) -> int:
    """Reactivate the campaign; its frozen enrollments continue with every remaining touch
    shifted by the length of the pause. Returns how many enrollments resumed."""
    _guard_editable(campaign)
    now = clock.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.PAUSED:
            return 0
        require_setup(campaign.business)
        _check_slot_free(
            business=campaign.business,
            service_type=campaign.service_type,
            status=CampaignStatus.ACTIVE,
            exclude=campaign,
        )
        shift = now - campaign.paused_at
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.ACTIVE, paused_at=None, updated_at=now
        )
        # Only the next touch has a row; later touches are computed from its scheduled_at,
        # so shifting this one row shifts the whole remaining sequence.
        Delivery.objects.filter(
            enrollment__campaign=campaign,
            enrollment__status=EnrollmentStatus.FROZEN,
            status=DeliveryStatus.HELD,
        ).update(
            status=DeliveryStatus.PENDING,
            scheduled_at=F("scheduled_at") + shift,
            send_after=F("send_after") + shift,
            updated_at=now,
        )
        resumed = Enrollment.objects.filter(
            campaign=campaign, status=EnrollmentStatus.FROZEN
        ).update(status=EnrollmentStatus.ACTIVE, frozen_at=None)
    return resumed


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a campaign whose enrollments have all ended; their history stays, detached."""
    _guard_editable(campaign)
    with transaction.atomic():
        live = campaign.enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES).count()
        if live:
            raise ValidationError(
                {
                    "campaign": f"{campaign.name!r} has {live} active or frozen enrollment"
                    f"{'s' if live != 1 else ''}; stop them or let them finish before deleting"
                }
            )
        campaign.delete()


# --- message templates ---------------------------------------------------------------------


def _clean_template(
    *, channel: str, name: str, subject: str, body: str, subject_es: str = "", body_es: str = ""
) -> dict[str, str]:
    """The English text is required; the Spanish one is optional (Spanish-speaking customers
    get the English text without it) and follows the same rules."""
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = f"{channel!r} is not one of: email, sms"
    name = (name or "").strip()
    if not name:
        errors["name"] = "is required"
    subject, subject_es = (subject or "").strip(), (subject_es or "").strip()
    body_es = body_es if (body_es or "").strip() else ""
    if channel == Channel.EMAIL and not subject:
        errors["subject"] = "an email template needs a subject"
    if channel == Channel.EMAIL and body_es and not subject_es:
        errors["subject_es"] = "a Spanish email needs a Spanish subject"
    for field, value in (("subject", subject), ("subject_es", subject_es)):
        if channel == Channel.SMS and value:
            errors[field] = "an SMS has no subject"
    if subject_es and not body_es and "subject_es" not in errors:
        errors["body_es"] = "is required with a Spanish subject"
    if not (body or "").strip():
        errors["body"] = "is required"
    texts = {"subject": subject, "body": body or "", "subject_es": subject_es, "body_es": body_es}
    for field, text in texts.items():
        if field in errors:
            continue
        try:
            unknown = unknown_placeholders(text)
        except TemplateSyntaxProblem as exc:
            errors[field] = str(exc)
            continue
        if unknown:
            errors[field] = (
                f"unknown placeholder{'s' if len(unknown) > 1 else ''} "
                f"{', '.join('{' + name + '}' for name in unknown)}; "
                f"valid placeholders: {valid_placeholder_list()}"
            )
    if errors:
        raise ValidationError(errors)
    return {"channel": channel, "name": name, **texts}


def create_template(
    *,
    business: Business,
    name: str,
    channel: str,
    body: str,
    subject: str = "",
    subject_es: str = "",
    body_es: str = "",
) -> MessageTemplate:
    fields = _clean_template(
        channel=channel,
        name=name,
        subject=subject,
        body=body,
        subject_es=subject_es,
        body_es=body_es,
    )
    return MessageTemplate.objects.create(business=business, **fields)


def copy_template(
    *, business: Business, template: MessageTemplate, name: str | None = None
) -> MessageTemplate:
    if template.business_id not in (None, business.pk):
        raise ValidationError({"template": "not found for this business"})
    return create_template(
        business=business,
        name=name or f"{template.name} (copy)",
        channel=template.channel,
        subject=template.subject,
        body=template.body,
        subject_es=template.subject_es,
        body_es=template.body_es,
    )


def update_template(
    *,
    template: MessageTemplate,
    name: str | None = None,
    subject: str | None = None,
    body: str | None = None,
    subject_es: str | None = None,
    body_es: str | None = None,
) -> MessageTemplate:
    if template.is_system:
        raise ValidationError({"template": "system templates are read-only; copy it to customise"})
    fields = _clean_template(
        channel=template.channel,
        name=template.name if name is None else name,
        subject=template.subject if subject is None else subject,
        body=template.body if body is None else body,
        subject_es=template.subject_es if subject_es is None else subject_es,
        body_es=template.body_es if body_es is None else body_es,
    )
    for field, value in fields.items():
        setattr(template, field, value)
    template.save()
    return template
