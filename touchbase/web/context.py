from django.conf import settings
from django.http import HttpRequest

from touchbase.delivery.segments import MAX_SEGMENTS
from touchbase.web.current import current_business as _current
from touchbase.web.current import is_owner


def current_business(request: HttpRequest) -> dict:
    """The current business and the user's others, for the header and its switcher."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"signup_open": settings.TOUCHBASE_SIGNUP == "open"}
    business = _current(request)
    return {
        "business": business,
        "my_businesses": request._touchbase_businesses,
        "is_owner": is_owner(request),
    }


def sms_limits(request: HttpRequest) -> dict:
    """The SMS length limit the worker enforces, for the editors' segment counters."""
    return {"max_sms_segments": MAX_SEGMENTS}
