"""Idle workers wake when a touch falls due (PostgreSQL LISTEN/NOTIFY), not at the end of
their sleep: a real worker process sleeping up to 60 s sends a new touch within seconds."""

import signal
import threading
import time

import psycopg
import pytest
from django.db import connection
from django.test import override_settings

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.processes import Saboteur, database_url, start_worker, wait_until, worker_env
from tests.servers import Behaviour, TwilioStandIn
from touchbase import clock
from touchbase.delivery.models import Delivery
from touchbase.delivery.services import requeue_uncertain
from touchbase.delivery.wakeup import CHANNEL, DueListener, listen_conninfo
from touchbase.ops.models import WorkerHeartbeat

IDLE = ("--idle-seconds", "60")  # far longer than any wait below
WOKEN_WITHIN = 15.0  # seconds; generous for a busy machine, a quarter of the sleep


@pytest.fixture
def stand_in():
    server = TwilioStandIn(default=Behaviour(delay=0.0)).start()
    yield server
    server.stop()


@pytest.fixture
def idle_worker(stand_in):
    worker = start_worker(worker_env(stand_in), *IDLE)
    wait_until(WorkerHeartbeat.objects.exists, 60, "the worker is up")
    time.sleep(1.0)  # past its first look at the table: it is asleep now
    yield worker
    worker.send_signal(signal.SIGTERM)
    output = worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output


def sent(ids) -> bool:
    return Delivery.objects.filter(pk__in=ids, status="sent").count() == len(ids)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_due_touch_wakes_an_idle_worker(idle_worker):
    ids = make_due_deliveries(unthrottled_business(), 3)
    wait_until(lambda: sent(ids), WOKEN_WITHIN, "the sleeping worker was woken")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_idle_worker_still_wakes_after_its_listening_connection_was_terminated(
    idle_worker,
):
    saboteur = Saboteur()
    try:
        wait_until(lambda: saboteur.terminate() > 0, 10, "the listener was terminated")
        time.sleep(1.0)  # it listens again
        ids = make_due_deliveries(unthrottled_business(), 3)
        wait_until(lambda: sent(ids), WOKEN_WITHIN, "the worker listened again")
    finally:
        saboteur.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_requeued_touch_notifies_with_its_due_time():
    ids = make_due_deliveries(unthrottled_business(), 1)
    Delivery.objects.filter(pk=ids[0]).update(status="uncertain")
    with psycopg.connect(database_url(), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        requeue_uncertain(delivery=Delivery.objects.get(pk=ids[0]))
        notices = list(listener.notifies(timeout=5, stop_after=1))
    due = Delivery.objects.get(pk=ids[0]).send_after.timestamp()
    assert [float(n.payload) for n in notices] == [pytest.approx(due, abs=1e-3)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rows_left_anything_but_pending_notify_nobody():
    ids = make_due_deliveries(unthrottled_business(), 2)
    with psycopg.connect(database_url(), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        Delivery.objects.filter(pk__in=ids).update(status="cancelled")
        assert list(listener.notifies(timeout=0.5)) == []


def test_listening_is_off_on_sqlite_and_behind_transaction_pooling(settings):
    if connection.vendor == "postgresql":
        assert listen_conninfo()["dbname"] == connection.settings_dict["NAME"]
        with override_settings(TOUCHBASE_DB_TRANSACTION_POOLING=True):
            assert listen_conninfo() is None
    else:
        assert listen_conninfo() is None
    direct = "postgres://touchbase@db.internal:5432/touchbase"
    with override_settings(TOUCHBASE_DB_TRANSACTION_POOLING=True, TOUCHBASE_DB_LISTEN_URL=direct):
        assert listen_conninfo()["host"] == "db.internal"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_a_notice_sooner_than_the_planned_wake_ends_the_wait():
    listener, stop = DueListener(listen_conninfo()), threading.Event()
    listener.prepare()
    try:
        with psycopg.connect(database_url(), autocommit=True) as writer:
            later = clock.now().timestamp() + 3600  # a retry in an hour
            writer.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(later)])
            assert listener.wait(1.0, stop) is False
            writer.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(clock.now().timestamp())])
            assert listener.wait(30.0, stop) is True
    finally:
        listener.close()
