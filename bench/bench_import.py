"""Import 100,000 jobs from CSV with enrollment, through the same service as
`touchbase import jobs`, and record wall time and the process's peak RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench
    DATABASE_URL=sqlite:// .venv/bin/python bench/bench_import.py   (SQLite)
    BENCH_IMPORT_ROWS=20000 ...   (a smaller run)

On PostgreSQL it runs in a throwaway database created next to DATABASE_URL's (dropped at
the end) and writes `import_100k_s`, `import_rows_per_s` and `import_peak_rss_mb` (plus the
counts) into bench/results/latest.json; on SQLite, in a temporary file, the same keys with
`_sqlite`. Goals: <= 60 s on PostgreSQL, <= 120 s on SQLite, <= 200 MB. The CSV file is
generated into a temporary directory first (not timed). `import_cpu_s` is the importing
process's own CPU time (user + system) and `import_pg_cpu_s` its PostgreSQL backend's (read
from /proc when the server runs on this machine): on a shared machine they tell the
import's cost apart from waiting for a core.

Then `jobs_batch_api_per_s`: BENCH_BATCHES (default 5) requests of 1,000 new completed jobs
each to `POST /api/v1/jobs:batch`, through Django's full request stack (test client).
"""

import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")

from bench.scratch import scratch_database

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "5"))
SERVICE_TYPES = ["hvac", "plumbing", "cleaning", "electrical"]


def write_file(path: Path, rows: int) -> None:
    """A realistic export: 1 in 10 rows is a repeat customer, 1 in 10 jobs is scheduled,
    1 in 200 rows is broken (unknown service type)."""
    rng = random.Random(20261124)
    with path.open("w", newline="") as handle:
        handle.write("Job ID,Customer Name,Email,Phone,Service,Status,Completed On,Technician\n")
        for n in range(rows):
            person = rng.randrange(n) if n and n % 10 == 0 else n
            service = "teleport" if n % 200 == 199 else SERVICE_TYPES[n % 4]
            status = "scheduled" if n % 10 == 5 else "completed"
            phone = f"(415) {200 + person // 10000:03d}-{person % 10000:04d}"
            handle.write(
                f"WO-{n},Customer {person},c{person}@example.com,{phone},{service},{status},"
                f"2026-03-01,Tech {n % 7}\n"
            )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def batch_api(business) -> float:
    """Jobs per second through `POST /api/v1/jobs:batch`, 1,000 new completed jobs a call."""
    import json

    from django.test import Client

    from touchbase.api.keys import create_api_key

    key = create_api_key(business=business, name="bench").raw_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="127.0.0.1")
    bodies = []
    for batch in range(BATCHES):
        jobs = []
        for n in range(1000):
            person = f"{batch}-{n}"
            jobs.append(
                {
                    "external_id": f"API-{person}",
                    "service_type": SERVICE_TYPES[n % 4],
                    "status": "completed",
                    "customer": {"name": f"API {person}", "email": f"api{person}@example.com"},
                }
            )
        bodies.append(json.dumps({"jobs": jobs}))
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/v1/jobs:batch", body, content_type="application/json")
        assert response.status_code == 200, response.content[:500]
    return BATCHES * 1000 / (time.perf_counter() - started)


def _backend_cpu(connection) -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when it runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    if os.environ.get("DATABASE_URL", "").startswith("sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            os.environ["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
            run()
        return
    with scratch_database("import"):
        run()


def run() -> None:
    import django

    django.setup()
    from django.db import connection

    from bench.results import record
    from touchbase.campaigns.models import Campaign
    from touchbase.campaigns.services import create_campaign_from_preset
    from touchbase.imports.importing import import_jobs
    from touchbase.tenancy.services import create_business

    # Migrate in a child process: building the migration state costs more memory than the
    # import, and this process's peak RSS must measure the import.
    subprocess.run([sys.executable, "-m", "touchbase", "migrate", "-v0"], check=True)
    business = create_business(
        name=f"Bench import {time.time_ns()}",
        time_zone="America/Chicago",
        review_url="https://g.page/r/bench-import/review",
        postal_address="1 Main St, Springfield, IL 62701",
    )
    for preset, service_type in (("standard", "hvac"), ("conservative", None)):
        create_campaign_from_preset(
            business=business,
            preset=Campaign.objects.get(preset_key=preset),
            service_type=service_type,
        )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "jobs.csv"
        write_file(path, ROWS)
        errors = io.StringIO()
        pg_before = _backend_cpu(connection)
        cpu_before = _cpu()
        started = time.perf_counter()
        with path.open("rb") as source:
            report = import_jobs(business=business, source=source, errors_to=errors)
        elapsed = time.perf_counter() - started
        cpu = _cpu() - cpu_before
        pg_after = _backend_cpu(connection)
    pg_cpu = None if pg_before is None or pg_after is None else pg_after - pg_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import: {elapsed:.1f} s, cpu {cpu:.1f} s, peak {peak_mb:.1f} MB", flush=True)
    batch_per_s = batch_api(business)
    values = {
        "import_100k_s" if ROWS == 100_000 else f"import_{ROWS}_rows_s": round(elapsed, 2),
        "import_rows_per_s": round(ROWS / elapsed, 1),
        "import_peak_rss_mb": round(peak_mb, 1),
        "import_cpu_s": round(cpu, 2),
        "jobs_batch_api_per_s": round(batch_per_s, 1),
        "import_rows": ROWS,
        "import_created": report.created,
        "import_failed": report.failed,
        "import_enrolled": report.enrolled,
        "import_load_average": round(os.getloadavg()[0], 2),
    }
    if pg_cpu is not None:
        values["import_pg_cpu_s"] = round(pg_cpu, 2)
    if connection.vendor != "postgresql":
        values = {f"{key}_{connection.vendor}": value for key, value in values.items()}
    record(values)
    for key, value in values.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
