"""Message templates: list, copy a default, edit with live preview and placeholder help."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.placeholders import PLACEHOLDERS
from touchbase.campaigns.services import copy_template, create_template, update_template
from touchbase.channels import Channel
from touchbase.web.current import business_view
from touchbase.web.forms import show_errors
from touchbase.web.preview import sample_values


def _visible(request: HttpRequest):
    return MessageTemplate.objects.filter(Q(business=request.business) | Q(business=None))


@business_view
def template_list(request: HttpRequest) -> HttpResponse:
    templates = _visible(request).order_by("business_id", "channel", "name")
    return render(request, "web/templates/list.html", {"templates": templates, "nav": "templates"})


class TemplateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    channel = forms.ChoiceField(label="Channel", choices=Channel.choices)
    subject = forms.CharField(label="Subject", required=False, max_length=200)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 8}))
    subject_es = forms.CharField(label="Subject in Spanish", required=False, max_length=200)
    body_es = forms.CharField(
        label="Message in Spanish",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Optional. Customers whose language is Spanish get it; without it they get "
        "the English message.",
    )


def _editor(request, form, template, *, editable: bool) -> HttpResponse:
    return render(
        request,
        "web/templates/edit.html",
        {
            "form": form,
            "template": template,
            "editable": editable,
            "placeholders": PLACEHOLDERS,
            "sample": sample_values(request.business),
            "nav": "templates",
        },
    )


@business_view
def template_new(request: HttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST or None, initial={"channel": request.GET.get("channel")})
    if request.method == "POST" and form.is_valid():
        try:
            template = create_template(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"Created {template.name}.")
            return redirect("web:template", pk=template.pk)
    return _editor(request, form, None, editable=True)


@business_view
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(_visible(request), pk=pk)
    editable = not template.is_system
    initial = {
        f: getattr(template, f)
        for f in ("name", "channel", "subject", "body", "subject_es", "body_es")
    }
    form = TemplateForm(
        request.POST if editable and request.method == "POST" else None, initial=initial
    )
    form.fields["channel"].disabled = True
    if not editable:
        for field in form.fields.values():
            field.disabled = True
    if editable and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            update_template(
                template=template,
                name=data["name"],
                subject=data["subject"],
                body=data["body"],
                subject_es=data["subject_es"],
                body_es=data["body_es"],
            )
        except ValidationError as exc:
            template.refresh_from_db()
            show_errors(form, exc)
        else:
            messages.success(request, f"Saved {template.name}.")
            return redirect("web:template", pk=template.pk)
    return _editor(request, form, template, editable=editable)


@business_view
@require_POST
def template_copy(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(_visible(request), pk=pk)
    copy = copy_template(business=request.business, template=template)
    messages.success(request, f"Copied to {copy.name}: edit it below.")
    return redirect("web:template", pk=copy.pk)
