"""Writing many rows' different values in one statement.

Django's `bulk_update` builds a CASE expression per field and row: for a batch of 200
deliveries and a dozen fields it spent more time compiling SQL than the database spent
running it. On PostgreSQL this is one `UPDATE ... FROM unnest(arrays)`; on SQLite (local,
no round trips) one prepared statement executed per row.
"""

import json

from django.db import connection
from django.db.models import DateTimeField, Model


def update_rows(rows: list[Model], fields: list[str]) -> None:
    if not rows:
        return
    meta = rows[0]._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = [meta.get_field(name) for name in fields]
    pk = meta.pk
    quote = connection.ops.quote_name

    def values(row: Model) -> list:
        return [
            column.get_db_prep_save(getattr(row, column.attname), connection)
            for column in [pk, *columns]
        ]

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(c.column)} = %s" for c in columns)
            sql = f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s"
            cursor.executemany(sql, [[*values(row)[1:], row.pk] for row in rows])
            return
        # One array parameter per column: the statement text is short and the same for
        # every batch, so psycopg and PostgreSQL parse it once.
        arrays = ", ".join(f"%s::{c.db_type(connection)}[]" for c in [pk, *columns])
        names = ", ".join(quote(f"v_{c.column}") for c in [pk, *columns])
        assignments = ", ".join(f"{quote(c.column)} = v.{quote('v_' + c.column)}" for c in columns)
        sql = (
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v({names}) "
            f"WHERE {table}.{quote(pk.column)} = v.{quote('v_' + pk.column)}"
        )
        # psycopg adapts these column types (text, integers, aware datetimes) itself.
        attnames = [c.attname for c in [pk, *columns]]
        rows_values = [[getattr(row, name) for name in attnames] for row in rows]
        cursor.execute(sql, [list(column) for column in zip(*rows_values, strict=True)])


def insert_rows(rows: list[Model]) -> None:
    """`bulk_create` of new rows, their primary keys set. On PostgreSQL one
    `INSERT ... SELECT ... FROM jsonb_to_recordset(%s) RETURNING id`: one JSON parameter
    (encoded in C) instead of Django's VALUES list of thousands of parameters, which cost
    more to build, quote and parse than the insert itself. Elsewhere Django's bulk_create."""
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    meta = model._meta
    columns = [field for field in meta.concrete_fields if not field.primary_key]
    stamped = [
        f for f in columns if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    names = [field.attname for field in columns]
    times = [i for i, field in enumerate(columns) if isinstance(field, DateTimeField)]
    records = []
    for row in rows:
        for field in stamped:
            field.pre_save(row, add=True)
        record = [getattr(row, name) for name in names]
        for index in times:
            if record[index] is not None:
                record[index] = record[index].isoformat()
        records.append(record)
    quote = connection.ops.quote_name
    listed = ", ".join(quote(field.column) for field in columns)
    picks = ", ".join(f"(r->>{i})::{f.db_type(connection)}" for i, f in enumerate(columns))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({listed}) "
        f"SELECT {picks} FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS t(r, n) "
        f"ORDER BY n RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        # Choices members are str subclasses: JSON writes their plain value.
        cursor.execute(sql, [json.dumps(records)])
        # Rows are inserted in the list's order, and RETURNING follows the rows inserted.
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
            row._state.adding, row._state.db = False, connection.alias
