"""Jobs: list with filters and search, add, edit, mark completed, enroll, job timeline."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from touchbase.campaigns.enrollment import manually_enroll_job
from touchbase.customers.models import ConsentSource, Customer
from touchbase.intake.pipeline import take_job
from touchbase.intake.schema import clean_job
from touchbase.jobs.models import EnrollmentOutcome, Job, JobStatus
from touchbase.jobs.services import JobResult, mark_job_completed, update_job
from touchbase.languages import LANGUAGE_FORM_CHOICES, LANGUAGE_FORM_HELP
from touchbase.service_types import ServiceType
from touchbase.web.current import business_view
from touchbase.web.forms import query_text, redirect_back, show_errors
from touchbase.web.timeline import job_timeline

ENROLL_HELP = "Start the review-request campaign for this job as soon as it is completed."


def _job(request: HttpRequest, pk: int) -> Job:
    return get_object_or_404(
        Job.objects.select_related("customer"), pk=pk, business=request.business
    )


@business_view
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(business=request.business).select_related("customer")
    q = query_text(request)
    status = query_text(request, "status")
    outcome = query_text(request, "outcome")
    service_type = query_text(request, "service_type")
    if q:
        jobs = jobs.filter(
            Q(customer__name__icontains=q)
            | Q(customer__email__icontains=q)
            | Q(customer__phone__icontains=q)
            | Q(external_id__icontains=q)
        )
    if status in JobStatus.values:
        jobs = jobs.filter(status=status)
    if outcome in EnrollmentOutcome.values:
        jobs = jobs.filter(enrollment_outcome=outcome)
    if service_type in ServiceType.values:
        jobs = jobs.filter(service_type=service_type)
    page = Paginator(jobs.order_by("-created_at", "-pk"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "web/jobs/list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "outcome": outcome,
            "service_type": service_type,
            "status_choices": JobStatus.choices,
            "outcome_choices": EnrollmentOutcome.choices,
            "service_choices": ServiceType.choices,
            "nav": "jobs",
        },
    )


class JobForm(forms.Form):
    customer = forms.ModelChoiceField(
        label="Existing customer",
        queryset=Customer.objects.none(),
        required=False,
        empty_label="— a new customer (fill in below) —",
    )
    new_customer_name = forms.CharField(label="New customer's name", required=False)
    new_customer_email = forms.CharField(label="Email", required=False)
    new_customer_phone = forms.CharField(
        label="Mobile phone", required=False, help_text="For text messages, e.g. (305) 555-0142."
    )
    new_customer_language = forms.ChoiceField(
        label="Language",
        required=False,
        choices=LANGUAGE_FORM_CHOICES,
        help_text=LANGUAGE_FORM_HELP,
    )
    new_customer_sms_consent = forms.BooleanField(
        label="The customer agreed to receive review requests by text",
        required=False,
    )
    service_type = forms.ChoiceField(label="Service", choices=ServiceType.choices)
    status = forms.ChoiceField(label="Status", choices=JobStatus.choices)
    technician_name = forms.CharField(label="Technician", required=False, max_length=100)
    external_id = forms.CharField(
        label="Job number", required=False, help_text="Your own reference (optional, unique)."
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    enroll_in_campaign = forms.BooleanField(
        label="Enroll in campaign", required=False, initial=True, help_text=ENROLL_HELP
    )

    def __init__(self, *args, business, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(business=business).order_by(
            "name"
        )
        if editing:
            self.fields["customer"].empty_label = None
            self.fields["customer"].required = True
            self.fields["customer"].label = "Customer"
            for name in list(self.fields):
                if name.startswith("new_customer_"):
                    del self.fields[name]

    def clean(self):
        data = super().clean()
        new_customer = "new_customer_name" in self.fields and not data.get("customer")
        if new_customer and not (data.get("new_customer_name") or "").strip():
            self.add_error(
                "new_customer_name", "Choose an existing customer or enter a new one's name."
            )
        return data


SMS_CONSENT_DISCLOSURE = (
    "Owner confirmed in the web app that the customer agreed to receive review requests by text."
)


def _report(request: HttpRequest, result: JobResult) -> None:
    """Tell the owner what the enrollment engine decided, in a sentence."""
    if result.enrollment is None:
        messages.success(request, "Job saved.")
    elif result.enrollment.success:
        messages.success(request, f"Job saved. {result.enrollment.detail}.")
    else:
        messages.warning(request, f"Job saved, not enrolled: {result.enrollment.detail}.")


@business_view
def job_new(request: HttpRequest) -> HttpResponse:
    business = request.business
    initial = {"status": JobStatus.COMPLETED, "enroll_in_campaign": True}
    if business.service_types:  # the business's first service, not the list's (HVAC)
        initial["service_type"] = business.service_types[0]
    if request.GET.get("customer"):
        initial["customer"] = request.GET["customer"]
    form = JobForm(request.POST or None, business=business, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = {
            "service_type": data["service_type"],
            "status": data["status"],
            "technician_name": data["technician_name"],
            "external_id": data["external_id"],
            "notes": data["notes"],
            "enroll": data["enroll_in_campaign"],
        }
        if data["customer"]:
            values["customer_id"] = data["customer"].pk
        else:  # a new customer, or the existing one the matching rule finds
            values["customer"] = {
                "name": data["new_customer_name"],
                "email": data["new_customer_email"],
                "phone": data["new_customer_phone"],
                "language": data["new_customer_language"],
                "sms_consent": data["new_customer_sms_consent"],
                "consent_disclosure": SMS_CONSENT_DISCLOSURE,
            }
        try:
            # One block: a job refused (e.g. a duplicate job number) leaves no orphan
            # customer behind. Enrollment inside it runs in its own savepoint.
            with transaction.atomic():
                result = take_job(
                    business=business,
                    intake=clean_job(values, zone=business.time_zone, default_status=None),
                    recorded_by=request.user.email,
                    consent_source=ConsentSource.FORM,
                    update_known=False,
                )
        except ValidationError as exc:
            show_errors(
                form,
                exc,
                aliases={
                    "customer.name": "new_customer_name",
                    "customer.email": "new_customer_email",
                    "customer.phone": "new_customer_phone",
                    "customer.language": "new_customer_language",
                    "customer.sms_consent": "new_customer_sms_consent",
                    "customer_id": "customer",
                },
            )
        else:
            _report(request, result)
            return redirect("web:job", pk=result.job.pk)
    return render(request, "web/jobs/form.html", {"form": form, "job": None, "nav": "jobs"})


@business_view
def job_edit(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    form = JobForm(
        request.POST or None,
        business=request.business,
        editing=True,
        initial={
            "customer": job.customer,
            "service_type": job.service_type,
            "status": job.status,
            "technician_name": job.technician_name,
            "external_id": job.external_id or "",
            "notes": job.notes,
            "enroll_in_campaign": True,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        enroll = data.pop("enroll_in_campaign")
        try:
            result = update_job(job=job, enroll_in_campaign=enroll, **data)
        except ValidationError as exc:
            job.refresh_from_db()
            show_errors(form, exc)
        else:
            _report(request, result)
            return redirect("web:job", pk=job.pk)
    return render(request, "web/jobs/form.html", {"form": form, "job": job, "nav": "jobs"})


@business_view
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(
        request,
        "web/jobs/detail.html",
        {"job": job, "timeline": job_timeline(job), "nav": "jobs", "enroll_help": ENROLL_HELP},
    )


@business_view
@require_POST
def job_complete(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    result = mark_job_completed(job=job, enroll_in_campaign=bool(request.POST.get("enroll")))
    _report(request, result)
    return redirect_back(request, f"/jobs/{job.pk}/")


@business_view
@require_POST
def job_enroll(request: HttpRequest, pk: int) -> HttpResponse:
    """Enroll by hand (bypasses the cooldown)."""
    job = _job(request, pk)
    _report(request, JobResult(job, manually_enroll_job(job=job)))
    return redirect("web:job", pk=job.pk)
