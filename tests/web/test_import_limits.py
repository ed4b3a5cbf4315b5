"""The import page stays quick and bounded: oversize uploads are refused as they stream in,
the preview covers a bounded number of rows, and preview files do not pile up on disk."""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from touchbase.imports.models import Import
from touchbase.jobs.models import Job
from touchbase.ops.periodic import run_periodic_duties
from touchbase.web.views import imports

pytestmark = pytest.mark.django_db

ROW = "J-{n},Maria Lopez {n},maria{n}@example.com,hvac,completed\n"
HEADER = "job number,name,email,service,status\n"


def upload(client, content: str):
    data = {"kind": "jobs", "enroll": "on"}
    data["file"] = SimpleUploadedFile("jobs.csv", content.encode(), content_type="text/csv")
    return client.post("/jobs/import/", data)


def stored_previews() -> list[Path]:
    return list((Path(settings.VAR_DIR) / "imports").glob("*.csv"))


@pytest.fixture(autouse=True)
def empty_upload_dir(settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)


def test_an_upload_over_the_limit_is_refused_and_nothing_is_stored(owner_client, monkeypatch):
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 2_000)
    content = HEADER + "".join(ROW.format(n=n) for n in range(100))  # about 5 KB

    response = upload(owner_client, content)

    assert "larger than 20 MB" in " ".join(response.context["form"].errors["file"])
    assert stored_previews() == []
    assert not Job.objects.filter(external_id__startswith="J-").exists()


def test_an_upload_announcing_a_huge_body_is_refused_before_it_is_read(owner_client):
    response = owner_client.post(
        "/jobs/import/",
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        follow=True,
    )

    assert "larger than 20 MB" in response.content.decode()
    assert stored_previews() == []


def test_the_preview_covers_the_first_rows_and_the_import_takes_them_all(owner_client, monkeypatch):
    monkeypatch.setattr(imports, "PREVIEW_ROWS", 2)
    content = HEADER + "".join(ROW.format(n=n) for n in range(5))

    preview = upload(owner_client, content)

    report = preview.context["report"]
    assert (report.rows, report.more_rows) == (2, True)
    assert "covers the file's first 2 rows" in preview.content.decode()
    owner_client.post("/jobs/import/", {"action": "import"})
    run_periodic_duties(wait=True)  # the worker runs the queued import
    assert Import.objects.latest("pk").created == 5  # the one just queued
    assert stored_previews() == []


def test_a_preview_never_imported_is_deleted_later(owner_client):
    upload(owner_client, HEADER + ROW.format(n=1))
    [abandoned] = stored_previews()
    old = time.time() - imports.KEEP_PREVIEW - 60
    os.utime(abandoned, (old, old))

    upload(owner_client, HEADER + ROW.format(n=2))  # another owner, another day

    assert abandoned not in stored_previews()
    assert len(stored_previews()) == 1
