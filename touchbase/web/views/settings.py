"""Settings: profile, timing, cooldown, send window, throttles, stop-on-reply, sender
identity, providers (with a test message), webhook secret."""

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from touchbase import clock
from touchbase.channels import Channel
from touchbase.delivery.send_window import load_rules, states_excluded_by
from touchbase.languages import Language
from touchbase.tenancy.models import COOLDOWN_DAYS_MAX, COOLDOWN_DAYS_MIN
from touchbase.tenancy.services import rotate_webhook_secret, update_business_settings
from touchbase.tenancy.test_messages import send_phone_code, send_test_message
from touchbase.tenancy.verification import (
    PHONE_CODE_MINUTES,
    PHONE_CODE_TRIES,
    mark_phone_verified,
    phone_code_matches,
)
from touchbase.web.current import owner_view
from touchbase.web.forms import show_errors
from touchbase.web.views.onboarding import ProfileForm, ServicesForm, profile_initial

RULE_FIELDS = (
    "cooldown_days",
    "send_window_start",
    "send_window_end",
    "email_hourly_limit",
    "sms_hourly_limit",
    "stop_on_reply",
    "default_customer_language",
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
    default_customer_language = forms.ChoiceField(
        label="Customers' language",
        choices=Language.choices,
        required=False,
        help_text="Messages and pages for customers whose own language is not set. Each "
        "customer's language can be set on them, in the API and in CSV files.",
    )
    sender_email = forms.EmailField(label="Send emails from", required=False)
    reply_to_email = forms.EmailField(label="Replies go to", required=False)
    contact_phone = forms.CharField(
        label="Contact phone", required=False, max_length=20, help_text="Given to HELP replies."
    )

    def clean_default_customer_language(self) -> str:
        # Not posted (an older form, a script): the business keeps its language.
        return self.cleaned_data["default_customer_language"] or self.initial.get(
            "default_customer_language", Language.ENGLISH
        )


@owner_view
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
            "excluded_states": states_excluded_by(
                business.send_window_start, business.send_window_end, load_rules()
            ),
            "email_backend": django_settings.EMAIL_BACKEND,
            "sms_backend": django_settings.TOUCHBASE_SMS_BACKEND,
            "phone_code_sent": PHONE_SESSION_KEY in request.session,
            "nav": "settings",
        },
    )


class TestMessageForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)


@owner_view
@require_POST
def test_message(request: HttpRequest) -> HttpResponse:
    """Send a test email or text to the logged-in owner's own address or proved number
    through the transport the worker uses, and say what the provider answered."""
    form = TestMessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose email or SMS.")
        return redirect("web:settings")
    channel = form.cleaned_data["channel"]
    try:
        sent = send_test_message(business=request.business, user=request.user, channel=channel)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Test {channel} sent to {sent.to} (provider id {sent.provider_message_id})."
        )
    return redirect("web:settings")


PHONE_SESSION_KEY = "touchbase_phone_code"


@owner_view
@require_POST
def phone_verify(request: HttpRequest) -> HttpResponse:
    """Step 1 (`phone`): text a code to the number. Step 2 (`code`): the number typed back
    with its code becomes the user's own, the only one a test text goes to."""
    pending = request.session.get(PHONE_SESSION_KEY)
    try:
        if "code" in request.POST:
            if not pending or pending["expires"] < clock.now().timestamp():
                raise ValidationError({"code": "the code expired; ask for a new one"})
            pending["tries"] += 1
            request.session[PHONE_SESSION_KEY] = pending
            if pending["tries"] > PHONE_CODE_TRIES:
                raise ValidationError({"code": "too many wrong codes; ask for a new one"})
            if not phone_code_matches(request.POST["code"], pending["hash"]):
                raise ValidationError({"code": "that is not the code we texted"})
            mark_phone_verified(request.user, pending["phone"])
            del request.session[PHONE_SESSION_KEY]
            messages.success(request, f"{pending['phone']} is verified: test texts go to it.")
        else:
            phone, hashed = send_phone_code(
                business=request.business, user=request.user, phone=request.POST.get("phone", "")
            )
            request.session[PHONE_SESSION_KEY] = {
                "phone": phone,
                "hash": hashed,
                "tries": 0,
                "expires": clock.now().timestamp() + PHONE_CODE_MINUTES * 60,
            }
            messages.success(request, f"We texted a code to {phone}; type it below.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("web:settings")


@owner_view
@require_POST
def webhook_secret_rotate(request: HttpRequest) -> HttpResponse:
    rotate_webhook_secret(business=request.business)
    messages.success(request, "New webhook secret: update it in the systems that send you jobs.")
    return redirect("web:settings")
