"""The physical floor of the delivery engine: the same at-most-once steps in raw psycopg.

Per batch of 200, on the engine's own schema and with its own claim statement:

1. claim (one CTE statement, commit);
2. one joined load of delivery + enrollment + customer + business + touch + template,
   locked, and one `UPDATE ... FROM unnest` marking every row `sending` with the exact
   message rendered (commit) — before any provider is called;
3. send each message to a zero-latency stand-in;
4. record: outcomes (`UPDATE ... FROM unnest`), attempt rows (`INSERT ... SELECT unnest`),
   and the enrollments moved on (next touch's row, or completed), then commit.

6 statements and 3 commits per batch. The message is rendered as the engine renders it
(placeholders, signed review link, first-SMS footer), so the gap between the engine and this
is what the engine spends on ORM objects, rules and extra statements, not on the message.
It handles the benchmark's case only (SMS, every delivery sendable); the rules the engine
checks are in the engine, and this exists to be measured against it.
"""

from datetime import UTC, datetime, timedelta

import psycopg

from touchbase.campaigns.placeholders import render
from touchbase.delivery.claiming import CLAIM_POSTGRESQL
from touchbase.delivery.rendering import sms_text
from touchbase.inbound.links import link_for

LOAD = """
SELECT d.id, d.enrollment_id, d.position, d.scheduled_at, c.name, c.phone, b.name,
       b.sender_name, j.service_type, j.technician_name, tpl.body
FROM delivery_delivery d
JOIN campaigns_enrollment e ON e.id = d.enrollment_id
JOIN customers_customer c ON c.id = e.customer_id
JOIN jobs_job j ON j.id = e.job_id
JOIN tenancy_business b ON b.id = d.business_id
JOIN campaigns_touch t ON t.campaign_id = e.campaign_id AND t.position = d.position
JOIN campaigns_messagetemplate tpl ON tpl.id = t.template_id
WHERE d.id = ANY(%s) AND d.status = 'claimed' AND d.lease_owner = %s
  AND e.status = 'active' AND c.sms_consent = 'granted' AND c.phone <> ''
ORDER BY d.send_after, d.id
FOR UPDATE OF d, e
"""

MARK_SENDING = """
UPDATE delivery_delivery AS d
SET status = 'sending', to_address = v.to_address, body_text = v.body, updated_at = %s,
    lease_expires_at = %s
FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, to_address, body)
WHERE d.id = v.id
"""

RECORD_SENT = """
UPDATE delivery_delivery AS d
SET status = 'sent', attempts = d.attempts + 1, provider = 'memory',
    provider_message_id = v.message_id, sent_at = %s, updated_at = %s,
    lease_owner = '', lease_expires_at = NULL, error_code = '', error_message = ''
FROM unnest(%s::bigint[], %s::text[]) AS v(id, message_id)
WHERE d.id = v.id AND d.lease_owner = %s AND d.status IN ('sending', 'uncertain')
"""

RECORD_ATTEMPTS = """
INSERT INTO delivery_deliveryattempt
    (delivery_id, number, provider, outcome, started_at, latency_ms, provider_message_id,
     error_code, response)
SELECT v.id, 1, 'memory', 'sent', %s, 0, v.message_id, '', ''
FROM unnest(%s::bigint[], %s::text[]) AS v(id, message_id)
"""

# The next touch's row where the campaign has one, else the enrollment completes.
ADVANCE = """
WITH done AS (
    SELECT * FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[])
        AS v(enrollment_id, position, scheduled_at)
), following AS (
    INSERT INTO delivery_delivery
        (business_id, enrollment_id, position, channel, scheduled_at, send_after, status,
         attempts, lease_owner, defer_reason, skip_reason, to_address, subject, body_text,
         body_html, provider, provider_message_id, receipt_status, error_code,
         error_message, created_at, updated_at)
    SELECT e.business_id, e.id, t.position, t.channel,
           done.scheduled_at + t.delay_hours * interval '1 hour',
           done.scheduled_at + t.delay_hours * interval '1 hour', 'pending', 0, '', '', '',
           '', '', '', '', '', '', '', '', '', %s, %s
    FROM done
    JOIN campaigns_enrollment e ON e.id = done.enrollment_id
    JOIN campaigns_touch t ON t.campaign_id = e.campaign_id AND t.position = done.position + 1
    ON CONFLICT DO NOTHING
    RETURNING enrollment_id, position
)
UPDATE campaigns_enrollment AS e
SET status = CASE WHEN following.position IS NULL THEN 'completed' ELSE e.status END,
    completed_at = CASE WHEN following.position IS NULL THEN %s ELSE e.completed_at END,
    current_position = COALESCE(following.position, e.current_position)
FROM done LEFT JOIN following ON following.enrollment_id = done.enrollment_id
WHERE e.id = done.enrollment_id AND e.status IN ('active', 'frozen')
"""


def stand_in_send(to: str, text: str, delivery_id: int) -> str:
    """A provider that answers at once (the engine's bench uses MemorySmsTransport)."""
    return f"memory-{delivery_id}"


def message_text(row: tuple) -> str:
    delivery_id, _, _, _, name, _, business, sender, service, technician, body = row
    values = {
        "customer_first_name": name.split()[0] if name.strip() else "there",
        "customer_name": name,
        "business_name": business,
        "review_link": link_for(delivery_id, "review"),
        "service_type": service or "recent",
        "technician_name": technician or "our team",
        "sender_name": sender or business,
    }
    return sms_text(render(body, values), business_name=business, first_of_enrollment=True)


def floor_batch(connection: psycopg.Connection, owner: str, limit: int, lease: timedelta) -> int:
    now = datetime.now(UTC)
    with connection.transaction():
        ids = [
            row[0]
            for row in connection.execute(CLAIM_POSTGRESQL, [now, limit, owner, now + lease, now])
        ]
    if not ids:
        return 0
    with connection.transaction():
        rows = connection.execute(LOAD, [ids, owner]).fetchall()
        texts = [message_text(row) for row in rows]
        connection.execute(
            MARK_SENDING,
            [now, now + lease, [r[0] for r in rows], [r[5] for r in rows], texts],
        )
    message_ids = [
        stand_in_send(row[5], text, row[0]) for row, text in zip(rows, texts, strict=True)
    ]
    sent_at = datetime.now(UTC)
    with connection.transaction():
        sent_ids = [r[0] for r in rows]
        connection.execute(RECORD_SENT, [sent_at, sent_at, sent_ids, message_ids, owner])
        connection.execute(RECORD_ATTEMPTS, [now, sent_ids, message_ids])
        connection.execute(
            ADVANCE,
            [
                [r[1] for r in rows],
                [r[2] for r in rows],
                [r[3] for r in rows],
                sent_at,
                sent_at,
                sent_at,
            ],
        )
    return len(rows)


def floor_process(url: str, *, limit: int = 200, lease: timedelta = timedelta(minutes=5)) -> int:
    """Send everything due through the floor; returns how many were sent."""
    done = 0
    with psycopg.connect(url, autocommit=True) as connection:
        while sent := floor_batch(connection, "floor", limit, lease):
            done += sent
    return done
