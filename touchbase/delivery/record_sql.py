"""The record step's write on PostgreSQL (step 4, recording.py): two statements for a group
of answers however many it holds, like the raw-SQL floor's (bench/floor.py).

1. `lock_ours`: the deliveries still ours (`sending`, or `uncertain` by a reaper while we
   waited; our lease), locked `FOR UPDATE`, with their enrollments' status and campaign,
   and the live webhook endpoints of their businesses (`one_write`'s look-up).
2. `write`: one writable CTE: the outcomes (`UPDATE ... FROM unnest`), the attempt rows,
   the next touches' rows (`ON CONFLICT DO NOTHING`), the enrollments moved on or
   completed, and the write's webhook events.

What is written is decided in Python between the two, the same on both databases: the
verdicts in recording.py, the sequence's next steps in sequencing.py. SQLite writes them
with the ORM. The delivery table's NOTIFY trigger (migration delivery/0006) fires for the
CTE's UPDATE and INSERT alike, so a retry or a next touch left `pending` still wakes workers.
"""

import json
from datetime import datetime
from functools import cache

from django.db import connection

from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, Enrollment, EnrollmentStatus
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.sequencing import EnrollmentStates, NextSteps
from touchbase.webhooks.events import live_endpoints_query, remember_endpoints, take_outbox_insert

DELIVERIES = Delivery._meta.db_table
ENROLLMENTS = Enrollment._meta.db_table

# What `_record` recorded of a call, as the delivery row stores it (lease given back: '',
# NULL; updated_at: the write's time).
OUTCOME_COLUMNS = (
    ("id", "bigint"),
    ("status", "text"),
    ("send_after", "timestamptz"),
    ("defer_reason", "text"),
    ("attempts", "int"),
    ("provider", "text"),
    ("provider_message_id", "text"),
    ("error_code", "text"),
    ("error_message", "text"),
    ("sent_at", "timestamptz"),
)
# The order of recording.py's attempt rows.
ATTEMPT_COLUMNS = (
    ("delivery_id", "bigint"),
    ("number", "int"),
    ("provider", "text"),
    ("outcome", "text"),
    ("started_at", "timestamptz"),
    ("latency_ms", "int"),
    ("provider_message_id", "text"),
    ("error_code", "text"),
    ("response", "text"),
)
# sequencing.NextSteps.rows; the row is due (scheduled_at and send_after) at `due`.
NEXT_TOUCH_COLUMNS = (
    ("business_id", "bigint"),
    ("enrollment_id", "bigint"),
    ("position", "int"),
    ("channel", "text"),
    ("due", "timestamptz"),
    ("status", "text"),
)


def lock_ours(
    ids: list[int], owner: str, business_ids: set[int]
) -> tuple[dict[int, int], EnrollmentStates]:
    """delivery id -> attempts so far, of the rows still ours, locked; and their
    enrollments' (status, campaign id). One statement, the endpoint look-up in it."""
    endpoints_sql, endpoint_params = live_endpoints_query(business_ids).query.sql_with_params()
    sql = f"""
        WITH ours AS (
            SELECT d.id, d.attempts, d.enrollment_id, e.status, e.campaign_id
            FROM {DELIVERIES} d JOIN {ENROLLMENTS} e ON e.id = d.enrollment_id
            WHERE d.id = ANY(%s::bigint[]) AND d.lease_owner = %s AND d.status IN (%s, %s)
            FOR UPDATE OF d
        )
        SELECT id, attempts, enrollment_id, status, campaign_id, NULL, NULL, NULL FROM ours
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, NULL, endpoint.* FROM ({endpoints_sql}) AS endpoint
    """
    params = [ids, owner, DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN, *endpoint_params]
    current: dict[int, int] = {}
    enrollments: EnrollmentStates = {}
    endpoints: dict[int, list] = {business_id: [] for business_id in business_ids}
    with _cursor() as cursor:
        cursor.execute(sql, params)
        for pk, attempts, enrollment_id, status, campaign_id, *endpoint in cursor.fetchall():
            if pk is not None:
                current[pk], enrollments[enrollment_id] = attempts, (status, campaign_id)
            else:
                business_id, endpoint_id, wanted = endpoint
                # jsonb comes back as text (Django's loader; the ORM decodes it in the field)
                endpoints[business_id].append((endpoint_id, json.loads(wanted)))
    remember_endpoints(endpoints)
    return current, enrollments


def write(
    outcomes: list[Delivery],
    attempts: list[tuple],
    steps: NextSteps,
    now: datetime,
    *,
    with_events: bool = True,
) -> None:
    """One statement: `outcomes` (the deliveries as recorded), `attempts` (rows in
    ATTEMPT_COLUMNS order), the next `steps`, and the events gathered so far by
    `one_write` (`with_events`)."""
    parts: list[tuple[str, str, list]] = []
    if outcomes:
        parts.append(("outcomes", *_outcomes(outcomes, now)))
    if attempts:
        parts.append(("attempts", *_attempts(attempts)))
    if steps.rows:
        parts.append(("next_touches", *_next_touches(steps.rows, now)))
    if steps.moved_to or steps.completed:
        parts.append(("sequences", *_sequences(steps, now)))
    events = take_outbox_insert() if with_events else None
    if events:
        parts.append(("events", *events))
    if not parts:
        return
    sql = "WITH " + ", ".join(f"{name} AS ({part})" for name, part, _ in parts) + " SELECT 1"
    with _cursor() as cursor:
        cursor.execute(sql, [param for _, _, params in parts for param in params])


def _cursor():
    """A cursor that binds parameters on the server: the arrays travel as arrays, not
    quoted into the statement's text in Python as Django's client-side cursor does (about
    half the record step's CPU). Django's wrapper still logs and counts the statements."""
    import psycopg  # PostgreSQL installs only

    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def _unnest(columns: tuple[tuple[str, str], ...]) -> str:
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in columns)
    return f"unnest({arrays}) AS v({', '.join(name for name, _ in columns)})"


def _arrays(rows: list[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def _outcomes(deliveries: list[Delivery], now: datetime) -> tuple[str, list]:
    names = [name for name, _ in OUTCOME_COLUMNS[1:]]
    sql = (
        f"UPDATE {DELIVERIES} AS d SET {', '.join(f'{name} = v.{name}' for name in names)}, "
        f"lease_owner = '', lease_expires_at = NULL, updated_at = %s "
        f"FROM {_unnest(OUTCOME_COLUMNS)} WHERE d.id = v.id"
    )
    rows = [
        (
            d.pk,
            d.status,
            d.send_after,
            d.defer_reason,
            d.attempts,
            d.provider,
            d.provider_message_id,
            d.error_code,
            d.error_message,
            d.sent_at,
        )
        for d in deliveries
    ]
    return sql, [now, *_arrays(rows)]


def _attempts(rows: list[tuple]) -> tuple[str, list]:
    table = DeliveryAttempt._meta.db_table
    names = ", ".join(name for name, _ in ATTEMPT_COLUMNS)
    return f"INSERT INTO {table} ({names}) SELECT * FROM {_unnest(ATTEMPT_COLUMNS)}", _arrays(rows)


# The columns a next touch's row takes from NEXT_TOUCH_COLUMNS, in the INSERT's order.
NEXT_TOUCH_GIVEN = (
    "business_id",
    "enrollment_id",
    "position",
    "channel",
    "scheduled_at",
    "send_after",
    "status",
)
NOW = object()  # a new row's created_at and updated_at: the write's time


@cache
def _new_delivery_defaults() -> tuple[list[str], list]:
    """A new delivery row's other columns (name, type) and their values: what
    `Delivery(...)` would hold, without building one per row."""
    columns, values = [], []
    for field in Delivery._meta.concrete_fields:
        if not field.primary_key and field.attname not in NEXT_TOUCH_GIVEN:
            columns.append((field.column, field.db_type(connection)))
            stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            values.append(NOW if stamped else field.get_default())
    return columns, values


def _next_touches(rows: list[tuple], now: datetime) -> tuple[str, list]:
    columns, defaults = _new_delivery_defaults()
    listed = ", ".join([*NEXT_TOUCH_GIVEN, *(column for column, _ in columns)])
    typed = ", ".join(f"%s::{kind}" for _, kind in columns)
    # Conflicts ignored: an uncertain touch the owner re-queued may resolve a second time.
    sql = (
        f"INSERT INTO {DELIVERIES} ({listed}) "
        f"SELECT v.business_id, v.enrollment_id, v.position, v.channel, v.due, v.due, "
        f"v.status, {typed} FROM {_unnest(NEXT_TOUCH_COLUMNS)} "
        "ON CONFLICT DO NOTHING"
    )
    values = [now if value is NOW else value for value in defaults]
    return sql, [*values, *_arrays(rows)]


def _sequences(steps: NextSteps, now: datetime) -> tuple[str, list]:
    """Each enrollment moved to its next touch's position (never back), or completed if
    still live: one UPDATE, one row per enrollment (a statement updates a row once)."""
    completed = set(steps.completed)
    ids = list(steps.moved_to.keys() | completed)
    positions = [steps.moved_to.get(pk) for pk in ids]
    completes = [pk in completed for pk in ids]
    live = list(LIVE_ENROLLMENT_STATUSES)
    ends = "s.completes AND e.status = ANY(%s::text[])"
    sql = (
        f"UPDATE {ENROLLMENTS} AS e "
        "SET current_position = GREATEST(e.current_position, s.position), "
        f"status = CASE WHEN {ends} THEN %s ELSE e.status END, "
        f"completed_at = CASE WHEN {ends} THEN %s ELSE e.completed_at END "
        "FROM unnest(%s::bigint[], %s::int[], %s::bool[]) AS s(id, position, completes) "
        f"WHERE e.id = s.id AND (e.current_position < s.position OR {ends})"
    )
    params = [live, EnrollmentStatus.COMPLETED, live, now, ids, positions, completes, live]
    return sql, params
