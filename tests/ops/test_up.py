"""`touchbase up` as a newcomer runs it: a real process, a real HTTP server, the demo login."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from touchbase.campaigns.models import Enrollment
from touchbase.jobs.models import Job
from touchbase.ops.demo import DEMO_EMAIL, seed_demo
from touchbase.tenancy.models import Business


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"touchbase up exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_up_migrates_seeds_serves_and_the_demo_login_works(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "TOUCHBASE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'up.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "touchbase", "up", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", process)
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
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert f"Demo login: {DEMO_EMAIL} / touchbase-demo" in output
    assert "worker " in output and " started" in output  # the worker runs beside the web app
    assert process.returncode == 0, output


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_shows_every_outcome():
    first, second = seed_demo(), seed_demo()

    assert (first.created, second.created) == (True, False)
    assert Business.objects.filter(slug="demo").count() == 1
    outcomes = set(Job.objects.values_list("enrollment_outcome", "enrollment_reason"))
    assert ("enrolled", "") in outcomes and ("skipped", "do_not_send") in outcomes
    assert Enrollment.objects.filter(status="active").count() >= 4
