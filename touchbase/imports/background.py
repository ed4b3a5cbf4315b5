"""Web imports run by the worker process, one runner per import.

1. `queue_import` (the web app) stores the file and the preview's column reading; the owner
   watches `Import` fill in.
2. `run_due_imports`, a periodic duty of the worker, claims one import by a conditional
   UPDATE (queued, or running with its lease run out: a dead worker's) and runs it through
   the same service as the command line (`importing.import_jobs` / `import_customers`).
3. Each chunk's progress, counts and bad rows are saved in the chunk's own transaction, and
   the lease renewed: a runner that dies leaves the import exactly at a chunk boundary, and
   the next claim resumes after its last saved row. An import claimed MAX_ATTEMPTS times
   without finishing, or that fails for a reason of its own, ends `failed` with the reason.
"""

import io
import logging
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import F, Q

from touchbase import clock
from touchbase.imports.importing import ImportReport, Resume, import_file
from touchbase.imports.models import Import, ImportProblem, ImportStatus
from touchbase.imports.reading import FileProblem
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a chunk takes about a second; the lease is renewed each chunk
MAX_ATTEMPTS = 3
KEEP_DAYS = 30
RUNNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
COUNTERS = ("rows", "created", "updated", "unchanged", "failed", "enrolled")
PRUNE_INTERVAL_SECONDS = 3600.0
_last_prune = float("-inf")
_thread: threading.Thread | None = None
_thread_lock = threading.Lock()


def queue_import(
    *,
    business: Business,
    kind: str,
    content: bytes,
    filename: str,
    columns: dict[str, str],
    enroll: bool,
    recorded_by: str,
) -> Import:
    """Store an import for the worker; `columns` is the preview's reading of the header."""
    return Import.objects.create(
        business=business,
        kind=kind,
        enroll=enroll,
        filename=filename[:255],
        file=content,
        columns=list(columns.items()),
        recorded_by=recorded_by,
        rows_expected=max(content.count(b"\n") - 1, 1),
        created_at=clock.now(),
    )


def run_due_imports(*, wait: bool) -> int:
    """The worker's duty. `wait` (`worker --once`, tests) runs every due import inline;
    otherwise one thread per process runs them, so a long import never holds up the
    other periodic duties. Returns the imports run inline."""
    global _thread
    _prune_now_and_then()
    if wait:
        ran = 0
        while _run_one(clock.now()):
            ran += 1
        return ran
    with _thread_lock:
        if _thread is not None and _thread.is_alive():
            return 0
        if not _due(clock.now()).exists():
            return 0
        _thread = threading.Thread(target=_drain, name="imports", daemon=True)
        _thread.start()
    return 0


def _drain() -> None:
    try:
        while _run_one(clock.now()):
            pass
    except Exception:  # the next pass tries again; the lease protects the import meanwhile
        logger.exception("background imports failed")
    finally:
        connection.close()


def _due(now: datetime):
    return Import.objects.filter(
        Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, lease_expires_at__lt=now)
    )


def _claim(now: datetime) -> Import | None:
    """One due import, now this runner's; None when there is none (or others got them)."""
    for candidate in _due(now).order_by("created_at").values("pk", "status", "runner")[:5]:
        # Still due and still the runner we saw: of two workers, one changes the row.
        claimed = (
            _due(now)
            .filter(pk=candidate["pk"], runner=candidate["runner"])
            .update(
                status=ImportStatus.RUNNING,
                runner=RUNNER,
                lease_expires_at=now + LEASE,
                attempts=F("attempts") + 1,
            )
            == 1
        )
        if claimed:
            return Import.objects.get(pk=candidate["pk"])
    return None


def _finish(run: Import, status: str, reason: str = "") -> None:
    Import.objects.filter(pk=run.pk, runner=RUNNER).update(
        status=status,
        reason=reason,
        file=b"",
        finished_at=clock.now(),
        lease_expires_at=None,
    )


def _run_one(now: datetime) -> bool:
    run = _claim(now)
    if run is None:
        return False
    if run.attempts > MAX_ATTEMPTS:
        _finish(
            run,
            ImportStatus.FAILED,
            f"The import stopped {MAX_ATTEMPTS} times before the end (the worker running it "
            f"was stopped); rows up to {run.last_row} are imported. Import the rest again.",
        )
        return True
    if run.started_at is None:
        Import.objects.filter(pk=run.pk).update(started_at=now)
    try:
        _import(run)
    except FileProblem as exc:
        _finish(run, ImportStatus.FAILED, f"The file could not be imported: {exc}")
    except LostLease:
        logger.warning("import %s was taken over by another worker", run.pk)
    except Exception as exc:
        logger.exception("import %s failed", run.pk)
        _finish(
            run,
            ImportStatus.FAILED,
            f"The import stopped after row {_last_row(run)} on an unexpected error "
            f"({type(exc).__name__}); the rows before it are imported.",
        )
    else:
        _finish(run, ImportStatus.DONE)
    return True


class LostLease(Exception):
    """Another runner holds the import now (this one was too slow to renew its lease)."""


def _last_row(run: Import) -> int:
    return Import.objects.filter(pk=run.pk).values_list("last_row", flat=True).first() or 0


def _import(run: Import) -> None:
    report = ImportReport(kind=run.kind, dry_run=False)
    for name in COUNTERS:
        setattr(report, name, getattr(run, name))
    report.not_enrolled.update(run.not_enrolled)

    def on_chunk(report: ImportReport, last_row: int, failures: list) -> None:
        # In the chunk's transaction: the rows, their counts and problems commit together.
        saved = Import.objects.filter(pk=run.pk, runner=RUNNER).update(
            last_row=last_row,
            not_enrolled=dict(report.not_enrolled),
            lease_expires_at=clock.now() + LEASE,
            **{name: getattr(report, name) for name in COUNTERS},
        )
        if not saved:
            raise LostLease
        ImportProblem.objects.bulk_create(
            ImportProblem(
                run=run, row=error.row, column=error.column, reason=error.reason, values=values
            )
            for error, values in failures
        )

    import_file(
        run.kind,
        enroll=run.enroll,
        business=run.business,
        source=io.BytesIO(bytes(run.file)),
        recorded_by=run.recorded_by or "web import",
        resume=Resume(report, run.last_row, dict(run.columns), on_chunk),
    )


def _prune_now_and_then() -> None:
    global _last_prune
    if time.monotonic() - _last_prune >= PRUNE_INTERVAL_SECONDS:
        _last_prune = time.monotonic()
        prune_old_imports()


def prune_old_imports() -> int:
    """Imports (and their error reports) KEEP_DAYS after they ended."""
    cutoff = clock.now() - timedelta(days=KEEP_DAYS)
    deleted, _ = Import.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
