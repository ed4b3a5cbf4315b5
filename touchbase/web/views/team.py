"""The team: invite a teammate (an emailed link), revoke an invitation, remove a member;
and the invitation's own page, where the invited person accepts."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.tenancy import invitations
from touchbase.tenancy.models import Invitation, Membership, User
from touchbase.web.current import owner_view, switch_business
from touchbase.web.forms import show_errors


class InviteForm(forms.Form):
    email = forms.EmailField(label="Teammate's email")
    role = forms.ChoiceField(
        label="Role",
        choices=Membership.Role.choices,
        initial=Membership.Role.STAFF,
        help_text="Staff run jobs, customers and campaigns; owners also change settings, "
        "sender identity, API keys, webhooks and the team.",
    )


@owner_view
def team(request: HttpRequest) -> HttpResponse:
    business = request.business
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.invite(
                business=business, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            # The same words whether or not the address has an account.
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. It works for "
                f"{invitations.INVITATION_DAYS} days, for that address only.",
            )
            return redirect("web:team")
    members = business.memberships.select_related("user").order_by("user__email")
    return render(
        request,
        "web/account/team.html",
        {
            "form": form,
            "members": members,
            "invitations": invitations.open_invitations(business),
            "nav": "settings",
        },
    )


def _team_action(request: HttpRequest, action, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("web:team")


@owner_view
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Invitation, pk=pk, business=request.business)
    return _team_action(
        request,
        lambda: invitations.revoke(business=request.business, invitation_id=pk),
        "Invitation revoked: its link no longer works.",
    )


@owner_view
@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Membership, pk=pk, business=request.business)
    return _team_action(
        request,
        lambda: invitations.remove_member(business=request.business, membership_id=pk),
        "Member removed: they no longer see this business.",
    )


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only numbers, not a common password.",
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: logged in with the invited address, one click; with no account
    yet, choose a password; logged in as someone else, or with an account but logged out,
    told to log in with the invited address."""
    invite = invitations.open_invitation(token)
    if invite is None:
        return render(request, "web/account/link_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    has_account = user is None and User.objects.filter(email__iexact=invite.email).exists()
    form = NewPasswordForm(request.POST or None) if user is None and not has_account else None
    error = None
    if request.method == "POST":
        try:
            if user is not None:
                invitations.accept(invitation=invite, user=user)
            elif form is not None and form.is_valid():
                user = invitations.accept_as_new_person(
                    invitation=invite, password=form.cleaned_data["password"]
                )
                login(request, user, backend="touchbase.tenancy.auth.ThrottledModelBackend")
            else:
                raise ValidationError({"password": "choose a password"})
        except ValidationError as exc:
            if form is not None:
                show_errors(form, exc)
            else:
                error = " ".join(exc.messages)
        else:
            switch_business(request, invite.business_id)
            messages.success(request, f"Welcome to {invite.business.name}.")
            return redirect("web:dashboard")
    wrong_user = user is not None and user.email.lower() != invite.email
    return render(
        request,
        "web/account/invitation.html",
        {
            "invite": invite,
            "form": form,
            "has_account": has_account,
            "wrong_user": wrong_user,
            "error": error,
        },
        status=403 if wrong_user or error else 200,
    )
