"""Reading rows by a chunk's values: `field IN (values)` as one parameter.

Django writes `IN (%s, %s, ...)` with one placeholder per value: for a 1,000-row chunk that
is thousands of placeholders Django compiles, psycopg splits and quotes, and PostgreSQL
parses, every statement. On PostgreSQL `among` sends `= ANY(%s::type[])` with the values as
one array instead (the same statement text for every chunk); SQLite, local and without
round trips, keeps Django's IN.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import F, Lookup, Q


class _AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql, params = _any(lhs, self.rhs, self.lhs.output_field.db_type(connection))
        return sql, [*lhs_params, *params]


def _any(column_sql: str, values: list, db_type: str) -> tuple[str, list]:
    return f"{column_sql} = ANY(%s::{db_type}[])", [values]


def among(field: str, values: Iterable) -> Q | _AnyOf:
    """The condition "`field` is one of `values`", for `filter()`."""
    values = list(values)
    if connection.vendor == "postgresql":
        return _AnyOf(F(field), values)
    return Q(**{f"{field}__in": values})


def among_sql(column_sql: str, values: Iterable, db_type: str) -> tuple[str, list]:
    """The same condition in a statement of our own: SQL and its parameters (`values` not
    empty)."""
    values = list(values)
    if connection.vendor == "postgresql":
        return _any(column_sql, values, db_type)
    return f"{column_sql} IN ({', '.join(['%s'] * len(values))})", values
