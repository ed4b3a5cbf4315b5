"""CSV import of jobs or customers: upload, preview (an exact dry run), then import.

The uploaded file is kept in the var directory between the preview and the import, under a
random name remembered in the owner's session, so a forged name reaches nothing.
"""

import secrets
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from touchbase.imports.importing import import_customers, import_jobs
from touchbase.imports.reading import FileProblem
from touchbase.web.current import business_view

SESSION_KEY = "touchbase_import"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
KINDS = {"jobs": import_jobs, "customers": import_customers}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[("jobs", "Jobs (with their customers)"), ("customers", "Customers")],
        widget=forms.RadioSelect,
        initial="jobs",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A header row, then one row per job or customer. Columns such as "
        "name, email, phone, job number, service, status, completed date are recognised.",
    )
    enroll = forms.BooleanField(
        label="Enroll completed jobs in their campaign", required=False, initial=True
    )


def _upload_dir() -> Path:
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _run(kind: str, business, path: Path, *, dry_run: bool, enroll: bool, by: str):
    importer = KINDS[kind]
    options = {"enroll": enroll} if kind == "jobs" else {}
    with path.open("rb") as source:
        return importer(
            business=business, source=source, dry_run=dry_run, recorded_by=by, **options
        )


@business_view
def job_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and preview. Step 2 (action=import): import the previewed file."""
    pending = request.session.get(SESSION_KEY)
    if request.method == "POST" and request.POST.get("action") == "import":
        if not pending or pending.get("business") != request.business.pk:
            messages.error(request, "Upload the file again: the preview has expired.")
            return redirect("web:job_import")
        path = _upload_dir() / pending["name"]
        try:
            report = _run(
                pending["kind"],
                request.business,
                path,
                dry_run=False,
                enroll=pending["enroll"],
                by=request.user.email,
            )
        except (FileProblem, FileNotFoundError) as exc:
            messages.error(request, f"The file could not be imported: {exc}")
            return redirect("web:job_import")
        finally:
            path.unlink(missing_ok=True)
            request.session.pop(SESSION_KEY, None)
        return render(
            request,
            "web/jobs/import.html",
            {"form": ImportForm(), "report": report, "done": True, "nav": "jobs"},
        )
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", "is larger than 20 MB; split it into smaller files")
        else:
            name = f"{secrets.token_urlsafe(16)}.csv"
            path = _upload_dir() / name
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            kind, enroll = form.cleaned_data["kind"], form.cleaned_data["enroll"]
            try:
                report = _run(
                    kind, request.business, path, dry_run=True, enroll=enroll, by=request.user.email
                )
            except FileProblem as exc:
                path.unlink(missing_ok=True)
                form.add_error("file", str(exc))
            else:
                if pending:  # a previous preview's file is no longer needed
                    (_upload_dir() / pending["name"]).unlink(missing_ok=True)
                request.session[SESSION_KEY] = {
                    "business": request.business.pk,
                    "name": name,
                    "kind": kind,
                    "enroll": enroll,
                    "filename": upload.name,
                }
    return render(
        request,
        "web/jobs/import.html",
        {
            "form": form,
            "report": report,
            "done": False,
            "filename": (request.session.get(SESSION_KEY) or {}).get("filename", ""),
            "nav": "jobs",
        },
    )
