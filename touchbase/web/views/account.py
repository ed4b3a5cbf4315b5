"""Sign up, the business switcher, another business, inviting a teammate."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_POST

from touchbase.tenancy.models import Membership
from touchbase.tenancy.services import create_business, invite_member, sign_up
from touchbase.web.current import business_view, switch_business
from touchbase.web.forms import show_errors


class SignUpForm(forms.Form):
    business_name = forms.CharField(label="Business name", max_length=200)
    email = forms.EmailField(label="Your email")
    password = forms.CharField(
        label="Password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only numbers, not a common password.",
    )


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = sign_up(**form.cleaned_data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            login(request, result.user, backend="django.contrib.auth.backends.ModelBackend")
            switch_business(request, result.business.pk)
            return redirect("web:onboarding")
    return render(request, "web/account/signup.html", {"form": form})


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


@login_required
def business_new(request: HttpRequest) -> HttpResponse:
    """Another business for the same login (people who run several businesses)."""
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


class InviteForm(forms.Form):
    email = forms.EmailField(label="Teammate's email")
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.STAFF,
        help_text="Owners and staff see the same pages.",
    )


@business_view
def team(request: HttpRequest) -> HttpResponse:
    business = request.business
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invite_member(business=business, **form.cleaned_data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            _send_invitation(request, invitation.membership.user, business.name)
            messages.success(
                request,
                f"Invited {invitation.membership.user.email}: "
                + (
                    "they got an email to choose a password."
                    if invitation.new_user
                    else "they can switch to this business from the header."
                ),
            )
            return redirect("web:team")
    members = business.memberships.select_related("user").order_by("user__email")
    return render(
        request, "web/account/team.html", {"form": form, "members": members, "nav": "settings"}
    )


def _send_invitation(request: HttpRequest, user, business_name: str) -> None:
    """A one-time, expiring link to choose a password (the password-reset confirmation page),
    which also works for a teammate who has never had one."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = request.build_absolute_uri(reverse("web:password_reset_confirm", args=[uid, token]))
    context = {"business_name": business_name, "link": link, "inviter": request.user.email}
    send_mail(
        subject=f"You're invited to {business_name} on touchbase",
        message=render_to_string("web/account/invitation_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
