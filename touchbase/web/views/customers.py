"""Customers: list, detail (consent, opt-out state, consent record, history), add, edit."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.customers.models import ConsentRecord, ConsentSource, Customer
from touchbase.customers.reachability import email_block, sms_block
from touchbase.customers.services import create_customer, record_sms_consent, update_customer
from touchbase.inbound.models import Feedback, InboundSms
from touchbase.languages import LANGUAGE_FORM_CHOICES, LANGUAGE_FORM_HELP
from touchbase.web.current import business_view
from touchbase.web.forms import query_text, show_errors
from touchbase.web.views.onboarding import time_zone_choices


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_object_or_404(Customer, pk=pk, business=request.business)


@business_view
def customer_list(request: HttpRequest) -> HttpResponse:
    customers = Customer.objects.filter(business=request.business)
    q = query_text(request)
    if q:
        customers = customers.filter(
            Q(name__icontains=q) | Q(email__icontains=q) | Q(phone__icontains=q)
        )
    page = Paginator(customers.order_by("name", "pk"), 25).get_page(request.GET.get("page"))
    return render(request, "web/customers/list.html", {"page": page, "q": q, "nav": "customers"})


@business_view
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    return render(
        request,
        "web/customers/detail.html",
        {
            "customer": customer,
            "email_block": email_block(customer),
            "sms_block": sms_block(customer),
            "consent_records": ConsentRecord.objects.filter(
                business=request.business, customer=customer
            ).order_by("-created_at"),
            "jobs": customer.jobs.order_by("-created_at"),
            "enrollments": customer.enrollments.select_related("campaign", "job").order_by(
                "-enrolled_at"
            ),
            "consent_form": ConsentForm(),
            "texts": InboundSms.objects.filter(
                business=request.business, customer=customer
            ).order_by("-received_at")[:20],
            "feedback": Feedback.objects.filter(
                business=request.business, customer=customer
            ).order_by("-created_at")[:20],
            "nav": "customers",
        },
    )


class CustomerForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    email = forms.CharField(label="Email", required=False)
    phone = forms.CharField(label="Mobile phone", required=False)
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=lambda: [("", "Guess from the phone number"), *time_zone_choices()],
        help_text="Leave on the guess: from the phone number, else your business's.",
    )
    language = forms.ChoiceField(
        label="Language",
        required=False,
        choices=LANGUAGE_FORM_CHOICES,
        help_text=LANGUAGE_FORM_HELP,
    )


@business_view
def customer_new(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = create_customer(business=request.business, **form.cleaned_data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"Added {customer.name}.")
            return redirect("web:customer", pk=customer.pk)
    return render(
        request, "web/customers/form.html", {"form": form, "customer": None, "nav": "customers"}
    )


@business_view
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = CustomerForm(
        request.POST or None,
        initial={
            f: getattr(customer, f) for f in ("name", "email", "phone", "time_zone", "language")
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_customer(customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            customer.refresh_from_db()
            show_errors(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("web:customer", pk=customer.pk)
    return render(
        request,
        "web/customers/form.html",
        {"form": form, "customer": customer, "nav": "customers"},
    )


class ConsentForm(forms.Form):
    granted = forms.TypedChoiceField(
        label="SMS consent",
        choices=[("1", "The customer opted in"), ("0", "The customer opted out")],
        coerce=lambda value: value == "1",
    )
    disclosure_text = forms.CharField(
        label="What the customer was told",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The exact text they agreed to; kept with the consent record.",
    )


@business_view
@require_POST
def customer_consent(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            record_sms_consent(
                customer=customer,
                granted=form.cleaned_data["granted"],
                source=ConsentSource.FORM,
                disclosure_text=form.cleaned_data["disclosure_text"],
                recorded_by=request.user.email,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Consent recorded.")
    else:
        messages.error(request, "Choose opted in or opted out.")
    return redirect("web:customer", pk=customer.pk)
