"""Log-in by email and password, throttled against guessing (every login form, the
admin's included, goes through this backend)."""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from touchbase.ratelimit import client_address
from touchbase.tenancy.throttles import LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_ADDRESS

THROTTLED_ATTRIBUTE = "touchbase_login_throttled"


def _account(username) -> str:
    return str(username or "").strip().lower()


class ThrottledModelBackend(ModelBackend):
    """After 10 failed log-ins for one account or from one address within 15 minutes, every
    further attempt is refused unchecked, even with the right password, until the window
    ends. The answer is the same for an email with or without an account."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:  # not a web login (tests, the shell): nothing to throttle
            return super().authenticate(request, username, password, **kwargs)
        account, address = _account(username), client_address(request)
        if LOGIN_FAILURES_PER_ACCOUNT.exhausted(account) or LOGIN_FAILURES_PER_ADDRESS.exhausted(
            address
        ):
            setattr(request, THROTTLED_ATTRIBUTE, True)
            raise PermissionDenied("too many failed log-ins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            LOGIN_FAILURES_PER_ACCOUNT.hit(account)
            LOGIN_FAILURES_PER_ADDRESS.hit(address)
        return user


def login_throttled(request) -> bool:
    return bool(getattr(request, THROTTLED_ATTRIBUTE, False))
