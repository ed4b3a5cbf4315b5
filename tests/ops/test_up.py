"""`touchbase up` as a newcomer runs it (`make up`: --demo) and as it heals itself."""

import os
import re
import signal
import sqlite3
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from tests.ops.processes import Process, touchbase_env, wait_for_http, web_address
from touchbase.campaigns.models import Enrollment
from touchbase.jobs.models import Job
from touchbase.ops.demo import DEMO_EMAIL, seed_demo
from touchbase.ops.supervisor import restart_pause
from touchbase.tenancy.models import Business


def test_up_demo_migrates_seeds_serves_and_restarts_a_dead_worker(tmp_path):
    addr, base = web_address()
    up = Process(["up", "--demo", "--addr", addr], touchbase_env(tmp_path), tmp_path / "up.log")
    try:
        wait_for_http(f"{base}/healthz", up)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        login_page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = {"username": DEMO_EMAIL, "password": "touchbase-demo", "csrfmiddlewaretoken": token}
        request = urllib.request.Request(
            f"{base}/accounts/login/", data=urlencode(form).encode(), headers={"Referer": base}
        )
        home = opener.open(request).read().decode()
        assert "Bright Air Heating &amp; Cooling" in home
        assert "HVAC follow-up" in home

        # A worker that dies is started again; the web app is not touched.
        worker_pid = int(up.wait_for_output(r"worker started \(pid (\d+)\)").group(1))
        os.kill(worker_pid, signal.SIGKILL)
        up.wait_for_output(r"worker exited with code -9; restarting it in 1s")
        restarted = up.wait_for_output(r"worker started \(pid (\d+)\)[\s\S]*worker started \(pid")
        assert restarted
        assert up.output().count("web started") == 1
        assert urllib.request.urlopen(f"{base}/accounts/login/").status == 200
    finally:
        code = up.stop()
    output = up.output()
    assert f"Demo login: {DEMO_EMAIL} / touchbase-demo" in output
    assert "worker " in output and " started" in output  # the worker runs beside the web app
    assert code == 0, output


def test_up_without_demo_creates_no_demo_login(tmp_path):
    addr, base = web_address()
    up = Process(["up", "--addr", addr], touchbase_env(tmp_path), tmp_path / "up.log")
    try:
        wait_for_http(f"{base}/accounts/login/", up)
    finally:
        up.stop()
    assert "Demo login" not in up.output()
    with sqlite3.connect(tmp_path / "touchbase.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM tenancy_user").fetchone() == (0,)


def test_a_crash_loop_backs_off_to_a_minute():
    assert [restart_pause(n) for n in (1, 2, 3, 4, 7, 20)] == [1, 2, 4, 8, 60, 60]


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_shows_every_outcome():
    first, second = seed_demo(), seed_demo()

    assert (first.created, second.created) == (True, False)
    assert Business.objects.filter(slug="demo").count() == 1
    outcomes = set(Job.objects.values_list("enrollment_outcome", "enrollment_reason"))
    assert ("enrolled", "") in outcomes and ("skipped", "do_not_send") in outcomes
    assert Enrollment.objects.filter(status="active").count() >= 4
