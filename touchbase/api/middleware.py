"""Refuse oversized API bodies before anything reads them (413, in the API's error shape)."""

from django.conf import settings

from touchbase.api.errors import error_response

API_PREFIX = "/api/"


class ApiBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            limit = settings.TOUCHBASE_API_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return error_response(
                    413,
                    "payload_too_large",
                    f"request body is {length} bytes; the limit is {limit} bytes",
                )
        return self.get_response(request)
