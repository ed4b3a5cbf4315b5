"""PostgreSQL: NOTIFY touchbase_due whenever a statement leaves a delivery pending.

One statement-level trigger per event (transition tables allow one event each) covers every
way a touch becomes due: enrollment, the next touch, a retry, a deferral, a resume, a
re-queue, the reaper's releases, an admin or SQL edit. The payload is the earliest
`send_after` the statement wrote, as epoch seconds; idle workers listening
(`delivery/wakeup.py`) wake when it is sooner than they planned to. NOTIFY is delivered at
commit and folded to one per distinct payload per transaction. SQLite has no NOTIFY: its
worker keeps the timed sleep.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION touchbase_notify_due() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest timestamptz;
BEGIN
    SELECT min(send_after) INTO earliest FROM new_rows WHERE status = 'pending';
    IF earliest IS NOT NULL THEN
        PERFORM pg_notify('touchbase_due', extract(epoch FROM earliest)::text);
    END IF;
    RETURN NULL;
END
$$;
"""
TRIGGERS = [
    f"""CREATE TRIGGER touchbase_due_after_{event.lower()}
        AFTER {event} ON delivery_delivery REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION touchbase_notify_due()"""
    for event in ("INSERT", "UPDATE")
]
DROP = """
DROP TRIGGER IF EXISTS touchbase_due_after_insert ON delivery_delivery;
DROP TRIGGER IF EXISTS touchbase_due_after_update ON delivery_delivery;
DROP FUNCTION IF EXISTS touchbase_notify_due();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in [FUNCTION, *TRIGGERS]:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("delivery", "0005_area_code_states")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
