"""Real servers the tests talk to: an SMTP server (aiosmtpd) and an HTTP server that answers
like Twilio's Messages API. Only the carrier behind them is imaginary."""

import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
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


@dataclass
class TwilioStandIn:
    """Answers POST /2010-04-01/Accounts/<sid>/Messages.json like Twilio does."""

    default: Behaviour = field(default_factory=Behaviour)
    by_number: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    in_flight: int = 0  # requests received and not yet answered
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "TwilioStandIn":
        stand_in = self
        sids = itertools.count(1)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                request = {"path": self.path, "form": form, "auth": self.headers["Authorization"]}
                with stand_in.lock:
                    stand_in.requests.append(request)
                    stand_in.in_flight += 1
                behaviour = stand_in.by_number.get(form.get("To", ""), stand_in.default)
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                with stand_in.lock:
                    stand_in.in_flight -= 1
                if behaviour.status == 201:
                    body = {
                        "sid": f"SM{next(sids):032x}",
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

    def sends_by_delivery(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for request in self.requests:
            callback = request["form"].get("StatusCallback", "")
            delivery = parse_qs(urlparse(callback).query).get("delivery", ["?"])[0]
            counts[delivery] = counts.get(delivery, 0) + 1
        return counts


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
