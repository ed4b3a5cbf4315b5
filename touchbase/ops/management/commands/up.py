"""`touchbase up`: migrate, and keep the web app and a worker running on this machine.

Production by default: no demo data, the configured email and SMS providers. `--demo` (what
`make up` runs) also creates the demo business and its login and sends through the console.
A child that dies is restarted with backoff (touchbase/ops/supervisor.py).
"""

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from touchbase.ops.demo import seed_demo
from touchbase.ops.supervisor import supervise


class Command(BaseCommand):
    help = "Migrate and run touchbase (web app and worker); --demo adds the demo business."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web app")
        parser.add_argument(
            "--demo",
            action="store_true",
            help="create the demo business and login, send email and SMS to the console",
        )

    def handle(self, *args, addr: str, demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        banner = [f"touchbase is starting on http://{addr}/"]
        env = dict(os.environ)
        if demo:
            login = seed_demo()
            banner.append(f"Demo login: {login.email} / {login.password}")
            # The demo sends nothing for real unless the operator configured providers.
            env = {"TOUCHBASE_EMAIL_BACKEND": "console", "TOUCHBASE_SMS_BACKEND": "console", **env}
        banner.append("Press Ctrl-C to stop.")
        width = max(len(line) for line in banner) + 4
        self.stdout.write("\n" + "=" * width)
        for line in banner:
            self.stdout.write(f"  {line}")
        self.stdout.write("=" * width + "\n")
        self.stdout.flush()
        sys.exit(supervise(self.process_commands(addr), env=env, say=self.say))

    def say(self, line: str) -> None:
        self.stderr.write(line)
        self.stderr.flush()

    def process_commands(self, addr: str) -> dict[str, list[str]]:
        touchbase = [sys.executable, "-m", "touchbase"]
        return {
            "web": [*touchbase, "serve", "--bind", addr],
            "worker": [*touchbase, "worker"],
        }
