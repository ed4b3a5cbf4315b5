"""Which webhook URLs we may call: never private, loopback, link-local or metadata addresses
(unless the operator allows them), checked when an endpoint is saved and again before every
attempt, and the connection then goes to the address we checked, so a DNS answer that
changes in between (rebinding) cannot point us inside the network."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeAddress(Exception):
    """The URL may not be called; the message says why, for the owner."""


def _allow_private() -> bool:
    return settings.TOUCHBASE_WEBHOOKS["allow_private"]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL we may call, or UnsafeAddress saying why not."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    allowed = {"https"} | ({"http"} if _allow_private() or settings.DEBUG else set())
    if scheme not in allowed:
        raise UnsafeAddress(
            "must start with https://" if scheme != "http" else "must use https, not http"
        )
    if not parts.hostname:
        raise UnsafeAddress("has no host name")
    if parts.username or parts.password:
        raise UnsafeAddress("must not contain a user name or password")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeAddress("has an invalid port") from exc
    return scheme, parts.hostname, port


def resolve(host: str, port: int) -> str:
    """The address to connect to: every address the name has must be public (a name with one
    private address among public ones is refused: we could be sent to either)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeAddress(f"the host name {host!r} does not resolve") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeAddress(f"the host name {host!r} does not resolve")
    if not _allow_private():
        private = [address for address in addresses if not _is_public(address)]
        if private:
            raise UnsafeAddress(
                f"{host} resolves to a private, loopback or link-local address ({private[0]})"
            )
    return addresses[0]


def check_endpoint_url(url: str) -> str:
    """The URL, checked for saving (it must resolve to a public address now too)."""
    _, host, port = check_url(url)
    resolve(host, port)
    return url.strip()
