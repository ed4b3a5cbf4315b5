"""`/digest/` (in Settings for owners, in the menu for staff): each member's own choice
(weekly, monthly, off) and a preview of this week's digest so far, as the email shows it."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from touchbase import clock
from touchbase.digest.models import DigestFrequency
from touchbase.digest.schedule import current_week
from touchbase.digest.sending import frequency_of
from touchbase.digest.services import set_digest_frequency
from touchbase.digest.summary import build_digest
from touchbase.tenancy.models import Membership
from touchbase.web.current import business_view, is_owner


class DigestForm(forms.Form):
    frequency = forms.ChoiceField(
        label="Email me a summary",
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text="Sent at 08:00 in the business's time zone; skipped when nothing happened.",
    )


@business_view
def digest_settings(request: HttpRequest) -> HttpResponse:
    membership = get_object_or_404(Membership, user=request.user, business=request.business)
    form = DigestForm(request.POST or None, initial={"frequency": frequency_of(membership)})
    if request.method == "POST" and form.is_valid():
        set_digest_frequency(membership=membership, frequency=form.cleaned_data["frequency"])
        messages.success(request, "Saved your digest choice.")
        return redirect("web:digest_settings")
    now = clock.now()
    digest = build_digest(request.business, current_week(now, request.business.time_zone), now)
    return render(
        request,
        "web/settings/digest.html",
        {"form": form, "digest": digest, "nav": "settings" if is_owner(request) else "digest"},
    )
