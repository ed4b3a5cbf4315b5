"""Reading the CSV files owners export from other tools, one row at a time.

- Encoding: UTF-8 with or without a BOM; UTF-16 when it starts with a UTF-16 BOM (Excel's
  "Unicode text"); a file whose start is not UTF-8 is read as Windows-1252 (Excel's "CSV"
  on Windows). A later line that is not valid in the chosen encoding fails only its row.
- Delimiter: comma, semicolon or tab, whichever the header line uses most.
- Quoting: Excel-style (double quotes, "" inside quotes, line breaks inside quotes).
- Headers: matched case-insensitively, ignoring spaces, underscores, hyphens and dots, with
  a few aliases per column (`Phone Number`, `Mobile`, `Cell` all mean phone).

Nothing is read whole: rows are yielded as the file is read.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

SNIFF_BYTES = 64 * 1024
MAX_FIELD_CHARS = 100_000


class FileProblem(Exception):
    """The file as a whole cannot be imported (no header, a required column missing...)."""


@dataclass(frozen=True)
class Row:
    number: int  # 1 is the header, as in a spreadsheet
    values: dict[str, str]
    problem: str = ""  # set when the row could not even be read
    problem_column: str = ""


@dataclass
class Columns:
    by_index: dict[int, str] = field(default_factory=dict)  # column index -> canonical name
    unknown: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # header as written -> canonical


def _key(header: str) -> str:
    return re.sub(r"[\s_\-.]+", "", header.strip().lower())


def build_aliases(spec: dict[str, list[str]]) -> dict[str, str]:
    return {_key(alias): name for name, aliases in spec.items() for alias in [name, *aliases]}


def aliases_of(mapping: dict[str, str]) -> dict[str, str]:
    """The aliases that read a header exactly as `Columns.mapping` recorded it."""
    return {_key(header): name for header, name in mapping.items()}


def _choose_encoding(head: bytes) -> str:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is not a reason to give up on UTF-8.
        if exc.start < len(head) - 3:
            return "cp1252"
    return "utf-8-sig"


def _lines(stream: BinaryIO, encoding: str) -> Iterator[tuple[str, bool]]:
    """Decoded physical lines (with their line ends) and whether each decoded cleanly."""
    if encoding == "utf-16":
        for line in io.TextIOWrapper(stream, encoding="utf-16", newline=""):
            yield line, True
        return
    first = True
    for raw in stream:
        if first and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        first = False
        try:
            yield raw.decode(encoding), True
        except UnicodeDecodeError:
            yield raw.decode(encoding, errors="replace"), False


def read_rows(stream: BinaryIO, aliases: dict[str, str]) -> tuple[Columns, Iterator[Row], str]:
    """The header's columns, an iterator over the data rows, and the encoding used."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    encoding = _choose_encoding(head)
    lines = _lines(stream, encoding)
    bad_lines: set[int] = set()
    line_number = 0

    def tracked() -> Iterator[str]:
        nonlocal line_number
        for text, clean in lines:
            line_number += 1
            if not clean:
                bad_lines.add(line_number)
            yield text

    source = tracked()
    try:
        first_line = next(source)
    except StopIteration:
        raise FileProblem("the file is empty") from None
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])

    def with_first() -> Iterator[str]:
        yield first_line
        yield from source

    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(with_first(), delimiter=delimiter, quotechar='"', doublequote=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise FileProblem(f"the header row cannot be read: {exc}") from None
    columns = Columns()
    for index, name in enumerate(header):
        canonical = aliases.get(_key(name))
        if canonical and canonical not in columns.by_index.values():
            columns.by_index[index] = canonical
            columns.mapping[name.strip()] = canonical
        elif name.strip():
            columns.unknown.append(name.strip())

    def rows() -> Iterator[Row]:
        number = 1
        while True:
            start_line = line_number + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield Row(number, {}, f"the row cannot be read as CSV: {exc}")
                continue
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # blank line: nothing to import, nothing to report
            values = {
                name: cells[index].strip() if index < len(cells) else ""
                for index, name in columns.by_index.items()
            }
            if bad_lines:
                broken = any(start_line <= bad <= line_number for bad in bad_lines)
                bad_lines.difference_update([bad for bad in bad_lines if bad <= line_number])
                if broken:
                    yield Row(number, values, f"the row is not valid {encoding} text")
                    continue
            yield Row(number, values)

    return columns, rows(), encoding
