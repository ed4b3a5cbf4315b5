"""API keys for integrations: create (the key is shown once), list, revoke."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.api.keys import create_api_key, revoke_api_key
from touchbase.api.models import ApiKey
from touchbase.web.current import owner_view
from touchbase.web.forms import show_errors


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="What will use this key", max_length=100, help_text="For example: Jobber sync."
    )


@owner_view
def api_keys(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key = create_api_key(
                business=request.business,
                name=form.cleaned_data["name"],
                created_by=request.user.email,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            form = ApiKeyForm()
    keys = ApiKey.objects.filter(business=request.business).order_by("-created_at")
    response = render(
        request,
        "web/settings/api_keys.html",
        {"form": form, "keys": keys, "new_key": new_key, "nav": "settings"},
    )
    if new_key is not None:
        response["Cache-Control"] = "no-store"  # the key is on this page once, never cached
    return response


@owner_view
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, pk=pk, business=request.business)
    if revoke_api_key(api_key=api_key):
        messages.success(request, f"Revoked {api_key.name}: it stops working at once.")
    else:
        messages.error(request, f"{api_key.name} was already revoked.")
    return redirect("web:api_keys")
