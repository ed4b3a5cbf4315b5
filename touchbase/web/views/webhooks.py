"""Outbound webhooks in settings: endpoints (the secret is shown once), each endpoint's
delivery log with a replay button, turning a disabled endpoint back on, deleting one. Owners
only, like the rest of settings."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.web.current import owner_view
from touchbase.web.forms import show_errors
from touchbase.webhooks.models import EVENT_TYPES, WebhookEndpoint, WebhookMessage
from touchbase.webhooks.services import (
    create_endpoint,
    delete_endpoint,
    enable_endpoint,
    replay_message,
)

LOG_LENGTH = 50


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        help_text="An https address on the internet, e.g. https://example.com/hooks/touchbase.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(event, event) for event in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )
    description = forms.CharField(label="What receives them", max_length=200, required=False)


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, business=request.business)


@owner_view
def webhooks(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = create_endpoint(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            form = EndpointForm()
    endpoints = WebhookEndpoint.objects.filter(business=request.business).order_by("-created_at")
    response = render(
        request,
        "web/settings/webhooks.html",
        {"form": form, "endpoints": endpoints, "created": created, "nav": "settings"},
    )
    if created is not None:
        response["Cache-Control"] = "no-store"  # the secret is on this page once
    return response


@owner_view
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    log = (
        WebhookMessage.objects.filter(endpoint=endpoint)
        .prefetch_related("tries")
        .order_by("-created_at", "-pk")[:LOG_LENGTH]
    )
    return render(
        request,
        "web/settings/webhook_detail.html",
        {"endpoint": endpoint, "log": log, "nav": "settings"},
    )


@owner_view
@require_POST
def webhook_replay(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(WebhookMessage, pk=pk, endpoint__business=request.business)
    replay_message(message=message)
    messages.success(request, f"{message.event_type} will be sent again in a moment.")
    return redirect("web:webhook_detail", pk=message.endpoint_id)


@owner_view
@require_POST
def webhook_enable(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    enable_endpoint(endpoint=endpoint)
    messages.success(request, "The endpoint is on again; waiting events go out now.")
    return redirect("web:webhook_detail", pk=endpoint.pk)


@owner_view
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    delete_endpoint(endpoint=endpoint)
    messages.success(request, f"Deleted {endpoint.url}: nothing more is sent there.")
    return redirect("web:webhooks")
