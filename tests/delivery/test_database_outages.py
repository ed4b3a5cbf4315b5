"""A worker outlives its database: backends terminated while it idles and while it sends,
and a restart (connections dropped, then refused). Real processes on a real PostgreSQL."""

import signal
import time

import pytest

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.processes import Saboteur, start_worker, wait_until, worker_env
from tests.servers import Behaviour, TwilioStandIn
from touchbase.delivery.models import Delivery

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
OPTIONS = ("--batch-size", "50", "--concurrency", "8", "--idle-seconds", "0.2")


@pytest.fixture
def stand_in():
    server = TwilioStandIn(default=Behaviour(delay=0.02)).start()
    yield server
    server.stop()


@pytest.fixture
def saboteur():
    saboteur = Saboteur()
    yield saboteur
    saboteur.close()


@pytest.fixture
def workers():
    started = []
    yield started
    for worker in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def unfinished():
    return Delivery.objects.filter(status__in=["pending", "claimed", "sending"]).exists()


def finish(worker) -> str:
    assert worker.poll() is None, "the worker exited: " + worker.communicate()[0]
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output
    return output


def assert_each_sent_once(stand_in, ids):
    sends = stand_in.sends_by_delivery()
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert set(sends.values()) == {1}, "a delivery was sent twice"
    assert sorted(int(d) for d in sends) == sorted(ids)
    assert set(statuses.values()) == {"sent"}  # nothing left uncertain by an outage alone


def test_a_worker_survives_terminated_backends_while_idle_and_while_sending(
    stand_in, saboteur, workers
):
    business = unthrottled_business()
    worker = start_worker(worker_env(stand_in, TOUCHBASE_WORKER_LEASE_SECONDS="5"), *OPTIONS)
    workers.append(worker)
    wait_until(lambda: saboteur.terminate() > 0, 30, "the idle worker has a connection")
    for _ in range(3):  # idle: between sleeps it meets a dead connection
        time.sleep(0.4)
        saboteur.terminate()

    ids = make_due_deliveries(business, 400)
    saboteur.start(every=1.0)  # and while it claims, decides, sends and records
    try:
        wait_until(lambda: not unfinished(), 60, "every delivery was settled")
    except AssertionError:
        from collections import Counter

        print(Counter(Delivery.objects.values_list("status", "sent_at__isnull")))
        worker.kill()
        print(worker.communicate()[0][-5000:])
        raise
    saboteur.close()

    output = finish(worker)
    assert saboteur.terminated >= 5
    assert "database unavailable" in output
    assert_each_sent_once(stand_in, ids)


def test_a_worker_survives_a_database_restart_mid_batch(stand_in, saboteur, workers):
    stand_in.default = Behaviour(delay=0.05)
    ids = make_due_deliveries(unthrottled_business(), 300)
    worker = start_worker(worker_env(stand_in, TOUCHBASE_WORKER_LEASE_SECONDS="30"), *OPTIONS)
    workers.append(worker)
    wait_until(lambda: len(stand_in.requests) >= 60, 60, "the worker is sending")

    saboteur.outage(seconds=3)  # answers keep arriving; recording waits for the database

    wait_until(lambda: not unfinished(), 120, "every delivery was settled")
    output = finish(worker)
    assert "database unavailable" in output
    assert_each_sent_once(stand_in, ids)
