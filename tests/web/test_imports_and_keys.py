"""The import page (upload, exact preview, import, per-row errors) and the API keys page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from touchbase.api.keys import authenticate_key
from touchbase.api.models import ApiKey
from touchbase.jobs.models import Job
from touchbase.ops.periodic import run_periodic_duties

pytestmark = pytest.mark.django_db

CSV = (
    "job number,name,email,service,status\n"
    "J-100,Maria Lopez,maria@example.com,hvac,completed\n"
    "J-101,James Carter,not-an-email,plumbing,completed\n"
    "J-102,Aiko Tanaka,aiko@example.com,hvac,scheduled\n"
)


def upload(client, content=CSV, **fields):
    data = {"kind": "jobs", "enroll": "on", **fields}
    data["file"] = SimpleUploadedFile("jobs.csv", content.encode(), content_type="text/csv")
    return client.post("/jobs/import/", data)


def test_the_preview_reports_every_row_and_writes_nothing(owner_client, mine):
    before = Job.objects.count()

    response = upload(owner_client)

    report = response.context["report"]
    assert (report.rows, report.created, report.failed) == (3, 2, 1)
    assert report.first_errors[0].row == 3 and report.first_errors[0].column == "email"
    assert "not-an-email" in response.content.decode()
    assert Job.objects.count() == before


def test_importing_the_previewed_file_keeps_the_good_rows(owner_client, mine):
    upload(owner_client)

    response = owner_client.post("/jobs/import/", {"action": "import"}, follow=True)
    run_periodic_duties(wait=True)  # the worker runs the queued import

    assert "Waiting for the worker" in response.content.decode()
    assert set(
        Job.objects.filter(business=mine.business, external_id__startswith="J-").values_list(
            "external_id", flat=True
        )
    ) == {"J-100", "J-102"}
    assert Job.objects.get(external_id="J-100").enrollment_outcome == "enrolled"


def test_an_import_without_a_preview_is_refused(owner_client, mine):
    response = owner_client.post("/jobs/import/", {"action": "import"}, follow=True)

    assert "Upload the file again" in response.content.decode()


def test_a_file_without_the_needed_columns_is_refused_on_the_file_field(owner_client, mine):
    response = upload(owner_client, content="colour,size\nred,9\n")

    assert "missing column" in " ".join(response.context["form"].errors["file"])


def test_another_business_preview_cannot_be_imported(client, mine, theirs):
    client.force_login(theirs.user)
    upload(client)
    session = client.session
    pending = session["touchbase_import"]
    pending["business"] = mine.business.pk  # forged in a session it does not own
    client.force_login(mine.user)

    response = client.post("/jobs/import/", {"action": "import"}, follow=True)

    assert "Upload the file again" in response.content.decode()


def test_a_new_api_key_is_shown_once_and_works(owner_client, mine):
    response = owner_client.post("/settings/api-keys/", {"name": "Jobber sync"})

    raw = response.context["new_key"].raw_key
    assert raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert authenticate_key(raw).business == mine.business
    assert raw not in owner_client.get("/settings/api-keys/").content.decode()


def test_revoking_a_key_stops_it_at_once(owner_client, mine):
    owner_client.post("/settings/api-keys/", {"name": "Jobber sync"})
    key = ApiKey.objects.get(business=mine.business, name="Jobber sync")

    owner_client.post(f"/settings/api-keys/{key.pk}/revoke/")

    key.refresh_from_db()
    assert not key.is_active


def test_another_business_key_cannot_be_revoked(owner_client, theirs):
    from touchbase.api.keys import create_api_key

    key = create_api_key(business=theirs.business, name="Theirs").api_key

    assert owner_client.post(f"/settings/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.is_active
