"""One JSON shape for every API error:

    {"error": {"code": "validation_error", "message": "...", "fields": {"phone": "..."}}}

`fields` names each bad field (dotted for nested ones, e.g. `customer.phone`); it is empty
when the error is not about a field.
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

logger = logging.getLogger(__name__)

# Body / query / path parameter names ninja puts in front of a field's location.
_LOCATION_WRAPPERS = {"body", "query", "path", "header", "form", "cookie", "payload", "filters"}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def _field_name(location: list) -> str:
    parts = [str(part) for part in location]
    while parts and parts[0] in _LOCATION_WRAPPERS:
        parts.pop(0)
    return ".".join(parts) or "body"


def fields_from_django(exc: DjangoValidationError, prefix: str = "") -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {f"{prefix}{name}": "; ".join(msgs) for name, msgs in exc.message_dict.items()}
    return {prefix.rstrip(".") or "body": "; ".join(exc.messages)}


def fields_from_pydantic(errors: list[dict]) -> dict[str, str]:
    """Each bad field of a request body (ninja's or pydantic's error list), dotted."""
    fields: dict[str, str] = {}
    for error in errors:
        name = _field_name(list(error.get("loc", [])))
        message = str(error.get("msg", "is invalid"))
        fields[name] = f"{fields[name]}; {message}" if name in fields else message
    return fields


def validation_message(fields: dict[str, str]) -> str:
    return "invalid input: " + ", ".join(sorted(fields)) if fields else "invalid input"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @api.exception_handler(NinjaValidationError)
    def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields = fields_from_pydantic(exc.errors)
        return error_response(422, "validation_error", validation_message(fields), fields)

    @api.exception_handler(DjangoValidationError)
    def service_refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = fields_from_django(exc, getattr(exc, "field_prefix", ""))
        return error_response(422, "validation_error", validation_message(fields), fields)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(
            401,
            "unauthorized",
            "a valid API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": 'Bearer realm="touchbase"'},
        )

    @api.exception_handler(Http404)
    def http_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, "not_found", "resource not found")

    @api.exception_handler(ObjectDoesNotExist)
    def object_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return error_response(404, "not_found", "resource not found")

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "bad_request", 413: "payload_too_large"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        message = f"{type(exc).__name__}: {exc}" if settings.DEBUG else "internal error"
        return error_response(500, "server_error", message)
