"""Real touchbase processes for the ops tests, each on its own SQLite file."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.servers import free_port

PRODUCTION_ENV = {
    "TOUCHBASE_DEBUG": "false",
    "TOUCHBASE_SECRET_KEY": "ops-tests-" + "s3cr3t" * 10,
    "TOUCHBASE_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "TOUCHBASE_WEB_WORKERS": "1",
    "TOUCHBASE_WEB_THREADS": "2",
    "PYTHONUNBUFFERED": "1",
}


def touchbase_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **PRODUCTION_ENV,
        "TOUCHBASE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'touchbase.sqlite3'}",
        **extra,
    }


class Process:
    """One `touchbase ...` process whose combined output goes to a file the test can read."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log
        self.handle = log.open("w")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "touchbase", *args],
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for_output(self, pattern: str, seconds: float = 60) -> re.Match:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.popen.poll() is not None:
                raise AssertionError(f"exited {self.popen.returncode}:\n{self.output()}")
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not printed within {seconds}s:\n{self.output()}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            code = self.popen.wait()
        self.handle.close()
        return code


def wait_for_http(url: str, process: Process, seconds: float = 60, status: int = 200):
    """The first answer with `status` (other answers and refused connections are retried)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise AssertionError(f"exited {process.popen.returncode}:\n{process.output()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == status:
                    return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            if error.code == status:
                return error.code, dict(error.headers), error.read()
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer {status} within {seconds}s:\n{process.output()}")


def web_address() -> tuple[str, str]:
    port = free_port()
    return f"127.0.0.1:{port}", f"http://127.0.0.1:{port}"
