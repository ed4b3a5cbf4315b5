"""Keep a few child processes running: the one-machine install's process supervisor.

A child that dies is started again after a pause that doubles with each quick death
(1 s, 2 s, 4 s ... at most a minute), so a crash loop costs little and a transient failure
(the database restarting) heals by itself. A child that stayed up for a minute is healthy
again: its next death restarts it after a second. Stopping the supervisor stops every child.
"""

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 60.0
STABLE_AFTER = 60.0
STOP_GRACE = 20.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    start_at: float = 0.0  # when a dead child is started again


def restart_pause(quick_deaths: int) -> float:
    return min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** max(0, quick_deaths - 1))


def supervise(
    commands: dict[str, list[str]],
    *,
    env: dict[str, str],
    say: Callable[[str], None],
    stop: threading.Event | None = None,
) -> int:
    """Run `commands` until SIGTERM/SIGINT (or `stop`); returns 0 after a clean stop."""
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    children = [Child(name, argv) for name, argv in commands.items()]
    try:
        while not stop.is_set():
            now = time.monotonic()
            for child in children:
                tend(child, now, env=env, say=say)
            stop.wait(0.2)
    finally:
        stop_all(children)
    return 0


def tend(child: Child, now: float, *, env: dict[str, str], say: Callable[[str], None]) -> None:
    if child.process is None:
        if now >= child.start_at:
            child.process = subprocess.Popen(child.argv, env=env)
            child.started_at = now
            say(f"{child.name} started (pid {child.process.pid})")
        return
    code = child.process.poll()
    if code is None:
        if now - child.started_at >= STABLE_AFTER:
            child.quick_deaths = 0
        return
    child.quick_deaths = 0 if now - child.started_at >= STABLE_AFTER else child.quick_deaths
    child.quick_deaths += 1
    pause = restart_pause(child.quick_deaths)
    child.process = None
    child.start_at = now + pause
    say(f"{child.name} exited with code {code}; restarting it in {pause:.0f}s")


def stop_all(children: list[Child]) -> None:
    running = [c.process for c in children if c.process is not None and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
