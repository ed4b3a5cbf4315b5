"""Campaigns: list with status toggle, preset picker, editor, detail; stopping an enrollment."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase import clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import (
    DELAY_HOURS_MAX,
    DELAY_HOURS_MIN,
    MAX_TOUCHES,
    Campaign,
    CampaignStatus,
    Enrollment,
    EnrollmentStatus,
    MessageTemplate,
)
from touchbase.campaigns.services import (
    TouchSpec,
    create_campaign_from_preset,
    delete_campaign,
    duplicate_campaign,
    pause_campaign,
    resume_campaign,
    set_campaign_touches,
    update_campaign,
)
from touchbase.insights.facts import local_day
from touchbase.service_types import ServiceType
from touchbase.web import selectors
from touchbase.web.current import business_view
from touchbase.web.forms import redirect_back, show_errors
from touchbase.web.preview import sample_values
from touchbase.web.sequence import first_delay_label
from touchbase.web.upcoming import pending_touches, upcoming_sends

# The enrollment list's filters whose total `enrollment_counts` already holds exactly.
LIVE_STATUSES = {
    "live": (EnrollmentStatus.ACTIVE, EnrollmentStatus.FROZEN),
    EnrollmentStatus.ACTIVE: (EnrollmentStatus.ACTIVE,),
    EnrollmentStatus.FROZEN: (EnrollmentStatus.FROZEN,),
}

# The funnel and stop reasons count what happened in the last local days (today included),
# or all time; each costs a few daily-count rows a day (touchbase/insights).
FUNNEL_PERIODS = {
    "30": ("Last 30 days", 30),
    "90": ("Last 90 days", 90),
    "all": ("All time", None),
}
SERVICE_CHOICES = [("", "All services (when no other campaign matches)"), *ServiceType.choices]


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    return get_object_or_404(Campaign, pk=pk, business=request.business)


@business_view
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.campaigns_with_counts(request.business)
    for campaign in campaigns:
        touches = list(campaign.touches.all())
        campaign.first_delay = first_delay_label(
            campaign, min(touches, key=lambda t: t.position).delay_hours if touches else None
        )
    return render(request, "web/campaigns/list.html", {"campaigns": campaigns, "nav": "campaigns"})


class FromPresetForm(forms.Form):
    preset = forms.ModelChoiceField(queryset=Campaign.objects.filter(business=None))
    name = forms.CharField(label="Campaign name", max_length=120, required=False)
    service_type = forms.ChoiceField(label="Used for", choices=SERVICE_CHOICES, required=False)


def _preset_picker(request: HttpRequest, *, onboarding: bool) -> HttpResponse:
    form = FromPresetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = create_campaign_from_preset(
                business=request.business,
                preset=data["preset"],
                name=data["name"] or None,
                service_type=data["service_type"] or None,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            if onboarding:
                messages.success(
                    request,
                    f"You're set: {campaign.name} is running. Completed jobs now get review "
                    "requests automatically.",
                )
                return redirect("web:dashboard")
            messages.success(request, f"Created {campaign.name}.")
            return redirect("web:campaign", pk=campaign.pk)
    return render(
        request,
        "web/campaigns/presets.html",
        {
            "form": form,
            "presets": selectors.presets(),
            "service_choices": SERVICE_CHOICES,
            "submitted_preset": form.data.get("preset", "") if form.is_bound else "",
            "onboarding": onboarding,
            "step": 2,
            "nav": "campaigns",
        },
    )


@business_view
def campaign_new(request: HttpRequest) -> HttpResponse:
    return _preset_picker(request, onboarding=False)


@business_view
def onboarding_campaign(request: HttpRequest) -> HttpResponse:
    return _preset_picker(request, onboarding=True)


@business_view
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    status = request.GET.get("status", "live")
    enrollments = campaign.enrollments.select_related("customer", "job").order_by("-enrolled_at")
    if status == "live":
        enrollments = enrollments.filter(
            Q(status=EnrollmentStatus.ACTIVE) | Q(status=EnrollmentStatus.FROZEN)
        )
    elif status in EnrollmentStatus.values:
        enrollments = enrollments.filter(status=status)
    touches = list(campaign.touches.select_related("template").order_by("position"))
    period = request.GET.get("period", "30")
    if period not in FUNNEL_PERIODS:
        period = "30"
    days = FUNNEL_PERIODS[period][1]
    since = local_day(request.business, clock.now()) - timedelta(days=days - 1) if days else None
    # Each read once, shared: the facts of the period (funnel, stop reasons) and of all time
    # (the counts), one live part for both; the pending touches (waiting, upcoming per day).
    facts, all_time = selectors.campaign_facts_each(campaign, [since, None])
    counts = selectors.enrollment_counts(campaign, all_time=all_time)
    pending = pending_touches(campaign)
    # The live statuses' total is in `counts` (the same rows): no second COUNT for the pages.
    known = sum(counts.get(s, 0) for s in LIVE_STATUSES.get(status, ()))
    paginator = Paginator(enrollments, 25)
    if status in LIVE_STATUSES:
        paginator.count = known  # Paginator.count is a cached_property: set, it is not read
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "web/campaigns/detail.html",
        {
            "campaign": campaign,
            "touches": touches,
            "first_delay": first_delay_label(campaign, touches[0].delay_hours if touches else None),
            "funnel": selectors.campaign_funnel(campaign, since, facts=facts, pending=pending),
            "stop_reasons": selectors.stop_reasons(campaign, since, facts=facts),
            "period": period,
            "periods": [(key, label) for key, (label, _) in FUNNEL_PERIODS.items()],
            "counts": counts,
            "page": page,
            "status": status,
            "status_choices": [("live", "Active or frozen"), *EnrollmentStatus.choices],
            "upcoming": upcoming_sends(campaign, pending=pending),
            "nav": "campaigns",
        },
    )


class CampaignForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    service_type = forms.ChoiceField(label="Used for", choices=SERVICE_CHOICES, required=False)


class TouchForm(forms.Form):
    template = forms.ModelChoiceField(
        label="Message", queryset=MessageTemplate.objects.none(), required=False
    )
    delay_hours = forms.IntegerField(
        label="Hours after the previous touch",
        min_value=DELAY_HOURS_MIN,
        max_value=DELAY_HOURS_MAX,
        required=False,
    )

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        if self.prefix == "touch1":
            self.fields["delay_hours"].label = "Hours after the job is completed"
            self.fields[
                "delay_hours"
            ].help_text = "Unless Settings time the first message per service."
        self.fields["template"].label_from_instance = lambda t: (
            f"{t.name} ({t.get_channel_display()}{', default' if t.is_system else ''})"
        )


def _templates_for(business) -> "QuerySet[MessageTemplate]":  # noqa: F821
    return MessageTemplate.objects.filter(Q(business=business) | Q(business=None)).order_by(
        "channel", F("business_id").asc(nulls_first=True), "name"
    )


@business_view
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    templates = _templates_for(request.business)
    touches = list(campaign.touches.select_related("template"))
    initial_touches = [
        {"template": touch.template, "delay_hours": touch.delay_hours} for touch in touches
    ]
    data = request.POST if request.method == "POST" else None
    form = CampaignForm(
        data,
        initial={"name": campaign.name, "service_type": campaign.service_type or ""},
    )
    touch_forms = [
        TouchForm(
            data,
            prefix=f"touch{index}",
            templates=templates,
            initial=initial_touches[index - 1] if index <= len(initial_touches) else None,
        )
        for index in range(1, MAX_TOUCHES + 1)
    ]
    if request.method == "POST" and form.is_valid() and all(f.is_valid() for f in touch_forms):
        specs = []
        for touch_form in touch_forms:
            template = touch_form.cleaned_data["template"]
            if template is None:
                continue
            delay = touch_form.cleaned_data["delay_hours"]
            if delay is None:
                touch_form.add_error("delay_hours", "is required for a touch with a message")
                continue
            specs.append(TouchSpec(channel=template.channel, delay_hours=delay, template=template))
        if not any(f.errors for f in touch_forms):
            try:
                with transaction.atomic():
                    update_campaign(
                        campaign=campaign,
                        name=form.cleaned_data["name"],
                        service_type=form.cleaned_data["service_type"] or None,
                    )
                    set_campaign_touches(campaign=campaign, touches=specs)
            except ValidationError as exc:
                campaign.refresh_from_db()
                _show_touch_errors(form, touch_forms, exc)
            else:
                messages.success(request, f"Saved {campaign.name}.")
                return redirect("web:campaign", pk=campaign.pk)
    return render(
        request,
        "web/campaigns/edit.html",
        {
            "campaign": campaign,
            "form": form,
            "touch_forms": touch_forms,
            "touches": touches,
            "first_delay": first_delay_label(campaign, touches[0].delay_hours if touches else None),
            "templates": templates,
            "sample": sample_values(request.business, campaign.service_type),
            "nav": "campaigns",
        },
    )


def _show_touch_errors(form, touch_forms, exc: ValidationError) -> None:
    """`touches[2].delay_hours` lands on the second touch's field; the rest on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        if key.startswith("touches[") and "]." in key:
            index, _, field = key[len("touches[") :].partition("].")
            target = touch_forms[int(index) - 1]
            target.add_error(field if field in target.fields else "template", msgs)
        elif key in form.fields:
            form.add_error(key, msgs)
        else:
            form.add_error(None, [f"{key}: {m}" for m in msgs])


@business_view
@require_POST
def campaign_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        if campaign.status == CampaignStatus.ACTIVE:
            frozen = pause_campaign(campaign=campaign)
            messages.success(
                request, f"Paused {campaign.name}: {frozen} sequence(s) frozen, nothing is sent."
            )
        else:
            resumed = resume_campaign(campaign=campaign)
            messages.success(request, f"Resumed {campaign.name}: {resumed} sequence(s) continue.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect_back(request, "web:campaigns")


@business_view
@require_POST
def campaign_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        copy = duplicate_campaign(campaign=campaign)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:campaign", pk=campaign.pk)
    messages.success(request, f"Created {copy.name} (paused): edit it, then turn it on.")
    return redirect("web:campaign_edit", pk=copy.pk)


@business_view
@require_POST
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        delete_campaign(campaign=campaign)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("web:campaign", pk=campaign.pk)
    messages.success(request, f"Deleted {campaign.name}.")
    return redirect("web:campaigns")


@business_view
@require_POST
def enrollment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(Enrollment, pk=pk, business=request.business)
    if stop_enrollment(enrollment=enrollment):
        messages.success(request, "Stopped: nothing more is sent in this sequence.")
    else:
        messages.error(request, "This sequence had already ended.")
    return redirect_back(request, "web:dashboard")
