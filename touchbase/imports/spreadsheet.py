"""Cells written for spreadsheets (the import's error report) must not run as formulas.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `+cmd|...`); OWASP's advice is to prefix
it with a single quote, which shows the text as it came and runs nothing.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_cells(values: Iterable[object]) -> list[object]:
    return [safe_cell(value) for value in values]
