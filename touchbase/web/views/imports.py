"""CSV import of jobs or customers: upload, preview (an exact dry run), then import in the
background (the worker runs it, `touchbase.imports.background`) while a page shows its
progress, its result and a downloadable report of the bad rows.

The uploaded file is kept in the var directory between the preview and the import, under a
random name remembered in the owner's session, so a forged name reaches nothing. An upload
over the limit is refused while it streams in (never stored whole); the preview is the
exact dry run of the file's first PREVIEW_ROWS rows, so it answers quickly however large
the file; a file left by a preview never imported is deleted after KEEP_PREVIEW.
"""

import csv
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from touchbase.imports.background import queue_import
from touchbase.imports.importing import import_file
from touchbase.imports.models import Import
from touchbase.imports.reading import FileProblem
from touchbase.imports.spreadsheet import safe_cells
from touchbase.web.current import business_view

SESSION_KEY = "touchbase_import"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOO_LARGE = "is larger than 20 MB; split it into smaller files"
PREVIEW_ROWS = 2_000
KEEP_PREVIEW = 6 * 3600  # seconds
KEPT_ERRORS = 50  # shown on the page; every one is in the downloadable report


class SizeLimit(FileUploadHandler):
    """Counts an upload's bytes as they arrive and drops the file past the limit, so an
    oversize upload is neither kept in memory nor written to disk."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit, self.received = MAX_UPLOAD_BYTES, 0
        request.upload_too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


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


def _forget_old_previews(directory: Path) -> None:
    cutoff = time.time() - KEEP_PREVIEW
    for path in directory.glob("*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def _preview(kind: str, business, path: Path, *, enroll: bool, by: str):
    """The exact dry run of the file's first PREVIEW_ROWS rows."""
    with path.open("rb") as source:
        return import_file(
            kind,
            enroll=enroll,
            business=business,
            source=source,
            dry_run=True,
            recorded_by=by,
            max_rows=PREVIEW_ROWS,
        )


@csrf_exempt  # CSRF is checked by csrf_protect below, after the size limit is in place
def job_import(request: HttpRequest) -> HttpResponse:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if request.method == "POST" and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 65536:
        # Refused on its announced size: not a byte of the body is read.
        messages.error(request, f"The file {TOO_LARGE}.")
        return redirect("web:job_import")
    request.upload_handlers.insert(0, SizeLimit(request))
    return _job_import(request)


@csrf_protect
@business_view
def _job_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and preview. Step 2 (action=import): import the previewed file."""
    pending = request.session.get(SESSION_KEY)
    if request.method == "POST" and request.POST.get("action") == "import":
        if not pending or pending.get("business") != request.business.pk:
            messages.error(request, "Upload the file again: the preview has expired.")
            return redirect("web:job_import")
        path = _upload_dir() / pending["name"]
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            messages.error(request, "Upload the file again: the preview has expired.")
            return redirect("web:job_import")
        finally:
            path.unlink(missing_ok=True)
            request.session.pop(SESSION_KEY, None)
        run = queue_import(
            business=request.business,
            kind=pending["kind"],
            content=content,
            filename=pending["filename"],
            columns=pending.get("columns", {}),
            enroll=pending["enroll"],
            recorded_by=request.user.email,
        )
        return redirect("web:import_progress", pk=run.pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if getattr(request, "upload_too_large", False):
        form.add_error("file", TOO_LARGE)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", TOO_LARGE)
        else:
            _forget_old_previews(_upload_dir())
            name = f"{secrets.token_urlsafe(16)}.csv"
            path = _upload_dir() / name
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            kind, enroll = form.cleaned_data["kind"], form.cleaned_data["enroll"]
            try:
                by = request.user.email
                report = _preview(kind, request.business, path, enroll=enroll, by=by)
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
                    "columns": report.columns,
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


def _import_of(request: HttpRequest, pk: int) -> Import:
    """The current business's import (404 for another business's: nothing to see there)."""
    return get_object_or_404(Import.objects.defer("file"), pk=pk, business=request.business)


@business_view
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The import's progress bar, then its result; htmx asks again every second meanwhile."""
    run = _import_of(request, pk)
    context = {
        "run": run,
        "problems": run.problems.order_by("row", "pk")[:KEPT_ERRORS],
        "not_enrolled": sorted(run.not_enrolled.items()),
        "nav": "jobs",
    }
    if request.headers.get("HX-Request"):
        return render(request, "web/jobs/_import_progress.html", context)
    return render(request, "web/jobs/import_progress.html", context)


class _Line:
    """csv.writer's file: hands back each line it writes."""

    def write(self, line: str) -> str:
        return line


@business_view
def import_errors(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """The bad rows as CSV: row, column, problem, then the row's own cells (formulas
    neutralised). Streamed, so a large report is never held in memory."""
    run = _import_of(request, pk)
    names = [name for _, name in run.columns]
    writer = csv.writer(_Line())

    def lines():
        yield writer.writerow(["row", "column", "problem", *names])
        problems = run.problems.order_by("row", "pk")
        fields = problems.values_list("row", "column", "reason", "values")
        for row, column, reason, values in fields.iterator(chunk_size=2000):
            yield writer.writerow(safe_cells([row, column, reason, *values]))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stem = Path(run.filename).stem or "import"
    response["Content-Disposition"] = f'attachment; filename="{_safe_name(stem)}.errors.csv"'
    return response


def _safe_name(stem: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:80]
