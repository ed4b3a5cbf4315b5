"""Several engine processes at once, against what this PostgreSQL can commit.

`pgbench -c 4` running a one-row UPDATE per transaction is the database's own ceiling for
four clients making small writes on this machine right now; four engine processes sending
to a zero-latency provider are compared with it in the same run.
"""

import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
from urllib.parse import urlparse

ONE_ROW_UPDATE = (
    "\\set aid random(1, 100000 * :scale)\n"
    "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n"
)


def _libpq_env(url: str) -> dict:
    parsed = urlparse(url)
    return {
        **os.environ,
        "PGHOST": parsed.hostname or "127.0.0.1",
        "PGPORT": str(parsed.port or 5432),
        "PGUSER": parsed.username or "postgres",
        "PGDATABASE": parsed.path.lstrip("/"),
        **({"PGPASSWORD": parsed.password} if parsed.password else {}),
    }


def ensure_pgbench(server_major: int) -> str:
    """Debian's pgbench ships with the server package of the same major version."""
    found = shutil.which("pgbench")
    if found is None:
        apt = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", f"postgresql-{server_major}"], check=True, env=apt
        )
        found = shutil.which("pgbench") or f"/usr/lib/postgresql/{server_major}/bin/pgbench"
    return found


def pgbench_tps(url: str, server_major: int, *, clients: int = 4, seconds: int = 10) -> float:
    """One-row-update transactions per second with `clients` connections (pgbench tables are
    created in the benchmark's own throwaway database)."""
    pgbench, env = ensure_pgbench(server_major), _libpq_env(url)
    subprocess.run([pgbench, "-i", "-q", "-s", "1"], check=True, env=env, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(ONE_ROW_UPDATE)
        script.flush()
        run = subprocess.run(
            [pgbench, "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", script.name],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        )
    return float(re.search(r"tps = ([\d.]+)", run.stdout)[1])


def _engine_child(start, results, make_engine, drain) -> None:
    engine = make_engine()
    start.wait()
    results.put(drain(engine))


def engines_rate(processes: int, make_engine, drain) -> tuple[float, int]:
    """Deliveries/s of `processes` engines (forked from this set-up Django process), each
    running `drain(make_engine())` until nothing is due; returns (rate, sent)."""
    from django.db import connections

    connections.close_all()  # each child opens its own connection
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    children = [
        context.Process(target=_engine_child, args=(start, results, make_engine, drain))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    time.sleep(0.5)  # let every child reach the start line
    started = time.perf_counter()
    start.set()
    sent = sum(results.get() for _ in children)
    elapsed = time.perf_counter() - started
    for child in children:
        child.join()
        assert child.exitcode == 0, child.exitcode
    return sent / elapsed, sent
