"""The web import runs in the background: the upload queues it, the worker runs it (its
periodic duty, as `touchbase worker --once` runs it), a page shows the progress and the
result, and the bad rows download as CSV. Only the business that uploaded sees any of it."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.factories import make_business, make_campaign, make_user
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.imports import background, importing
from touchbase.imports.models import Import, ImportProblem, ImportStatus
from touchbase.jobs.models import Job
from touchbase.ops.periodic import run_periodic_duties
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db

CSV = (
    "Job Number,Name,E-mail,Service,Status\n"
    "J-100,Maria Lopez,maria@example.com,hvac,completed\n"
    "J-101,James Carter,not-an-email,plumbing,completed\n"
    "J-102,Aiko Tanaka,aiko@example.com,hvac,scheduled\n"
    "J-103,Sam Reyes,sam@example.com,teleport,completed\n"
    'J-104,=HYPERLINK("http://evil.example"),evil@example.com,hvac,completed\n'
)


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)


@pytest.fixture
def shop(clock):
    business = make_business("Bright Air")
    make_campaign(business, "standard")
    return business


def owner(client, business):
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client.force_login(user)
    return client


def queue_through_the_page(client, content=CSV) -> Import:
    data = {"kind": "jobs", "enroll": "on"}
    data["file"] = SimpleUploadedFile("spring jobs.csv", content.encode(), content_type="text/csv")
    preview = client.post("/jobs/import/", data)
    assert preview.context["report"].created == 3  # the exact preview, as before
    confirmed = client.post("/jobs/import/", {"action": "import"})
    run = Import.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/jobs/imports/{run.pk}/"
    return run


def queued(business) -> Import:
    """An import queued directly (as the page queues it), for the claim's own tests."""
    return background.queue_import(
        business=business,
        kind="jobs",
        content=CSV.encode(),
        filename="jobs.csv",
        columns={},
        enroll=True,
        recorded_by="owner@example.com",
    )


def report_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_worker_imports_the_upload_and_the_page_shows_progress_result_and_errors(client, shop):
    owner(client, shop)
    run = queue_through_the_page(client)

    waiting = client.get(f"/jobs/imports/{run.pk}/")
    assert "Waiting for the worker" in waiting.content.decode()
    assert 'hx-trigger="every 1s"' in waiting.content.decode()  # the page keeps asking
    assert not Job.objects.filter(business=shop).exists()  # nothing before the worker

    call_command("worker", "--once")

    done = client.get(f"/jobs/imports/{run.pk}/", HTTP_HX_REQUEST="true")
    page = done.content.decode()
    assert done.templates[0].name == "web/jobs/_import_progress.html"  # htmx gets the part
    assert "Imported" in page and 'value="100"' in page
    assert "hx-trigger" not in page  # finished: the asking stops
    assert "3 created" in page and "2 with errors" in page and "2 enrolled" in page
    assert set(Job.objects.filter(business=shop).values_list("external_id", flat=True)) == {
        "J-100",
        "J-102",
        "J-104",
    }
    assert Enrollment.objects.filter(business=shop).count() == 2
    run.refresh_from_db()
    assert (run.status, bytes(run.file), run.last_row) == (ImportStatus.DONE, b"", 6)

    errors = report_rows(client.get(f"/jobs/imports/{run.pk}/errors.csv"))
    assert [(e["row"], e["column"]) for e in errors] == [("3", "email"), ("5", "service_type")]
    assert "not-an-email" in errors[0]["problem"] and errors[0]["name"] == "James Carter"
    assert "teleport" in errors[1]["problem"]


def test_the_error_report_neutralises_formulas_in_the_rows_cells(client, shop):
    owner(client, shop)
    run = queue_through_the_page(
        client, CSV.replace("J-101,James Carter", "J-101,=cmd|' /C calc'!A0")
    )
    run_periodic_duties(wait=True)

    [bad_email, _] = report_rows(client.get(f"/jobs/imports/{run.pk}/errors.csv"))

    assert bad_email["name"] == "'=cmd|' /C calc'!A0"


def test_another_business_sees_neither_the_import_nor_its_report(client, shop):
    owner(client, shop)
    run = queue_through_the_page(client)
    run_periodic_duties(wait=True)

    owner(client, make_business("Rival Plumbing"))

    assert client.get(f"/jobs/imports/{run.pk}/").status_code == 404
    assert client.get(f"/jobs/imports/{run.pk}/errors.csv").status_code == 404


def test_an_import_whose_worker_died_is_resumed_after_its_lease_without_repeating_rows(
    client, shop, clock, monkeypatch
):
    owner(client, shop)
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    run = queue_through_the_page(client)
    real_chunk, calls = importing._import_job_chunk, []

    def dies_in_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process ends here: nothing after runs
        return real_chunk(*args)

    monkeypatch.setattr(importing, "_import_job_chunk", dies_in_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        run_periodic_duties(wait=True)
    run.refresh_from_db()
    assert (run.status, run.last_row, run.rows) == (ImportStatus.RUNNING, 3, 2)

    run_periodic_duties(wait=True)  # another worker, before the lease ran out: hands off
    run.refresh_from_db()
    assert run.status == ImportStatus.RUNNING and run.attempts == 1

    clock.shift(background.LEASE + timedelta(seconds=1))
    run_periodic_duties(wait=True)

    run.refresh_from_db()
    assert (run.status, run.rows, run.created, run.failed) == (ImportStatus.DONE, 5, 3, 2)
    assert run.attempts == 2
    assert Job.objects.filter(business=shop).count() == 3
    assert Customer.objects.filter(business=shop).count() == 3
    assert ImportProblem.objects.filter(run=run).count() == 2  # each bad row once


def test_an_import_stopped_too_often_ends_failed_with_a_readable_reason(client, shop, clock):
    owner(client, shop)
    run = queue_through_the_page(client)
    Import.objects.filter(pk=run.pk).update(
        status=ImportStatus.RUNNING,
        attempts=background.MAX_ATTEMPTS,
        runner="dead-worker",
        lease_expires_at=clock_now() - timedelta(seconds=1),
    )

    run_periodic_duties(wait=True)

    page = client.get(f"/jobs/imports/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and bytes(run.file) == b""
    assert "stopped 3 times before the end" in page
    assert "hx-trigger" not in page


def test_a_claimed_import_has_one_runner(shop):
    run = queued(shop)
    now = clock_now()

    assert background._claim(now).pk == run.pk
    assert background._claim(now) is None  # a second worker finds nothing to take


def test_finished_imports_and_their_reports_are_pruned_after_keep_days(client, shop, clock):
    owner(client, shop)
    run = queue_through_the_page(client)
    run_periodic_duties(wait=True)
    assert ImportProblem.objects.filter(run=run).exists()

    clock.shift(timedelta(days=background.KEEP_DAYS + 1))
    background.prune_old_imports()

    assert not Import.objects.exists() and not ImportProblem.objects.exists()


def clock_now():
    from touchbase import clock

    return clock.now()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_workers_claiming_at_once_give_the_import_to_one_of_them():
    import threading

    from django.db import connection

    business = make_business("Race Air")
    queued(business)
    start, claims = threading.Barrier(4), []

    def worker():
        try:
            start.wait()
            claims.append(background._claim(clock_now()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len([claim for claim in claims if claim is not None]) == 1
    assert Import.objects.get().attempts == 1
