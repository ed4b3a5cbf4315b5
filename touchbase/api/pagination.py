"""Cursor pagination, newest first: `?limit=50&cursor=<next_cursor of the previous page>`.

The cursor is the last id seen, so pages stay stable while new rows arrive.
"""

from typing import Annotated

from django.db.models import QuerySet
from ninja import Query

from touchbase.api.errors import ApiError
from touchbase.api.schemas import MAX_ID

Limit = Annotated[int, Query(50, ge=1, le=100, description="Items per page (1-100).")]
Cursor = Annotated[
    str | None, Query(None, max_length=20, description="`next_cursor` of the previous page.")
]


def paginate(queryset: QuerySet, *, cursor: str | None, limit: int) -> dict:
    if cursor:
        if not cursor.isdigit() or not 1 <= int(cursor) <= MAX_ID:
            raise ApiError(
                422,
                "validation_error",
                "invalid input: cursor",
                {"cursor": "is not a cursor this API returned"},
            )
        queryset = queryset.filter(pk__lt=int(cursor))
    rows = list(queryset.order_by("-pk")[: limit + 1])
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}
