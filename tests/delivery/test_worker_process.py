"""`touchbase worker` as an operator runs it: real processes, real signals."""

import signal
from datetime import timedelta

import pytest
from django.core.management import call_command

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.processes import start_worker, wait_until, worker_env
from tests.servers import Behaviour, TwilioStandIn
from touchbase.delivery.backends import transport_for
from touchbase.delivery.models import Delivery


@pytest.fixture(autouse=True)
def fresh_transports():
    transport_for.cache_clear()
    yield
    transport_for.cache_clear()


@pytest.mark.django_db
def test_worker_once_sends_what_is_due_and_exits(clock, mailoutbox, capsys):
    business = make_business(email_hourly_limit=1_000_000)
    make_campaign(business, "conservative")
    for n in range(3):
        complete_job(business, make_customer(business, f"Customer {n}"))
    clock.shift(timedelta(hours=24))

    call_command("worker", once=True)

    assert len(mailoutbox) == 3
    assert Delivery.objects.filter(status="sent").count() == 3
    assert "stopped (claimed 3" in capsys.readouterr().out


@pytest.fixture
def stand_in():
    server = TwilioStandIn().start()
    yield server
    server.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_four_worker_processes_send_5000_deliveries_exactly_once(stand_in):
    ids = make_due_deliveries(unthrottled_business(), 5000)
    env = worker_env(stand_in)

    workers = [start_worker(env, "--once", "--batch-size", "100") for _ in range(4)]
    outputs = [worker.communicate(timeout=240)[0] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0, 0], outputs
    sends = stand_in.sends_by_delivery()
    assert sorted(int(delivery) for delivery in sends) == sorted(ids)  # every one, once
    assert set(sends.values()) == {1}
    assert Delivery.objects.filter(status="sent").count() == 5000
    claimed_by = [out for out in outputs if "claimed" in out]
    assert len(claimed_by) == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(stand_in):
    stand_in.default = Behaviour(delay=0.05)
    ids = make_due_deliveries(unthrottled_business(), 1500)
    env = worker_env(stand_in, TOUCHBASE_WORKER_LEASE_SECONDS="3")
    options = ("--batch-size", "50", "--concurrency", "4", "--idle-seconds", "0.2")
    victim = start_worker(env, *options)

    # Kill it while its provider calls are in flight: its whole batch is `sending`.
    wait_until(
        lambda: len(stand_in.requests) >= 200 and stand_in.in_flight > 0,
        120,
        "the victim is mid-batch",
    )
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    survivor = start_worker(env, *options)
    unfinished = Delivery.objects.filter(status__in=["pending", "claimed", "sending"])
    wait_until(lambda: not unfinished.exists(), 240, "the survivor finished the rest")
    survivor.send_signal(signal.SIGTERM)
    survivor.communicate(timeout=30)

    sends = stand_in.sends_by_delivery()
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert set(sends.values()) == {1}, "a delivery was sent twice"
    assert set(statuses) == set(ids)
    assert set(statuses.values()) == {"sent", "uncertain"}
    for delivery_id, status in statuses.items():
        if status == "sent":
            assert sends.get(str(delivery_id)) == 1, delivery_id
    # Every uncertain one was in the killed batch: at most one batch of 50.
    assert 0 < list(statuses.values()).count("uncertain") <= 50
    assert survivor.returncode == 0
