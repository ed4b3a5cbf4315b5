"""Chaos: several real `touchbase worker` processes sending through a fault-injecting
Twilio while one of them is SIGKILLed (and restarted, as `touchbase up` does) every 80
provider calls and every worker's database backends are terminated every 200: every 2 s and
5 s at the ~40 calls/s of a quiet 2-core machine. Paced by calls, not by the wall clock, so
a slow machine meets as many kills per delivery as a fast one (by the clock, a busy run
once met 18 kills in 1,000 deliveries instead of 10).

What must hold: no delivery accepted twice; no worker exits other than the kills; nothing
left `claimed` or `sending`; every accepted delivery `sent` or `uncertain`; `uncertain`
that touchbase caused (a lease that expired with its worker) at most `--concurrency` per kill
before the provider's status callbacks (the goal, 5% of deliveries, is printed: not yet met)
and at most 5% after them, and none at all under database terminations alone (a shorter
run without kills); the rest only what the provider left unknown (a hang, a dropped
connection), and every one of those that the provider then reports by status callback
ends resolved.

`make chaos` runs it longer (TOUCHBASE_CHAOS_DELIVERIES=10000, 4 workers).
"""

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db.models import Q

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.processes import Saboteur, start_worker, wait_until, worker_env
from tests.servers import TwilioStandIn, faulty_twilio
from touchbase import clock
from touchbase.delivery.models import Delivery
from touchbase.inbound.receipts import handle_sms_status

DELIVERIES = int(os.environ.get("TOUCHBASE_CHAOS_DELIVERIES", "1000"))
WORKERS = int(os.environ.get("TOUCHBASE_CHAOS_WORKERS", "3"))
KILL_EVERY_CALLS, TERMINATE_EVERY_CALLS = 80, 200
# A victim has been up this long: past Django's start-up (slow on a busy 2-core machine),
# so each kill lands on a worker that is sending, and SIGTERM finds its handler installed.
UP_FOR = 2.5
CONCURRENCY = 8
OPTIONS = ("--batch-size", "50", "--concurrency", str(CONCURRENCY), "--idle-seconds", "0.2")
GOAL_TOUCHBASE_UNCERTAIN = 0.05
# Enough calls for a few terminations at every stage of a batch; kept short.
TERMINATIONS_ONLY_DELIVERIES = min(DELIVERIES, 600)


@pytest.fixture
def stand_in():
    server = TwilioStandIn(chooser=faulty_twilio()).start()
    yield server
    server.stop()


def unsettled():
    """Rows a worker still owes something: leased, or pending and due (a transient error's
    retry a minute from now is settled for this test)."""
    due = Q(status="pending", send_after__lte=clock.now())
    return Delivery.objects.filter(due | Q(status__in=["claimed", "sending"])).exists()


@dataclass
class ChaosRun:
    ids: list[int]
    kills: int
    terminations: int
    backends: int
    elapsed: float
    exits: list
    outputs: list


def run_chaos(stand_in, deliveries: int, *, kill_every: int | None) -> ChaosRun:
    """Workers send `deliveries` while their backends are terminated every
    TERMINATE_EVERY_CALLS calls and, if `kill_every`, one is SIGKILLed every so many."""
    ids = make_due_deliveries(unthrottled_business(), deliveries)
    env = worker_env(stand_in, TOUCHBASE_WORKER_LEASE_SECONDS="4", TWILIO_TIMEOUT_SECONDS="1")
    workers = [start_worker(env, *OPTIONS) for _ in range(WORKERS)]
    born = [time.monotonic()] * WORKERS
    saboteur = Saboteur()
    rng, kills, terminations, started = random.Random(14), 0, 0, time.monotonic()
    next_kill, next_termination = kill_every, TERMINATE_EVERY_CALLS
    try:
        while unsettled() and time.monotonic() - started < 300 + deliveries / 10:
            now, calls = time.monotonic(), len(stand_in.requests)
            if calls >= next_termination:
                next_termination += TERMINATE_EVERY_CALLS
                saboteur.terminate()
                terminations += 1
            grown = [n for n in range(WORKERS) if now - born[n] >= UP_FOR]
            if kill_every and calls >= next_kill and grown:  # waits for a sending worker
                next_kill += kill_every
                victim = rng.choice(grown)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = start_worker(env, *OPTIONS)  # as `touchbase up` would
                born[victim], kills = time.monotonic(), kills + 1
            time.sleep(0.02)
        wait_until(lambda: not unsettled(), 60, "the survivors reaped and finished")
        elapsed = time.monotonic() - started
        time.sleep(max(0.0, UP_FOR - (time.monotonic() - max(born))))
        exits = [worker.poll() for worker in workers]
    finally:
        saboteur.close()
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=60)[0] for worker in workers]
    return ChaosRun(ids, kills, terminations, saboteur.terminated, elapsed, exits, outputs)


def delivery_of(request: dict) -> int:
    return int(request["form"]["StatusCallback"].rsplit("=", 1)[1])


def assert_at_most_once_and_settled(stand_in, run: ChaosRun) -> Counter:
    """The guarantees every chaos run keeps; returns `uncertain` counted by cause."""
    assert run.exits == [None] * WORKERS, run.outputs  # no exits but the kills
    accepted = Counter(delivery_of(request) for request in stand_in.requests if "sid" in request)
    status = dict(Delivery.objects.filter(pk__in=run.ids).values_list("pk", "status"))
    uncertain = Counter(
        Delivery.objects.filter(status="uncertain").values_list("error_code", flat=True)
    )
    reached = {delivery_of(request) for request in stand_in.requests}
    expired = Delivery.objects.filter(status="uncertain", error_code="lease_expired")
    never_left = expired.exclude(pk__in=reached).count()  # started, killed before the call
    print(
        f"\nchaos: {len(run.ids)} deliveries, {WORKERS} workers, {run.kills} kills, "
        f"{run.terminations} terminations ({run.backends} backends), {run.elapsed:.1f} s; "
        f"status {dict(Counter(status.values()))}; uncertain by cause {dict(uncertain)}; "
        f"touchbase-caused {uncertain['lease_expired'] / len(run.ids):.2%} "
        f"({never_left} never reached the provider)"
    )
    assert set(accepted.values()) == {1}, "a delivery was accepted twice"
    assert {status[d] for d in accepted} <= {"sent", "uncertain"}
    assert run.backends >= 1
    # Only the provider's unknowns remain: hangs and dropped connections.
    unknown_by_provider = {
        delivery_of(request)
        for request in stand_in.requests
        if request["behaviour"].drop or request["behaviour"].delay > 1
    }
    not_ours = Delivery.objects.filter(status="uncertain").exclude(error_code="lease_expired")
    assert set(not_ours.values_list("pk", flat=True)) <= unknown_by_provider
    return uncertain


def settle_by_status_callbacks(stand_in) -> int:
    """Twilio's status callbacks for the accepted ones: every uncertain delivery they name
    must end resolved. Returns what touchbase still leaves unknown after them."""
    sids = {
        delivery_of(request): request["sid"] for request in stand_in.requests if "sid" in request
    }
    for delivery_id in Delivery.objects.filter(status="uncertain").values_list("pk", flat=True):
        if delivery_id in sids:
            handle_sms_status(
                message_sid=sids[delivery_id], status="delivered", delivery_id=str(delivery_id)
            )
    left = Delivery.objects.filter(status="uncertain", pk__in=list(sids))
    assert not left.exists(), list(left.values_list("pk", "error_code"))
    return Delivery.objects.filter(status="uncertain", error_code="lease_expired").count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_kills_terminations_and_provider_faults_lose_nothing_and_send_nothing_twice(stand_in):
    run = run_chaos(stand_in, DELIVERIES, kill_every=KILL_EVERY_CALLS)
    uncertain = assert_at_most_once_and_settled(stand_in, run)
    assert run.kills >= DELIVERIES // KILL_EVERY_CALLS * 3 // 4
    # Before the provider's evidence: the calls a kill caught in flight and the answers it
    # caught being written, never more than `--concurrency` a kill (a call's slot frees
    # only once its answer is written). The goal, GOAL_TOUCHBASE_UNCERTAIN of deliveries,
    # is printed above: 4.5-7.2% in-suite on this 2-core machine, not yet met (README).
    assert uncertain["lease_expired"] <= run.kills * CONCURRENCY
    # After it: only the calls a kill cut off before the provider accepted them.
    after = settle_by_status_callbacks(stand_in)
    print(f"touchbase-caused after status callbacks {after / DELIVERIES:.2%}")
    assert after / DELIVERIES <= GOAL_TOUCHBASE_UNCERTAIN


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_database_terminations_alone_leave_nothing_uncertain_by_touchbase(stand_in):
    run = run_chaos(stand_in, TERMINATIONS_ONLY_DELIVERIES, kill_every=None)
    uncertain = assert_at_most_once_and_settled(stand_in, run)
    assert uncertain["lease_expired"] == 0
    settle_by_status_callbacks(stand_in)
