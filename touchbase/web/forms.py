"""Forms parse what the owner typed; services decide whether it is allowed. A service's
ValidationError({"field": "message"}) is shown on that field (or above the form)."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def show_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None):
    """Put a service's errors on the form's fields; unknown fields go above the form."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, messages in exc.message_dict.items():
        target = aliases.get(field, field)
        if target in form.fields:
            form.add_error(target, messages)
        else:
            form.add_error(None, [f"{field.replace('_', ' ')}: {m}" for m in messages])


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """Back to the page the form was on (the `next` field), if it is one of ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


def query_text(request: HttpRequest, name: str = "q") -> str:
    """A query-string value (a search box, a filter) without control characters: PostgreSQL refuses
    a NUL in a query parameter (`?q=%00` was a server error) and none belongs in a search."""
    raw = request.GET.get(name, "")
    return "".join(ch for ch in raw if ch.isprintable()).strip()[:200]
