"""The HTTP API, version 1: `/api/v1/`, documented at `/api/v1/openapi.json` and `/api/v1/docs`."""

from ninja import NinjaAPI

from touchbase.api.auth import ApiKeyAuth
from touchbase.api.errors import install_error_handlers
from touchbase.api.routes import (
    campaigns,
    customers,
    deliveries,
    enrollments,
    jobs,
    webhook_endpoints,
)

DESCRIPTION = """\
Push jobs into touchbase and read back what happened.

Authenticate with a business's API key: `Authorization: Bearer tb_...`. A key sees only its
own business; anything else answers 404. Every error has one shape:
`{"error": {"code", "message", "fields": {"<field>": "<what is wrong>"}}}`.
Lists are newest first and paginated by cursor (`limit`, `cursor` = the previous page's
`next_cursor`). Times are ISO-8601 in UTC.
"""

api = NinjaAPI(
    title="touchbase API",
    version="1",
    description=DESCRIPTION,
    auth=ApiKeyAuth(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)
for module in (customers, jobs, enrollments, campaigns, deliveries, webhook_endpoints):
    api.add_router("/", module.router)
