"""Settings: profile, timing, cooldown, send window, throttles, stop-on-reply, sender
identity, providers (with a test message), webhook secret."""

import uuid

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from touchbase.channels import Channel
from touchbase.customers.services import normalize_phone
from touchbase.delivery.backends import transport_for
from touchbase.delivery.backends.base import OutgoingMessage, SendError
from touchbase.tenancy.models import COOLDOWN_DAYS_MAX, COOLDOWN_DAYS_MIN
from touchbase.tenancy.services import rotate_webhook_secret, update_business_settings
from touchbase.web.current import business_view
from touchbase.web.forms import show_errors
from touchbase.web.views.onboarding import ProfileForm, ServicesForm, profile_initial

RULE_FIELDS = (
    "cooldown_days",
    "send_window_start",
    "send_window_end",
    "email_hourly_limit",
    "sms_hourly_limit",
    "stop_on_reply",
)
IDENTITY_FIELDS = ("sender_email", "reply_to_email", "contact_phone")


class SettingsForm(ProfileForm, ServicesForm):
    cooldown_days = forms.IntegerField(
        label="Cooldown (days)",
        min_value=COOLDOWN_DAYS_MIN,
        max_value=COOLDOWN_DAYS_MAX,
        help_text="A customer enrolled within this many days is not enrolled again.",
    )
    send_window_start = forms.TimeField(
        label="Send from", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    send_window_end = forms.TimeField(
        label="Send until",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In each customer's time zone; never wider than 08:00 to 21:00 (the law).",
    )
    email_hourly_limit = forms.IntegerField(label="Emails per hour at most", min_value=1)
    sms_hourly_limit = forms.IntegerField(label="Texts per hour at most", min_value=1)
    stop_on_reply = forms.BooleanField(
        label="Stop a customer's sequence when they reply", required=False
    )
    sender_email = forms.EmailField(label="Send emails from", required=False)
    reply_to_email = forms.EmailField(label="Replies go to", required=False)
    contact_phone = forms.CharField(
        label="Contact phone", required=False, max_length=20, help_text="Given to HELP replies."
    )


@business_view
def business_settings(request: HttpRequest) -> HttpResponse:
    business = request.business
    initial = profile_initial(business)
    initial.update({name: getattr(business, name) for name in RULE_FIELDS + IDENTITY_FIELDS})
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {
            name: data[name] for name in (*ProfileForm.base_fields, *RULE_FIELDS, *IDENTITY_FIELDS)
        }
        try:
            update_business_settings(
                business=business,
                **fields,
                service_types=data["service_types"],
                service_type_timing=form.timing(),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("web:settings")
    return render(
        request,
        "web/settings/settings.html",
        {
            "form": form,
            "email_backend": django_settings.EMAIL_BACKEND,
            "sms_backend": django_settings.TOUCHBASE_SMS_BACKEND,
            "nav": "settings",
        },
    )


class TestMessageForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    phone = forms.CharField(label="Your mobile number", required=False, max_length=30)


@business_view
@require_POST
def test_message(request: HttpRequest) -> HttpResponse:
    """Send a test email (to the logged-in owner) or text (to the number given) through the
    same transport the worker uses, and say what the provider answered."""
    business = request.business
    form = TestMessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose email or SMS.")
        return redirect("web:settings")
    channel = form.cleaned_data["channel"]
    text = f"touchbase test from {business.name}: your review requests can go out this way."
    try:
        if channel == Channel.SMS:
            to = normalize_phone(form.cleaned_data["phone"] or business.contact_phone)
            if not to:
                raise ValidationError({"phone": "enter the number to text"})
            message = OutgoingMessage(channel=Channel.SMS, to=to, text=text)
        else:
            to = request.user.email
            message = OutgoingMessage(
                channel=Channel.EMAIL,
                to=to,
                text=text,
                subject=f"touchbase test email for {business.name}",
                html=format_html("<!doctype html><html><body><p>{}</p></body></html>", text),
                from_name=business.sender_name or business.name,
                reply_to=business.reply_to_email,
            )
        sent = transport_for(channel).send(message, idempotency_key=f"test-{uuid.uuid4()}")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except SendError as exc:
        messages.error(request, f"The provider refused the test: {exc} {exc.code}".strip())
    except Exception as exc:  # any transport failure is reported to the owner, not raised
        messages.error(request, f"The test failed: {type(exc).__name__}: {exc}")
    else:
        messages.success(
            request, f"Test {channel} sent to {to} (provider id {sent.provider_message_id})."
        )
    return redirect("web:settings")


@business_view
@require_POST
def webhook_secret_rotate(request: HttpRequest) -> HttpResponse:
    rotate_webhook_secret(business=request.business)
    messages.success(request, "New webhook secret: update it in the systems that send you jobs.")
    return redirect("web:settings")
