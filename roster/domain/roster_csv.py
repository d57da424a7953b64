"""The billing roster CSV (see the spec's "billing roster CSV" section).

RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a
comma, quote, CR or LF. The caller encodes the yielded strings as UTF-8 (no
byte-order mark). Rows are produced one at a time, so an export of any size
streams without building the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from roster.domain.line_coding import LineCoding

COLUMNS: tuple[str, ...] = (
    "line_id", "action", "date_of_service", "session_id", "class_title",
    "patient_mrn", "patient_last_name", "patient_first_name", "patient_dob",
    "payer", "member_id", "cpt", "modifiers", "units", "diagnosis_codes",
    "place_of_service", "rendering_npi", "rendering_name", "rendering_discipline",
    "caregivers", "minutes",
)  # fmt: skip

ACTIONS = ("new", "void")

# Spreadsheets run cells starting with these as formulas. A leading tab or CR
# is treated the same way (OWASP CSV-injection guidance): some programs strip
# it and then read the formula behind it.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class RosterRow(LineCoding):
    """One line of the roster CSV: a column per field (``COLUMNS`` gives their order), the line's
    coding among them."""

    line_id: int
    action: str  # "new" | "void"
    date_of_service: date
    session_id: int
    class_title: str
    patient_mrn: str
    patient_last_name: str
    patient_first_name: str
    patient_dob: date | None
    payer: str
    member_id: str
    rendering_name: str | None
    rendering_discipline: str | None
    caregivers: tuple[tuple[str, str, str], ...]  # (first, last, relationship)
    minutes: int | None

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {ACTIONS}, not {self.action!r}")


def row_to_json(row: RosterRow) -> dict:
    """A JSON-safe picture of a row (without its action), to keep what was exported."""
    out = {}
    for column in COLUMNS:
        if column == "action":
            continue
        value = getattr(row, column)
        if isinstance(value, date):
            value = value.isoformat()
        elif column == "caregivers":
            value = [list(c) for c in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[column] = value
    return out


def row_from_json(data: dict, action: str) -> RosterRow:
    """The row ``row_to_json`` kept, as a row of the given action ("new" or "void")."""
    values = dict(data, action=action)
    values["date_of_service"] = date.fromisoformat(values["date_of_service"])
    if values.get("patient_dob"):
        values["patient_dob"] = date.fromisoformat(values["patient_dob"])
    for column in ("modifiers", "diagnosis_codes"):
        values[column] = tuple(values[column])
    values["caregivers"] = tuple(tuple(c) for c in values["caregivers"])
    return RosterRow(**{column: values.get(column) for column in COLUMNS})


def neutralise(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (one starting
    with = + - @, or with a tab or carriage return)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _caregiver(first: str, last: str, relationship: str) -> str:
    name = " ".join(part for part in (first, last) if part)
    return f"{name} ({relationship})" if relationship else name


def _text(column: str, value) -> str:
    if value is None:
        return ""
    if column == "caregivers":
        return "; ".join(_caregiver(*c) for c in value)
    if column in ("modifiers", "diagnosis_codes"):
        return ";".join(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _cells(row: RosterRow) -> list[str]:
    return [neutralise(_text(column, getattr(row, column))) for column in COLUMNS]


def iter_csv(rows: Iterable[RosterRow]) -> Iterator[str]:
    """Yield the header line, then one line per row, each ending in CRLF.
    Rows are pulled from ``rows`` only as lines are consumed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield line(COLUMNS)
    for row in rows:
        yield line(_cells(row))
