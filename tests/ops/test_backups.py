"""`touchbase backup` / `restore` on a live install: a real worker keeps writing throughout."""

import sqlite3
import subprocess
import sys
import time

from tests.ops.processes import Process, touchbase_env


def touchbase(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "touchbase", *args], env=env, capture_output=True, text=True
    )


def business_names(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [name for (name,) in db.execute("SELECT name FROM tenancy_business")]


def last_heartbeat(path) -> str:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT max(seen_at) FROM ops_workerheartbeat").fetchone()[0]


def test_backup_and_restore_while_the_worker_runs(tmp_path):
    env = touchbase_env(tmp_path)
    live = tmp_path / "touchbase.sqlite3"
    assert touchbase("migrate", "-v0", env=env).returncode == 0
    assert touchbase("seed_demo", env=env).returncode == 0
    worker = Process(["worker", "--idle-seconds", "0.2"], env, tmp_path / "worker.log")
    try:
        worker.wait_for_output(r"worker \S+ started")
        while last_heartbeat(live) is None:
            time.sleep(0.2)

        made = touchbase("backup", str(tmp_path / "copy.sqlite3"), env=env)
        assert made.returncode == 0, made.stderr
        assert "Backed up to" in made.stdout
        with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert business_names(tmp_path / "copy.sqlite3") == ["Bright Air Heating & Cooling"]

        with sqlite3.connect(live) as db:
            db.execute("UPDATE tenancy_business SET name = 'Changed after the backup'")
        refused = touchbase("restore", str(tmp_path / "copy.sqlite3"), env=env)
        assert refused.returncode != 0 and "--yes" in refused.stderr
        restored = touchbase("restore", str(tmp_path / "copy.sqlite3"), "--yes", env=env)
        assert restored.returncode == 0, restored.stderr
        assert business_names(live) == ["Bright Air Heating & Cooling"]

        # The worker lives on against the restored file and keeps reporting.
        after_restore = last_heartbeat(live)
        deadline = time.monotonic() + 20
        while last_heartbeat(live) == after_restore and time.monotonic() < deadline:
            time.sleep(0.5)
        assert last_heartbeat(live) > after_restore
        assert worker.popen.poll() is None
    finally:
        assert worker.stop() == 0


def test_restore_refuses_a_file_that_is_not_a_touchbase_database(tmp_path):
    env = touchbase_env(tmp_path)
    (tmp_path / "notes.txt").write_text("not a database")
    result = touchbase("restore", str(tmp_path / "notes.txt"), "--yes", env=env)
    assert result.returncode != 0
    assert "not a SQLite database" in result.stderr
    assert "Traceback" not in result.stderr


def test_on_postgresql_backup_points_to_pg_dump(tmp_path):
    env = touchbase_env(tmp_path, DATABASE_URL="postgres://touchbase@127.0.0.1:1/none")
    result = touchbase("backup", str(tmp_path / "copy"), env=env)
    assert result.returncode != 0
    assert "DATABASE_URL: backup and restore handle the SQLite file" in result.stderr
    assert "pg_dump --format=custom" in result.stderr
