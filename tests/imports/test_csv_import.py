import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import make_business, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import ConsentRecord, Customer
from touchbase.imports.importing import import_customers, import_jobs
from touchbase.imports.reading import FileProblem
from touchbase.imports.spreadsheet import safe_cell
from touchbase.jobs.models import Job


@pytest.fixture
def business(db):
    return make_business("Bright Air", time_zone="America/New_York")


def csv_bytes(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def run_jobs(business, text, encoding="utf-8", **options):
    errors = io.StringIO()
    report = import_jobs(
        business=business, source=csv_bytes(text, encoding), errors_to=errors, **options
    )
    return report, list(csv.DictReader(io.StringIO(errors.getvalue())))


def run_customers(business, text, encoding="utf-8", **options):
    errors = io.StringIO()
    report = import_customers(
        business=business, source=csv_bytes(text, encoding), errors_to=errors, **options
    )
    return report, list(csv.DictReader(io.StringIO(errors.getvalue())))


JOBS = """Job ID,Customer Name,E-mail,Phone Number,Service,Status,Completed On,Technician
J1,Maria Lopez,maria@example.com,(415) 555-0123,HVAC,Done,03/01/2026,Luis
J2,"Carter, James",,415.555.0124,plumbing,completed,2026-03-01 14:30,Dana
J3,,bad-email,12,spaceship,weird,notadate,
J4,Ana Ruiz,ana@example.com,,hvac,scheduled,,
"""


def test_good_job_rows_are_imported_and_completed_ones_enrolled(business, clock):
    make_campaign(business, service_type="hvac")
    make_campaign(business, "conservative", service_type="plumbing")

    report, _ = run_jobs(business, JOBS)

    assert (report.rows, report.created, report.failed, report.enrolled) == (4, 3, 1, 2)
    maria = Job.objects.get(external_id="J1")
    assert maria.customer.phone == "+14155550123"
    assert maria.status == "completed" and maria.technician_name == "Luis"
    # A date without a zone is the business's local midnight (New York, EST).
    assert maria.completed_at == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert Job.objects.get(external_id="J2").customer.name == "Carter, James"
    assert Job.objects.get(external_id="J4").status == "scheduled"
    assert Enrollment.objects.count() == 2


def test_a_bad_row_is_reported_with_row_column_and_reason_for_every_bad_field(business):
    _, errors = run_jobs(business, JOBS)

    bad = {(e["row"], e["column"]) for e in errors}
    assert bad == {
        ("4", "name"),
        ("4", "email"),
        ("4", "phone"),
        ("4", "service_type"),
        ("4", "status"),
        ("4", "completed_at"),
    }
    reasons = {e["column"]: e["reason"] for e in errors}
    assert "unknown service type 'spaceship'" in reasons["service_type"]
    assert "not a date" in reasons["completed_at"]
    assert all(e["external_id"] == "J3" for e in errors)  # the row's values come along
    assert not Job.objects.filter(external_id="J3").exists()
    assert not Customer.objects.filter(email="bad-email").exists()


def test_importing_the_same_file_twice_changes_nothing(business):
    make_campaign(business, service_type="hvac")
    run_jobs(business, JOBS)
    before = (Job.objects.count(), Customer.objects.count(), Enrollment.objects.count())

    report, _ = run_jobs(business, JOBS)

    assert (report.created, report.updated, report.unchanged, report.failed) == (0, 0, 3, 1)
    assert (Job.objects.count(), Customer.objects.count(), Enrollment.objects.count()) == before


def test_a_changed_row_updates_its_job_and_completing_it_enrolls(business):
    make_campaign(business, service_type="hvac")
    run_jobs(business, JOBS)

    report, _ = run_jobs(business, JOBS.replace("hvac,scheduled,,", "hvac,completed,,"))

    assert (report.updated, report.enrolled) == (1, 1)
    assert Job.objects.get(external_id="J4").status == "completed"


def test_duplicate_rows_in_one_file_make_one_job_and_one_customer(business):
    text = (
        "external_id,name,email,service_type,status\n"
        + "A-1,Pat Doe,pat@example.com,hvac,completed\n" * 3
        + "A-2,Pat Doe,pat@EXAMPLE.com,hvac,completed\n"
    )
    make_campaign(business, service_type="hvac")

    report, errors = run_jobs(business, text)

    assert errors == []
    assert (report.created, report.unchanged) == (2, 2)
    assert Customer.objects.count() == 1  # the domain's case does not make a new person
    assert Job.objects.count() == 2
    assert Enrollment.objects.count() == 1  # A-2 is the same customer: cooldown
    assert report.not_enrolled == {"cooldown": 1}


def test_a_dry_run_previews_exactly_and_writes_nothing(business):
    make_campaign(business, service_type="hvac")

    report, errors = run_jobs(business, JOBS, dry_run=True)

    assert (report.created, report.failed, report.enrolled) == (3, 1, 1)
    assert len(errors) == 6
    assert Job.objects.count() == Customer.objects.count() == Enrollment.objects.count() == 0


def test_no_enroll_imports_completed_jobs_without_enrolling(business):
    make_campaign(business, service_type="hvac")

    report, _ = run_jobs(business, JOBS, enroll=False)

    assert report.created == 3 and report.enrolled == 0
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", ""), ("utf-8", "\ufeff"), ("utf-16", ""), ("cp1252", "")],
)
def test_common_encodings_are_read(business, encoding, prefix):
    text = prefix + "Name,Email,Phone\nJosé Müller,jose@example.com,\nZoë,,+1 415 555 0100\n"

    report, errors = run_customers(business, text, encoding)

    assert errors == [] and report.created == 2
    assert set(Customer.objects.values_list("name", flat=True)) == {"José Müller", "Zoë"}


def test_a_row_broken_by_a_foreign_byte_fails_alone(business):
    good = "Name,Email\n" + "".join(f"Person {n},p{n}@example.com\n" for n in range(1, 5000))
    raw = good.encode() + b"Bad Byte,bad@example.com\n".replace(b"Byte", b"B\xffte")
    raw += b"Last One,last@example.com\n"

    errors = io.StringIO()
    report = import_customers(business=business, source=io.BytesIO(raw), errors_to=errors)

    rows = list(csv.DictReader(io.StringIO(errors.getvalue())))
    assert report.created == 5000 and report.failed == 1
    assert rows[0]["row"] == "5001" and "not valid utf-8" in rows[0]["reason"]
    assert Customer.objects.filter(email="last@example.com").exists()


def test_excel_quoting_semicolons_and_aliases(business):
    text = (
        "FIRST NAME;Last Name;E-Mail Address;Mobile;SMS Opt-In\n"
        '"Mary ""Molly""";O\'Brien;molly@example.com;"(415) 555-0142";Yes\n'
        '"Line\nbreak";Person;lb@example.com;;no\n'
    )

    report, errors = run_customers(business, text)

    assert errors == [] and report.created == 2
    molly = Customer.objects.get(email="molly@example.com")
    assert molly.name == 'Mary "Molly" O\'Brien'
    assert molly.sms_consent == "granted"
    assert ConsentRecord.objects.get(customer=molly).source == "import"
    assert Customer.objects.get(email="lb@example.com").name == "Line\nbreak Person"


def test_customers_are_matched_by_email_then_phone_and_updated(business):
    existing = make_customer(business, "Old Name", email="pat@example.com")
    by_phone = make_customer(business, "Phone Person", email="", phone="+14155550177")
    text = "name,email,phone\nPat Doe,pat@example.com,\nPhone Person,,415-555-0177\n"

    report, _ = run_customers(business, text)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    existing.refresh_from_db()
    assert existing.name == "Pat Doe"
    assert Customer.objects.count() == 2 and by_phone.pk in Customer.objects.values_list(
        "pk", flat=True
    )


def test_a_file_without_the_needed_columns_is_refused_whole(business):
    with pytest.raises(FileProblem, match="external_id"):
        run_jobs(business, "name,email,service\nPat,pat@example.com,hvac\n")
    with pytest.raises(FileProblem, match="empty"):
        run_customers(business, "")


def test_ten_thousand_rows_import_with_every_bad_row_reported(business):
    make_campaign(business, service_type="hvac")
    lines = ["external_id,name,email,phone,service_type,status"]
    for n in range(10_000):
        service = "teleportation" if n % 1000 == 999 else "hvac"
        lines.append(f"W{n},Person {n},p{n}@example.com,,{service},completed")

    report, errors = run_jobs(business, "\n".join(lines) + "\n")

    assert report.rows == 10_000
    assert (report.created, report.failed, report.enrolled) == (9_990, 10, 9_990)
    assert [int(e["row"]) for e in errors] == [n + 2 for n in range(999, 10_000, 1000)]
    assert Job.objects.count() == Enrollment.objects.count() == 9_990


def test_the_command_imports_with_an_error_file_and_a_summary(business, tmp_path):
    make_campaign(business, service_type="hvac")
    source = tmp_path / "jobs.csv"
    source.write_text(JOBS, encoding="utf-8-sig")
    out = io.StringIO()

    call_command(
        "import", "jobs", str(source), business=business.slug, no_progress=True, stdout=out
    )

    summary = out.getvalue()
    assert "4 rows read" in summary and "3 created" in summary and "1 failed" in summary
    assert "enrolled: 1" in summary
    error_file = tmp_path / "jobs.errors.csv"
    assert "spaceship" in error_file.read_text()
    assert Job.objects.count() == 3


def test_the_command_dry_run_and_a_clean_file_leave_no_error_file(business, tmp_path):
    source = tmp_path / "customers.csv"
    source.write_text("name,email\nPat,pat@example.com\n")
    out = io.StringIO()

    call_command(
        "import",
        "customers",
        str(source),
        business=business.slug,
        dry_run=True,
        no_progress=True,
        stdout=out,
    )

    assert "DRY RUN" in out.getvalue() and Customer.objects.count() == 0
    assert not (tmp_path / "customers.errors.csv").exists()


def test_the_command_refuses_an_unknown_business(business, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("name,email\nPat,pat@example.com\n")

    with pytest.raises(CommandError, match="no business"):
        call_command("import", "customers", str(source), business="nope", no_progress=True)


def test_a_job_completed_then_marked_do_not_send_in_one_file_ends_stopped(business):
    make_campaign(business, service_type="hvac")
    text = (
        "external_id,name,email,service_type,status\n"
        "D-1,Pat Doe,pat@example.com,hvac,completed\n"
        "D-1,Pat Doe,pat@example.com,hvac,do not send\n"
    )

    report, errors = run_jobs(business, text)

    assert errors == [] and (report.created, report.updated) == (1, 1)
    enrollment = Enrollment.objects.get(job__external_id="D-1")
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "owner_stopped")
    assert Job.objects.get(external_id="D-1").status == "do_not_send"


def test_the_error_report_neutralises_spreadsheet_formulas(business):
    text = (
        "Job ID,Customer Name,E-mail,Service\n"
        '"=HYPERLINK(""http://evil.example"",""click"")",Pat,pat@example.com,teleport\n'
        "+cmd|' /C calc'!A0,Pat,pat@example.com,teleport\n"
        "@SUM(1+1),Pat,pat@example.com,teleport\n"
        "-2+3,Pat,pat@example.com,teleport\n"
    )
    errors = io.StringIO()
    import_jobs(business=business, source=csv_bytes(text), errors_to=errors)

    ids = [row["external_id"] for row in csv.DictReader(io.StringIO(errors.getvalue()))]
    assert ids == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(1+1)",
        "'-2+3",
    ]
    # Cells are read stripped, so a leading tab or CR can only come from other text:
    assert [safe_cell("\tx"), safe_cell("\rx"), safe_cell("Pat")] == ["'\tx", "'\rx", "Pat"]


def test_a_customer_row_with_a_bad_email_is_reported_and_the_rest_imported(business):
    report, errors = run_customers(
        business,
        "Name,Email,Phone\nMaria Lopez,maria@example.com,\nJames Carter,not-an-email,\n",
    )

    assert (report.created, report.failed) == (1, 1)
    assert [(e["row"], e["column"]) for e in errors] == [("3", "email")]
    assert "not-an-email" in errors[0]["reason"]
    assert Customer.objects.filter(business=business).count() == 1


def test_an_import_respects_the_cooldown_of_a_customer_enrolled_recently(business, clock):
    make_campaign(business, service_type="hvac")
    customer = make_customer(business, "Maria Lopez", email="maria@example.com")
    from tests.factories import complete_job

    complete_job(business, customer, "hvac")

    report, _ = run_jobs(
        business, "Job ID,Name,Email,Service\nJ9,Maria Lopez,maria@example.com,hvac\n"
    )

    assert (report.enrolled, report.not_enrolled["cooldown"]) == (0, 1)
    assert Job.objects.get(external_id="J9").enrollment_reason == "cooldown"
    assert Enrollment.objects.filter(customer=customer).count() == 1


def test_a_reimport_updates_changed_jobs_in_statements_that_do_not_grow_with_them(business):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_campaign(business, service_type="hvac")

    def statements_to_complete(count: int, prefix: str) -> int:
        rows = [f"{prefix}{n},Person {n},{prefix}{n}@example.com,hvac" for n in range(count)]
        header = "Job ID,Name,Email,Service,Status\n"
        run_jobs(business, header + "".join(f"{row},scheduled\n" for row in rows))
        with CaptureQueriesContext(connection) as queries:
            report, _ = run_jobs(business, header + "".join(f"{row},completed\n" for row in rows))
        assert (report.updated, report.enrolled) == (count, count)
        # INSERTs aside: SQLite's variable limit makes Django split a long one in two.
        return len([q for q in queries.captured_queries if not q["sql"].startswith("INSERT")])

    few = statements_to_complete(5, "a")
    many = statements_to_complete(40, "b")
    assert many == few
    assert Job.objects.filter(status="completed").count() == 45
    assert not Job.objects.exclude(enrollment_outcome="enrolled").exists()
