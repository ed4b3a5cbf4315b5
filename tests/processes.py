"""Real `touchbase worker` processes for the tests, and a PostgreSQL that misbehaves:
backends terminated (`pg_terminate_backend`) and connections refused, as in a restart."""

import os
import subprocess
import sys
import threading
import time

import psycopg
from django.db import connection

from tests.servers import TwilioStandIn


def database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def worker_env(stand_in: TwilioStandIn, **extra) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TOUCHBASE_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_FROM_NUMBER": "+13055550100",
        "TWILIO_API_BASE_URL": stand_in.url,
        "TOUCHBASE_LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "touchbase", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


class Saboteur:
    """Terminates every other backend of the test database (the workers'), on demand or
    every `every` seconds in a thread; `outage()` refuses new connections for a while."""

    def __init__(self):
        self.admin = psycopg.connect(database_url().replace(f"/{self.database}", "/postgres"))
        self.admin.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.spared = cursor.fetchone()[0]  # the test's own connection
        self.terminated = 0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def database(self) -> str:
        return connection.settings_dict["NAME"]

    def terminate(self) -> int:
        rows = self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> %s AND pid <> pg_backend_pid()",
            [self.database, self.spared],
        ).fetchall()
        self.terminated += len(rows)
        return len(rows)

    def outage(self, seconds: float) -> None:
        """What workers see of a restart: connections dropped, then refused, then back."""
        self.admin.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
        try:
            self.terminate()
            time.sleep(seconds)
        finally:
            self.admin.execute(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')

    def start(self, every: float) -> "Saboteur":
        def run():
            while not self.stop.wait(every):
                self.terminate()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()
        self.admin.close()
