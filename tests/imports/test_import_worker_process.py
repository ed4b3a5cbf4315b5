"""A real `touchbase worker` process (its normal loop, not `--once`) runs a queued web
import on its own thread, on a real PostgreSQL."""

import signal

import pytest

from tests.factories import make_business, make_campaign
from tests.processes import start_worker, wait_until, worker_env
from tests.servers import TwilioStandIn
from touchbase.imports.background import queue_import
from touchbase.imports.models import Import, ImportStatus
from touchbase.jobs.models import Job

ROWS = 3000  # two chunks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_worker_process_imports_a_queued_file():
    business = make_business("Worker Air")
    make_campaign(business, service_type="hvac")
    lines = ["Job ID,Name,Email,Service,Status"]
    lines += [f"W-{n},Person {n},p{n}@example.com,hvac,completed" for n in range(ROWS)]
    run = queue_import(
        business=business,
        kind="jobs",
        content=("\n".join(lines) + "\n").encode(),
        filename="jobs.csv",
        columns={},
        enroll=True,
        recorded_by="owner@example.com",
    )
    stand_in = TwilioStandIn().start()
    worker = start_worker(worker_env(stand_in), "--idle-seconds", "0.2")
    try:
        wait_until(
            lambda: Import.objects.get(pk=run.pk).finished, 60, "the worker finished the import"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0]
        stand_in.stop()

    run.refresh_from_db()
    assert (run.status, run.created, run.failed, run.enrolled) == (
        ImportStatus.DONE,
        ROWS,
        0,
        ROWS,
    ), output
    assert run.runner and run.attempts == 1
    assert Job.objects.filter(business=business).count() == ROWS
