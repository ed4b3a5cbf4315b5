"""Email through Django's email framework: SMTP by default, any django-anymail ESP by
setting EMAIL_BACKEND, console in development."""

import smtplib
import socket
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport


def _classify(exc: Exception) -> SendError:
    """Map an SMTP or ESP failure onto the engine's three outcomes."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return SendError(f"recipient refused: {exc.recipients}", permanent=True, code="refused")
    if isinstance(exc, smtplib.SMTPResponseException):
        permanent = exc.smtp_code >= 500
        return SendError(str(exc), permanent=permanent, code=str(exc.smtp_code))
    if isinstance(exc, ConnectionRefusedError | socket.gaierror | smtplib.SMTPConnectError):
        return SendError(f"cannot connect: {exc}", code="connect")  # nothing was sent
    try:  # django-anymail, when installed and configured
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        AnymailAPIError = AnymailRecipientsRefused = ()
    if AnymailRecipientsRefused and isinstance(exc, AnymailRecipientsRefused):
        return SendError(str(exc), permanent=True, code="refused")
    if AnymailAPIError and isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None:
            return SendError(str(exc), unknown_outcome=True, code="no_response")
        return SendError(str(exc), permanent=status < 500 and status != 429, code=str(status))
    # A timeout or a dropped connection part-way: the message may have been accepted.
    return SendError(f"{type(exc).__name__}: {exc}", unknown_outcome=True, code="no_response")


class DjangoEmailTransport(Transport):
    def __init__(self, backend: str | None = None):
        self.backend = backend or settings.EMAIL_BACKEND
        self.name = self.backend.rsplit(".", 2)[-2] if "." in self.backend else self.backend
        self.idempotent = "console" in self.backend or "locmem" in self.backend

    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        message_id = make_msgid(idstring=f"delivery-{idempotency_key}", domain="touchbase")
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            from_email=formataddr((message.from_name, settings.DEFAULT_FROM_EMAIL)),
            to=[message.to],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers={
                **message.headers,
                "Message-ID": message_id,
                "X-Touchbase-Delivery": idempotency_key,
            },
            # A fresh connection per message: the SMTP backend opens and closes it around
            # the send, so threads never share a socket.
            connection=get_connection(self.backend, fail_silently=False),
        )
        if message.html:  # never an empty HTML part: clients would show a blank message
            email.attach_alternative(message.html, "text/html")
        # django-anymail sends metadata to the ESP, which returns it in tracking webhooks.
        email.metadata = {"delivery_id": idempotency_key}
        try:
            email.send()
        except Exception as exc:
            raise _classify(exc) from exc
        status = getattr(email, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) or message_id
        return Sent(str(provider_id), response=str(getattr(status, "status", "") or "accepted"))
