"""`Authorization: Bearer <key>`: the key decides the business every route works on."""

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from touchbase.api.errors import ApiError
from touchbase.api.keys import authenticate_key
from touchbase.api.models import ApiKey
from touchbase.api.ratelimit import buckets
from touchbase.tenancy.models import Business


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        api_key = authenticate_key(token.strip())
        if api_key is None:
            return None
        limit = settings.TOUCHBASE_API_RATE_LIMIT
        wait = buckets.take(api_key.pk, rate=limit["requests"], period=limit["period_seconds"])
        if wait:
            raise ApiError(
                429,
                "rate_limited",
                f"this key made more than {limit['requests']} requests in "
                f"{limit['period_seconds']} seconds; retry after {wait} s",
                headers={"Retry-After": str(wait)},
            )
        return api_key


def business_of(request: HttpRequest) -> Business:
    return request.auth.business
