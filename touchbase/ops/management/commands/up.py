"""`touchbase up`: migrate, create the demo business, and run every process touchbase needs.

The processes are children of this one; when any of them exits, or this one is asked to
stop (Ctrl-C, SIGTERM), all of them are stopped, so `up` never leaves a process behind.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from touchbase.ops.demo import seed_demo


class Command(BaseCommand):
    help = "Migrate, seed the demo business and serve touchbase (web app and worker)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web app")
        parser.add_argument("--no-demo", action="store_true", help="do not create demo data")

    def handle(self, *args, addr: str, no_demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        banner = [f"touchbase is starting on http://{addr}/"]
        if not no_demo:
            login = seed_demo()
            banner.append(f"Demo login: {login.email} / {login.password}")
        banner.append("Press Ctrl-C to stop.")
        width = max(len(line) for line in banner) + 4
        self.stdout.write("\n" + "=" * width)
        for line in banner:
            self.stdout.write(f"  {line}")
        self.stdout.write("=" * width + "\n")
        self.stdout.flush()
        sys.exit(self.supervise(self.process_commands(addr)))

    def process_commands(self, addr: str) -> dict[str, list[str]]:
        touchbase = [sys.executable, "-m", "touchbase"]
        # --insecure: serve static files (admin CSS) from this single-machine setup.
        return {
            "web": [*touchbase, "runserver", "--noreload", "--insecure", addr],
            "worker": [*touchbase, "worker"],
        }

    def supervise(self, commands: dict[str, list[str]]) -> int:
        # The embedded default sends nothing for real: console email and SMS unless the
        # operator configured providers.
        env = {"TOUCHBASE_EMAIL_BACKEND": "console", "TOUCHBASE_SMS_BACKEND": "console"}
        env.update(os.environ)
        children = {name: subprocess.Popen(argv, env=env) for name, argv in commands.items()}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        exit_code = 0
        try:
            while not stopping:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        self.stderr.write(f"{name} exited with code {code}; stopping touchbase")
                        exit_code = code or 1
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        return exit_code
