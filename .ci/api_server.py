"""Serve touchbase for the schemathesis run: migrate, create a business with a campaign and
an API key, bind a free port (port 0), write `<port> <key>` to the file given, serve.

Usage: python .ci/api_server.py READY_FILE   (stop it with SIGTERM)
"""

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
os.environ.setdefault("TOUCHBASE_API_RATE_LIMIT", "1000000")
sys.path.insert(0, os.getcwd())

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main(ready_file: str) -> None:
    call_command("migrate", verbosity=0)
    from tests.factories import make_business, make_campaign, make_customer
    from touchbase.api.keys import create_api_key
    from touchbase.jobs.services import create_job

    business = make_business("Schemathesis HVAC")
    make_campaign(business, service_type="hvac")
    customer = make_customer(business, "Fuzz Target", phone="+14155550100")
    create_job(business=business, customer=customer, service_type="hvac", status="completed")
    key = create_api_key(business=business, name="schemathesis").raw_key
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), ThreadingServer, handler_class=QuietHandler
    )
    with open(ready_file, "w") as handle:
        handle.write(f"{server.server_port} {key}\n")
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
