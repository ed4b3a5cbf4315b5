"""Real servers the tests talk to: an SMTP server (aiosmtpd) and an HTTP server that answers
like Twilio's Messages API (create, and list by To and DateSent). Only the carrier behind
them is imaginary."""

import itertools
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller


class SmtpInbox:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes = []
        self.reply = "250 OK"  # set e.g. "550 5.1.1 no such user" to refuse

    async def handle_DATA(self, server, session, envelope):
        if not self.reply.startswith("250"):
            return self.reply
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return self.reply


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.inbox = SmtpInbox()
        self.port = free_port()  # aiosmtpd probes its own port at start: 0 will not do
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


@dataclass
class Behaviour:
    """How the stand-in answers a message to one number."""

    status: int = 201
    code: int | None = None
    delay: float = 0.0  # seconds before answering (a hang when longer than the timeout)
    drop: bool = False  # accept, then close the connection without answering


@dataclass
class TwilioStandIn:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio does, and GET of
    the same URL (the message log, filtered by To and DateSent) from what it accepted: a
    message is in the log once received, whether or not its answer reached the caller."""

    default: Behaviour = field(default_factory=Behaviour)
    by_number: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    in_flight: int = 0  # requests received and not yet answered
    lock: threading.Lock = field(default_factory=threading.Lock)
    # When set, decides each request's behaviour (a fault-injecting Twilio).
    chooser: Callable[[dict], Behaviour] | None = None

    def start(self) -> "TwilioStandIn":
        stand_in = self
        sids = itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                self.answer(200, {"messages": stand_in.log(query), "next_page_uri": None})

            def answer(self, status: int, body: dict) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:  # the client died mid-request: nothing to act on
                    self.close_connection = True
                    return
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                request = {"path": self.path, "form": form, "auth": self.headers["Authorization"]}
                if stand_in.chooser is not None:
                    behaviour = stand_in.chooser(form)
                else:
                    behaviour = stand_in.by_number.get(form.get("To", ""), stand_in.default)
                request["behaviour"] = behaviour
                if behaviour.status == 201:  # accepted: in the log from now on
                    request["sid"] = f"SM{next(sids):032x}"
                    request["date_sent"] = datetime.now(UTC)
                with stand_in.lock:
                    stand_in.requests.append(request)
                    stand_in.in_flight += 1
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                with stand_in.lock:
                    stand_in.in_flight -= 1
                if behaviour.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if behaviour.status == 201:
                    body = {
                        "sid": request["sid"],
                        "status": "queued",
                        "to": form.get("To"),
                        "body": form.get("Body"),
                        "error_code": None,
                    }
                else:
                    body = {
                        "code": behaviour.code,
                        "message": f"error {behaviour.code}",
                        "more_info": f"https://www.twilio.com/docs/errors/{behaviour.code}",
                        "status": behaviour.status,
                    }
                payload = json.dumps(body).encode()
                try:
                    self.send_response(behaviour.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many workers connect at once; 5 would reset them

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def log(self, query: dict[str, str]) -> list[dict]:
        """Accepted messages to `To`, sent within DateSent> and DateSent< when given."""
        after, before = query.get("DateSent>"), query.get("DateSent<")
        with self.lock:
            accepted = [r for r in self.requests if "sid" in r]
        return [
            {
                "sid": r["sid"],
                "to": r["form"].get("To"),
                "body": r["form"].get("Body"),
                "status": "sent",
                "date_sent": r["date_sent"].strftime("%a, %d %b %Y %H:%M:%S +0000"),
            }
            for r in accepted
            if r["form"].get("To") == query.get("To", r["form"].get("To"))
            and (not after or r["date_sent"] >= datetime.fromisoformat(after))
            and (not before or r["date_sent"] <= datetime.fromisoformat(before))
        ]

    def sends_by_delivery(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.requests:
            callback = request["form"].get("StatusCallback", "")
            delivery = parse_qs(urlparse(callback).query).get("delivery", ["?"])[0]
            counts[delivery] = counts.get(delivery, 0) + 1
        return counts


def faulty_twilio(seed: int = 14) -> Callable[[dict], Behaviour]:
    """Twilio on a bad day: ~12% transient refusals (500, 503, 429: nothing sent), ~1% hangs
    past the client's timeout and ~1% dropped connections (both accepted: truly unknown to
    the caller), ~10% slow accepts; the rest answer in 10 ms."""
    rng, lock = random.Random(seed), threading.Lock()
    faults = [
        (0.04, Behaviour(status=500, code=20500)),
        (0.04, Behaviour(status=503, code=20503)),
        (0.04, Behaviour(status=429, code=20429)),
        (0.01, Behaviour(delay=2.5)),  # longer than TWILIO_TIMEOUT_SECONDS=1
        (0.01, Behaviour(drop=True)),
        (0.10, Behaviour(delay=0.3)),
    ]
    fast = Behaviour(delay=0.01)

    def choose(form: dict) -> Behaviour:
        with lock:
            roll = rng.random()
        for chance, behaviour in faults:
            if roll < chance:
                return behaviour
            roll -= chance
        return fast

    return choose


@dataclass
class WebhookReceiver:
    """A webhook receiver: records every POST; answers `statuses` in turn (then the last),
    after `delay` seconds, or waits for `release` when it is set up to hang."""

    statuses: list[int] = field(default_factory=lambda: [200])
    delay: float = 0.0
    release: threading.Event | None = None
    requests: list[dict] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "WebhookReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    turn = len(receiver.requests) - 1
                receiver.arrived.set()
                if receiver.release is not None:
                    receiver.release.wait(10)
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses[min(turn, len(receiver.statuses) - 1)]
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/touchbase"
        return self

    def stop(self) -> None:
        if self.release is not None:
            self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]
