"""First login: the business profile, review link, services and timing, then a preset."""

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from touchbase.service_types import ServiceType
from touchbase.tenancy.models import TOUCH1_HOURS_MAX, TOUCH1_HOURS_MIN
from touchbase.tenancy.services import update_business_settings
from touchbase.web.current import owner_view
from touchbase.web.forms import show_errors

US_TIME_ZONES = [
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no DST (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
]


def time_zone_choices() -> list:
    us = {zone for zone, _ in US_TIME_ZONES}
    others = sorted(zone for zone in zoneinfo.available_timezones() if zone not in us)
    return [("United States", US_TIME_ZONES), ("Everywhere else", [(z, z) for z in others])]


def timing_field_name(service_type: str) -> str:
    return f"timing_{service_type}"


class ProfileForm(forms.Form):
    """Business profile fields shared by onboarding and settings."""

    name = forms.CharField(label="Business name", max_length=200)
    time_zone = forms.ChoiceField(label="Time zone", choices=time_zone_choices)
    review_url = forms.URLField(
        label="Review link",
        required=False,
        assume_scheme="https",
        help_text="Where customers leave a review (Google, Facebook, your site). Not Yelp: "
        "Yelp forbids asking for reviews.",
    )
    google_place_id = forms.CharField(
        label="Google Place ID",
        required=False,
        max_length=255,
        help_text="Optional. When set, customers go straight to your Google review form.",
    )
    postal_address = forms.CharField(
        label="Postal address for emails",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The law requires it in the footer of every review-request email.",
    )
    sender_name = forms.CharField(
        label="Sign messages as",
        required=False,
        max_length=100,
        help_text='For example "Dana at Bright Air".',
    )

    def clean(self):
        data = super().clean()
        if not (data.get("review_url") or data.get("google_place_id")) and not (
            self.has_error("review_url") or self.has_error("google_place_id")
        ):
            self.add_error(
                "review_url",
                "Enter your review link or a Google Place ID: review requests need somewhere "
                "to send customers.",
            )
        return data


class ServicesForm(forms.Form):
    service_types = forms.MultipleChoiceField(
        label="Services you offer",
        choices=ServiceType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in ServiceType.choices:
            self.fields[timing_field_name(value)] = forms.IntegerField(
                label=f"Hours before the first message ({label})",
                required=False,
                min_value=TOUCH1_HOURS_MIN,
                max_value=TOUCH1_HOURS_MAX,
                widget=forms.NumberInput(attrs={"placeholder": "campaign default"}),
            )

    def timing_fields(self):
        return [
            (value, label, self[timing_field_name(value)]) for value, label in ServiceType.choices
        ]

    def timing(self) -> dict[str, int]:
        return {
            value: self.cleaned_data[timing_field_name(value)]
            for value in ServiceType.values
            if self.cleaned_data.get(timing_field_name(value))
        }


class OnboardingForm(ProfileForm, ServicesForm):
    pass


def profile_initial(business) -> dict:
    initial = {
        "name": business.name,
        "time_zone": business.time_zone,
        "review_url": business.review_url,
        "google_place_id": business.google_place_id,
        "postal_address": business.postal_address,
        "sender_name": business.sender_name,
        "service_types": business.service_types,
    }
    for service_type, hours in (business.service_type_timing or {}).items():
        initial[timing_field_name(service_type)] = hours
    return initial


@owner_view
def onboarding(request: HttpRequest) -> HttpResponse:
    business = request.business
    form = OnboardingForm(request.POST or None, initial=profile_initial(business))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update_business_settings(
                business=business,
                **{name: data[name] for name in ProfileForm.base_fields},
                service_types=data["service_types"],
                service_type_timing=form.timing(),
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            return redirect("web:onboarding_campaign")
    return render(request, "web/onboarding/profile.html", {"form": form, "step": 1})
