"""SMS through Twilio's Messages API with the official `twilio` package."""

from datetime import datetime

import requests
import requests.adapters
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from touchbase.delivery.backends.base import OutgoingMessage, SendError, Sent, Transport
from touchbase.delivery.provider_errors import classify_twilio

TWILIO_API = "https://api.twilio.com"


class RebasedHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to another base URL (a regional proxy, or the local
    stand-in the tests run), keeping everything else of the official client."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSmsTransport(Transport):
    name = "twilio"
    # The Messages API takes no idempotency key: after an unknown outcome we must not resend.
    idempotent = False

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str = "",
        from_number: str = "",
        status_callback_url: str = "",
        timeout: float = 10.0,
        api_base_url: str = "",
        pool_size: int = 64,
    ):
        if not (messaging_service_sid or from_number):
            raise ValueError("Twilio needs a Messaging Service SID or a from number")
        http_client = (
            RebasedHttpClient(api_base_url, timeout=timeout)
            if api_base_url
            else TwilioHttpClient(timeout=timeout)
        )
        # One pooled connection per sending thread (urllib3 keeps 10 by default and would
        # reconnect for every send beyond that).
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        http_client.session.mount("https://", adapter)
        http_client.session.mount("http://", adapter)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.status_callback_url = status_callback_url

    def send(self, message: OutgoingMessage, *, idempotency_key: str) -> Sent:
        params = {"to": message.to, "body": message.text}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        if self.status_callback_url:
            params["status_callback"] = f"{self.status_callback_url}?delivery={idempotency_key}"
        try:
            created = self.client.messages.create(**params)
        except TwilioRestException as exc:
            error = classify_twilio(exc.code, exc.status)
            raise SendError(
                f"Twilio {exc.status} {exc.code}: {exc.msg}",
                permanent=error.permanent,
                code=str(exc.code or exc.status),
                customer_effect=error.customer_effect,
                response=str(exc.msg)[:1000],
            ) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise SendError(f"connect timeout: {exc}", code="connect_timeout") from exc
        except requests.exceptions.ConnectionError as exc:
            if "Connection refused" in str(exc) or "NewConnectionError" in str(exc):
                raise SendError(f"cannot connect: {exc}", code="connect") from exc
            raise SendError(f"{exc}", unknown_outcome=True, code="no_response") from exc
        except requests.exceptions.RequestException as exc:  # read timeout and the like
            raise SendError(
                f"{type(exc).__name__}: {exc}", unknown_outcome=True, code="no_response"
            ) from exc
        return Sent(created.sid, response=f"{created.status}")

    def messages_to(self, to: str, *, after: datetime, before: datetime) -> list:
        """Twilio's log of messages to `to` sent between `after` and `before` (reconcile)."""
        return self.client.messages.list(
            to=to, date_sent_after=after, date_sent_before=before, limit=100
        )
