"""/metrics and /healthz as an on-call engineer reads them."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.ops.processes import Process, touchbase_env, wait_for_http, web_address
from touchbase import clock as touchbase_clock
from touchbase.ops import heartbeats
from touchbase.ops.heartbeats import record_heartbeat
from touchbase.ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def forget_written_heartbeats():
    """In one test process every in-process worker has the same owner name, and the rows an
    earlier test wrote were rolled back: forget when they were written."""
    heartbeats._last_written.clear()


def samples(response) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return found


def sent_three_emails(clock):
    business = make_business(email_hourly_limit=1_000_000)
    make_campaign(business, "conservative")
    for n in range(3):
        complete_job(business, make_customer(business, f"Customer {n}"))
    clock.shift(timedelta(hours=24))
    call_command("worker", once=True)
    return business


def test_metrics_show_deliveries_attempts_latency_workers_and_enrollments(
    client, clock, mailoutbox
):
    sent_three_emails(clock)

    metrics = samples(client.get("/metrics"))

    assert metrics[("touchbase_deliveries", ("channel", "email"), ("status", "sent"))] == 3
    assert metrics[("touchbase_due_deliveries",)] == 0
    assert metrics[("touchbase_oldest_due_delivery_age_seconds",)] == 0
    attempts = [key for key in metrics if key[0] == "touchbase_recent_provider_attempts"]
    assert [metrics[key] for key in attempts] == [3]
    assert ("outcome", "sent") in attempts[0]
    provider = attempts[0][3]
    assert metrics[("touchbase_provider_latency_seconds_gcount", provider)] == 3
    assert metrics[("touchbase_provider_latency_seconds_bucket", ("le", "+Inf"), provider)] == 3
    heartbeats = [key for key in metrics if key[0] == "touchbase_worker_heartbeat_age_seconds"]
    assert len(heartbeats) == 1 and metrics[heartbeats[0]] == 0
    assert metrics[("touchbase_enrollments", ("status", "active"), ("stop_reason", ""))] == 3


def test_a_due_backlog_shows_its_size_and_its_oldest_age(client, clock, mailoutbox):
    business = make_business(email_hourly_limit=1_000_000)
    make_campaign(business, "conservative")
    complete_job(business, make_customer(business, "Late Customer"))
    clock.shift(timedelta(hours=25))  # touch 1 was due after 24 h: an hour late

    metrics = samples(client.get("/metrics"))

    assert metrics[("touchbase_due_deliveries",)] == 1
    assert metrics[("touchbase_oldest_due_delivery_age_seconds",)] == pytest.approx(3600, abs=60)


def test_only_recent_provider_attempts_are_counted(client, clock, mailoutbox):
    sent_three_emails(clock)
    clock.shift(timedelta(minutes=16))

    metrics = samples(client.get("/metrics"))

    assert not [key for key in metrics if key[0] == "touchbase_recent_provider_attempts"]


@override_settings(TOUCHBASE_METRICS_TOKEN="s3cret-token")
def test_metrics_need_the_bearer_token_when_one_is_set(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    answer = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert answer.status_code == 200
    assert b"touchbase_deliveries" in answer.content


def test_without_a_token_metrics_answer_only_to_this_machine(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_healthz_is_ok_while_a_worker_reports_and_503_once_it_is_silent(client, clock):
    record_heartbeat(owner="worker-silent", now=touchbase_clock.now())
    assert client.get("/healthz").json()["status"] == "ok"

    clock.shift(timedelta(seconds=44))
    assert client.get("/healthz").status_code == 200
    clock.shift(timedelta(seconds=2))

    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["problems"] == ["worker: silent for 46s (limit 45s)"]
    # A load balancer's question: is this web process fine? Yes.
    assert client.get("/healthz?scope=web").status_code == 200


def test_healthz_is_503_when_no_worker_ever_reported_or_the_backlog_is_old(client, clock):
    assert client.get("/healthz").json()["problems"] == ["worker: no worker has ever reported"]
    business = make_business(email_hourly_limit=1_000_000)
    make_campaign(business, "conservative")
    complete_job(business, make_customer(business, "Waiting Customer"))
    clock.shift(timedelta(hours=24, minutes=16))
    record_heartbeat(owner="worker-backlog", now=touchbase_clock.now())

    answer = client.get("/healthz")

    assert answer.status_code == 503
    assert answer.json()["backlog"]["due"] == 1
    assert answer.json()["problems"] == [
        "backlog: the oldest due touch has waited 960s (limit 900s)"
    ]


def test_healthz_names_a_bad_scope(client):
    assert client.get("/healthz?scope=everything").status_code == 400


def test_a_busy_worker_writes_a_heartbeat_at_most_every_five_seconds(clock):
    now = touchbase_clock.now()
    assert record_heartbeat(owner="worker-b", now=now)
    assert not record_heartbeat(owner="worker-b", now=now + timedelta(seconds=4))
    assert record_heartbeat(owner="worker-b", now=now + timedelta(seconds=5))
    assert WorkerHeartbeat.objects.get(owner="worker-b").seen_at == now + timedelta(seconds=5)


def test_workers_gone_for_a_day_are_forgotten(clock):
    now = touchbase_clock.now()
    record_heartbeat(owner="old-worker", now=now)
    record_heartbeat(owner="new-worker", now=now + timedelta(days=1, seconds=1))
    assert list(WorkerHeartbeat.objects.values_list("owner", flat=True)) == ["new-worker"]


@pytest.mark.django_db(transaction=False)
def test_healthz_of_a_real_install_turns_503_soon_after_the_worker_stops(tmp_path):
    env = touchbase_env(tmp_path, TOUCHBASE_HEALTH_WORKER_SILENCE_SECONDS="6")
    Process(["migrate", "-v0"], env, tmp_path / "migrate.log").popen.wait(timeout=120)
    addr, base = web_address()
    web = Process(["serve", "--no-collectstatic", "--bind", addr], env, tmp_path / "web.log")
    worker = Process(["worker", "--idle-seconds", "1"], env, tmp_path / "worker.log")
    try:
        wait_for_http(f"{base}/healthz", web, status=200)
        assert worker.stop() == 0
        stopped = time.monotonic()
        _, _, body = wait_for_http(f"{base}/healthz", web, status=503, seconds=30)
        took = time.monotonic() - stopped
    finally:
        web.stop()
        worker.stop()
    assert b"worker: silent for" in body
    print(f"healthz turned 503 {took:.1f}s after the worker stopped (limit 6s)")
    assert took <= 6 + 5 + 2  # the limit, one heartbeat period, slack
