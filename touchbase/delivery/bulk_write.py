"""Writing many rows' different values in one statement.

Django's `bulk_update` builds a CASE expression per field and row: for a batch of 200
deliveries and a dozen fields it spent more time compiling SQL than the database spent
running it. On PostgreSQL this is one `UPDATE ... FROM unnest(arrays)`; on SQLite (local,
no round trips) one prepared statement executed per row.
"""

from django.db import connection
from django.db.models import Model


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
