"""Sign up (when the install allows it), email verification, log in and password reset
(throttled), the business switcher, another business."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from touchbase.ratelimit import client_address
from touchbase.tenancy.auth import login_throttled
from touchbase.tenancy.models import Membership
from touchbase.tenancy.services import create_business, sign_up
from touchbase.tenancy.throttles import (
    LOGIN_FAILURES_PER_ACCOUNT,
    PASSWORD_RESETS_PER_ACCOUNT,
    PASSWORD_RESETS_PER_ADDRESS,
    SIGNUPS_PER_ADDRESS,
    VERIFY_EMAILS_PER_ACCOUNT,
)
from touchbase.tenancy.verification import mark_email_verified, send_verification, verify_email
from touchbase.web.current import switch_business
from touchbase.web.forms import show_errors

TOO_MANY = "Too many attempts from your address; try again in {minutes} minutes."


class SignUpForm(forms.Form):
    business_name = forms.CharField(label="Business name", max_length=200)
    email = forms.EmailField(label="Your email")
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only numbers, not a common password.",
    )


def signup(request: HttpRequest) -> HttpResponse:
    if settings.TOUCHBASE_SIGNUP != "open":
        return render(request, "web/account/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect("web:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not SIGNUPS_PER_ADDRESS.hit(client_address(request)):
            form.add_error(None, TOO_MANY.format(minutes=SIGNUPS_PER_ADDRESS.minutes_left()))
        else:
            try:
                sign_up(**form.cleaned_data)
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                # The same page whether or not the address had an account.
                return render(
                    request,
                    "web/account/check_email.html",
                    {"email": form.cleaned_data["email"].strip().lower()},
                )
    return render(request, "web/account/signup.html", {"form": form})


def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    user = verify_email(token)
    if user is None:
        return render(request, "web/account/link_invalid.html", status=404)
    messages.success(request, f"{user.email} is confirmed: your business can send.")
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("web:onboarding")
    return redirect(f"{reverse('web:login')}?next={reverse('web:onboarding')}")


@login_required
@require_POST
def email_verify_resend(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified:
        messages.success(request, "Your email is already confirmed.")
    elif not VERIFY_EMAILS_PER_ACCOUNT.hit(str(request.user.pk)):
        messages.error(request, "A confirmation link was sent a moment ago; check your inbox.")
    else:
        send_verification(request.user)
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect("web:settings")


class ThrottledLoginForm(AuthenticationForm):
    def get_invalid_login_error(self):
        if login_throttled(self.request):
            minutes = LOGIN_FAILURES_PER_ACCOUNT.minutes_left()
            return ValidationError(
                f"Too many failed log-ins. Try again in {minutes} minutes, or reset your password.",
                code="throttled",
            )
        return super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    template_name = "web/account/login.html"
    form_class = ThrottledLoginForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset answers alike for every address; on top, a few requests per address
    and per account an hour (an account over its limit silently gets no more emails)."""

    def form_valid(self, form):
        if not PASSWORD_RESETS_PER_ADDRESS.hit(client_address(self.request)):
            form.add_error(
                None, TOO_MANY.format(minutes=PASSWORD_RESETS_PER_ADDRESS.minutes_left())
            )
            return self.form_invalid(form)
        if not PASSWORD_RESETS_PER_ACCOUNT.hit(form.cleaned_data["email"].strip().lower()):
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        mark_email_verified(form.user)  # the link reached the address
        return response


@login_required
@require_POST
def business_switch(request: HttpRequest) -> HttpResponse:
    try:
        business_id = int(request.POST.get("business", ""))
    except ValueError:
        business_id = 0
    business = switch_business(request, business_id)
    if business is None:
        messages.error(request, "You are not a member of that business.")
    else:
        messages.success(request, f"Now working on {business.name}.")
    return redirect("web:dashboard")


class NewBusinessForm(forms.Form):
    name = forms.CharField(label="Business name", max_length=200)


def may_add_business(user) -> bool:
    """On a closed install only owners (and operators) add businesses: an invited teammate
    does not get a business of their own to send from."""
    return (
        settings.TOUCHBASE_SIGNUP == "open"
        or user.is_superuser
        or Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists()
    )


@login_required
def business_new(request: HttpRequest) -> HttpResponse:
    """Another business for the same login (people who run several businesses)."""
    if not may_add_business(request.user):
        return render(request, "web/account/owners_only.html", status=403)
    form = NewBusinessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            business = create_business(name=form.cleaned_data["name"], owner=request.user)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            switch_business(request, business.pk)
            return redirect("web:onboarding")
    return render(request, "web/account/business_new.html", {"form": form})
