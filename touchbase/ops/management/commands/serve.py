"""`touchbase serve`: the web app under gunicorn, static files from whitenoise.

gunicorn rather than granian: the app is synchronous Django whose time goes to the database,
so a Rust HTTP core buys little; gunicorn is pure Python (nothing to compile), has served
Django in production for over a decade, is the server Django's own deployment docs describe,
and its pre-fork master restarts a worker that dies or leaks (`--max-requests`). gthread
workers keep a slow client from holding a whole process.
"""

import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from touchbase.env import env, envint


def gunicorn_argv(*, bind: str, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "touchbase.wsgi:application",
        "--config",
        "python:touchbase.ops.gunicorn_conf",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--timeout",
        "30",
        "--graceful-timeout",
        "20",
        # A worker process is replaced after this many requests: a slow leak never grows.
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
    ]


class Command(BaseCommand):
    help = "Serve the web app with gunicorn; static files (hashed, compressed) by whitenoise."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=env("TOUCHBASE_BIND", "127.0.0.1:8000"),
            help="host:port or unix:PATH (env TOUCHBASE_BIND; default 127.0.0.1:8000)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=envint("TOUCHBASE_WEB_WORKERS", 2, minimum=1),
            help="web processes (env TOUCHBASE_WEB_WORKERS; default 2)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=envint("TOUCHBASE_WEB_THREADS", 4, minimum=1),
            help="threads per web process (env TOUCHBASE_WEB_THREADS; default 4)",
        )
        parser.add_argument(
            "--no-collectstatic",
            action="store_true",
            help="static files were already collected (e.g. by a deploy step)",
        )

    def handle(self, *args, bind: str, workers: int, threads: int, no_collectstatic, **options):
        # With debug on (make up) whitenoise serves straight from the apps: nothing to collect.
        if not no_collectstatic and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"touchbase web app on {bind} ({workers} x {threads} threads)")
        self.stdout.flush()
        # exec: gunicorn takes this process's place, so a supervisor's signals reach it.
        argv = gunicorn_argv(bind=bind, workers=workers, threads=threads)
        os.execv(argv[0], argv)
