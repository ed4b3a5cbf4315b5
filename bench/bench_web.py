"""Server time of the dashboard and a campaign's detail page with 200,000 enrollments in one
business, on PostgreSQL (issue 12: goal <= 150 ms each, and no growth with the history).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench
    # or only this one: .venv/bin/python bench/bench_web.py

Creates a throwaway database next to DATABASE_URL's (default: the local PostgreSQL),
migrates it and bulk-loads one business: 200k customers, jobs and enrollments over 60 days
(the last 10 days' still running, older ones completed or stopped; ~500k deliveries;
BENCH_ENROLLMENTS=400000 is 120 days of the same pace). The worker's daily-count duty then
catches up on the history (`insights_catch_up_s`; one steady pass afterwards:
`insights_pass_ms`), as a running worker would have. Then it renders each page through
Django's test client (the whole request: middleware, queries, templates) and merges
`dashboard_ms` and `campaign_detail_ms` (medians) into bench/results/latest.json. The
database is dropped afterwards (kept with BENCH_KEEP_DB=name).
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENROLLMENTS = int(os.environ.get("BENCH_ENROLLMENTS", "200000"))
# The history grows at a fixed pace (200,000 enrollments over 60 days), so 400,000 is 120
# days of the same business: the pages' cost must not grow with it.
HISTORY_DAYS = round(60 * ENROLLMENTS / 200_000)
# The baseline, measured in the same run: a second business at the same pace with only
# BASELINE_DAYS of history. page ÷ baseline ≈ 1 says the pages do not grow with the history.
BASELINE_DAYS = 10
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
if not BASE_URL.startswith("postgres"):
    sys.exit("bench_web needs PostgreSQL: DATABASE_URL=postgres://... make bench")
ADMIN_URL = urlunsplit(urlsplit(BASE_URL)._replace(path="/postgres"))
# BENCH_KEEP_DB=name: keep (or reuse, when it exists) the loaded database under that name.
KEEP = os.environ.get("BENCH_KEEP_DB", "")
SCRATCH = KEEP or f"touchbase_bench_web_{os.getpid()}"


def scratch_url() -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{SCRATCH}"))


def admin(sql: str):
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else None


def seed(n: int, days: int = HISTORY_DAYS, name: str = "Bench Air"):
    from django.db.models.functions import Coalesce

    from touchbase import clock
    from touchbase.campaigns.models import Campaign, Enrollment, StopReason
    from touchbase.campaigns.services import create_campaign_from_preset
    from touchbase.customers.models import Customer
    from touchbase.delivery.models import Delivery
    from touchbase.jobs.models import Job
    from touchbase.tenancy.models import User
    from touchbase.tenancy.services import create_business

    rng = random.Random(6)
    user = User.objects.create_user(f"{name.split()[0].lower()}@touchbase.test", "bench-pw-1")
    business = create_business(
        name=name,
        owner=user,
        time_zone="America/New_York",
        review_url="https://g.page/r/bench-air/review",
        postal_address="1 Main St, Springfield, IL 62701",
    )
    campaign = create_campaign_from_preset(
        business=business, preset=Campaign.objects.get(preset_key="standard"), name="Everyone"
    )
    touches = list(campaign.touches.order_by("position"))
    now = clock.now()
    stop_reasons = [
        StopReason.REVIEW_CLICKED,
        StopReason.REVIEW_CLICKED,
        StopReason.OPTED_OUT_SMS,
        StopReason.REPEAT_JOB,
        StopReason.OWNER_STOPPED,
    ]
    chunk = 10_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        customers = Customer.objects.bulk_create(
            Customer(
                business=business,
                name=f"Customer {start + i}",
                email=f"c{start + i}@example.com",
                phone=f"+1305555{(start + i) % 10000:04d}",
            )
            for i in range(size)
        )
        ages = [timedelta(minutes=rng.randrange(days * 24 * 60)) for _ in range(size)]
        jobs = Job.objects.bulk_create(
            Job(
                business=business,
                customer=customer,
                service_type="hvac",
                status="completed",
                completed_at=now - age,
                enrollment_outcome="enrolled",
                enrollment_checked_at=now - age,
            )
            for customer, age in zip(customers, ages, strict=True)
        )
        # Recent enrollments are still running; older ones completed or were stopped.
        enrollments, plans = [], []
        for customer, job, age in zip(customers, jobs, ages, strict=True):
            enrolled_at = now - age
            if age < timedelta(days=10):
                status, reason = "active", ""
                due, sent = enrolled_at, 0
                for touch in touches:
                    if due + timedelta(hours=touch.delay_hours) > now:
                        break
                    due += timedelta(hours=touch.delay_hours)
                    sent += 1
                sent = min(sent, len(touches) - 1)
            elif rng.random() < 0.75:
                status, reason, sent = "completed", "", len(touches)
            else:
                status, reason, sent = "stopped", rng.choice(stop_reasons), rng.randint(1, 2)
            enrollments.append(
                Enrollment(
                    business=business,
                    campaign=campaign,
                    job=job,
                    customer=customer,
                    status=status,
                    stop_reason=reason,
                    current_position=min(sent + 1, len(touches)),
                    enrolled_at=enrolled_at,
                    stopped_at=enrolled_at + timedelta(days=5) if reason else None,
                    completed_at=enrolled_at + timedelta(days=10)
                    if status == "completed"
                    else None,
                )
            )
            plans.append(sent)
        Enrollment.objects.bulk_create(enrollments)
        deliveries = []
        for enrollment, sent in zip(enrollments, plans, strict=True):
            at = enrollment.enrolled_at
            rows = sent + 1 if enrollment.status == "active" else sent
            for touch in touches[:rows]:
                at = at + timedelta(hours=touch.delay_hours)
                pending = touch.position > sent
                deliveries.append(
                    Delivery(
                        business=business,
                        enrollment=enrollment,
                        position=touch.position,
                        channel=touch.channel,
                        scheduled_at=at,
                        send_after=at,
                        status="pending" if pending else "sent",
                        sent_at=None if pending else at,
                        receipt_status="" if pending or rng.random() < 0.1 else "delivered",
                        to_address=enrollment.customer.email,
                    )
                )
        Delivery.objects.bulk_create(deliveries, batch_size=5000)
        # Each row as if written when it last changed (bulk_create stamps them all "now",
        # which would make the whole history look changed late to the daily counts).
        Delivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            updated_at=Coalesce("sent_at", "send_after")
        )
        print(f"  seeded {start + size:,} enrollments", flush=True)
    return user, business, campaign


def measure(client, url: str) -> float:
    for _ in range(3):
        assert client.get(url).status_code == 200, url
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return round(statistics.median(timings), 1)


def main() -> None:
    exists = bool(KEEP) and bool(admin(f"SELECT 1 FROM pg_database WHERE datname = '{SCRATCH}'"))
    if not exists:
        admin(f"CREATE DATABASE {SCRATCH}")
    try:
        os.environ["DATABASE_URL"] = scratch_url()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        settings.ALLOWED_HOSTS = ["testserver"]
        # Pages render without `collectstatic` (as in the tests): unhashed static names.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        call_command("migrate", verbosity=0)
        from touchbase.campaigns.models import Campaign
        from touchbase.tenancy.models import User

        # BENCH_KEEP_DB: what an earlier run loaded is used again.
        loaded = False
        for email, size, days, name in (
            ("bench@touchbase.test", ENROLLMENTS, HISTORY_DAYS, "Bench Air"),
            ("fresh@touchbase.test", 200_000 // 60 * BASELINE_DAYS, BASELINE_DAYS, "Fresh Air"),
        ):
            if not User.objects.filter(email=email).exists():
                print(f"seeding {size:,} enrollments over {days} days into {SCRATCH}", flush=True)
                started = time.perf_counter()
                seed(size, days, name)
                print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
                loaded = True
        if loaded:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        user = User.objects.get(email="bench@touchbase.test")
        campaign = Campaign.objects.get(name="Everyone", business__name="Bench Air")
        fresh_user = User.objects.get(email="fresh@touchbase.test")
        fresh_campaign = Campaign.objects.get(name="Everyone", business__name="Fresh Air")
        from touchbase.insights.rollup import roll_up

        started = time.perf_counter()
        while roll_up()["days_added"]:
            pass
        caught_up = time.perf_counter() - started
        started = time.perf_counter()
        roll_up()
        steady = (time.perf_counter() - started) * 1000
        client, fresh = Client(), Client()
        client.force_login(user)
        fresh.force_login(fresh_user)
        # Interleaved, so both see the same moment of a noisy machine.
        fresh_dashboard = measure(fresh, "/")
        dashboard = measure(client, "/")
        fresh_detail = measure(fresh, f"/campaigns/{fresh_campaign.pk}/")
        detail = measure(client, f"/campaigns/{campaign.pk}/")
        results = {
            "dashboard_ms": dashboard,
            "campaign_detail_ms": detail,
            "dashboard_vs_10_days": round(dashboard / fresh_dashboard, 2),
            "campaign_detail_vs_10_days": round(detail / fresh_detail, 2),
            "insights_catch_up_s": round(caught_up, 1),
            "insights_pass_ms": round(steady, 1),
            "web_bench_enrollments": ENROLLMENTS,
            "web_bench_load_average": float(Path("/proc/loadavg").read_text().split()[0]),
        }
        connection.close()
    finally:
        if not KEEP:
            admin(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
    from bench.results import record

    record(results)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
