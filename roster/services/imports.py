"""CSV import of patients and caregivers: preview every row, then write all or nothing.

The file is read whole (it is capped) and every row is checked with the same
validators as the API. The preview names each bad row by its line number (line
1 is the header, so the first data row is line 2; a row is numbered by the line
it starts on) with every reason. Importing checks the file again and writes
every row in one transaction, or nothing.

Caregiver files hold one patient link per row. Rows with the same first name,
last name and phone (case and punctuation aside) are one caregiver who cares for
several patients. A caregiver already registered with that name and phone is an
error: link them to more patients on their own page instead.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from roster.domain.validators import phone_digits
from roster.extensions import db
from roster.models import Caregiver, mrn_key
from roster.services import Conflict, ServiceError, people

KINDS = ("patients", "caregivers")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000  # also keeps every IN (...) look-up within the databases' parameter limits
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": people.FLAT_PATIENT_FIELDS,
    "caregivers": ("first_name", "last_name", "phone", "email", "patient_mrn", "relationship"),
}
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "patients": ("mrn", "first_name", "last_name"),
    "caregivers": ("first_name", "last_name"),
}


@dataclass(frozen=True)
class RowProblem:
    line: int
    reasons: tuple[tuple[str, str], ...]  # (column, why)


@dataclass(frozen=True)
class ImportPreview:
    kind: str
    text: str  # the file as read, to send back when the import is confirmed
    rows: int  # data rows (blank rows are skipped)
    problems: list[RowProblem]
    records: list[dict[str, Any]]  # what would be written, as the API takes it (caregivers merged)

    @property
    def good(self) -> int:
        return self.rows - len(self.problems)


class ImportRejected(ServiceError):
    """The file has bad rows; ``preview`` lists them. Nothing was written."""

    def __init__(self, preview: ImportPreview):
        super().__init__(f"Nothing was imported: {len(preview.problems)} of {preview.rows} rows have problems.")
        self.preview = preview


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    reasons: list[tuple[str, str]] = field(default_factory=list)


def template_csv(kind: str) -> str:
    """An empty file with the header row of ``kind``."""
    return ",".join(COLUMNS[kind]) + "\r\n"


def preview(kind: str, data: bytes | str) -> ImportPreview:
    """Read and check a whole file; write nothing."""
    text, rows = _read(kind, data)
    checks: dict[str, Callable[[list[_Row]], list[dict[str, Any]]]] = {
        "patients": _check_patients, "caregivers": _check_caregivers,
    }
    records = checks[kind](rows)
    problems = [RowProblem(r.line, tuple(r.reasons)) for r in rows if r.reasons]
    return ImportPreview(kind, text, len(rows), problems, records)


def run_import(kind: str, data: bytes | str) -> ImportPreview:
    """Check the file again and write every record, or nothing (ImportRejected)."""
    plan = preview(kind, data)
    if plan.problems:
        raise ImportRejected(plan)
    create = people.create_patient if kind == "patients" else people.create_caregiver
    try:
        with db.session.begin_nested():
            for record in plan.records:
                create(record)
    except IntegrityError as exc:
        raise Conflict(
            "Someone changed the same records while the file was imported; nothing was imported. "
            "Preview the file again."
        ) from exc
    return plan


# --------------------------------------------------------------------------- reading


def _read(kind: str, data: bytes | str) -> tuple[str, list[_Row]]:
    if kind not in KINDS:
        raise ServiceError("Choose what the file holds.", {"kind": "Choose patients or caregivers."})
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [" ".join(h.split()).lower().replace(" ", "_") for h in next(reader, [])]
        _check_header(kind, header)
        rows: list[_Row] = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(rows) == MAX_ROWS:
                raise _file_error(f"The file has more than {MAX_ROWS} rows; split it into smaller files.")
            rows.append(_row(line, header, cells))
    except csv.Error as exc:
        raise _file_error(f"Line {reader.line_num} is not readable CSV ({exc}).") from exc
    if not rows:
        raise _file_error("The file has a header row but no data rows.")
    return text, rows


def _file_error(why: str) -> ServiceError:
    return ServiceError(why, {"file": why})


def _decode(data: bytes | str) -> str:
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size == 0:
        raise _file_error("The file is empty. Choose a CSV file.")
    if size > MAX_BYTES:
        raise _file_error(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    try:
        text = data if isinstance(data, str) else data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:  # NUL: UTF-16 or not text at all
        raise _file_error(
            "The file is not UTF-8 text. In a spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
        )
    return text.removeprefix("\ufeff")


def _check_header(kind: str, header: list[str]) -> None:
    expected = COLUMNS[kind]
    problems = []
    unknown = [h or "(blank)" for h in header if h not in expected]
    if unknown:
        problems.append(f"unknown column {', '.join(unknown)}")
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in header]
    if missing:
        problems.append(f"missing column {', '.join(missing)}")
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        problems.append(f"repeated column {', '.join(repeated)}")
    if problems:
        hint = " Separate the columns with commas, not semicolons." if len(header) == 1 and ";" in header[0] else ""
        raise _file_error(
            f"The header row does not match the {kind} template ({'; '.join(problems)}). "
            f"Expected columns: {', '.join(expected)}.{hint}"
        )


def _row(line: int, header: list[str], cells: list[str]) -> _Row:
    row = _Row(line, {name: cell.strip() for name, cell in zip(header, cells)})
    if any(c.strip() for c in cells[len(header):]):
        row.reasons.append(("(row)", f"The row has {len(cells)} cells but the header names {len(header)} columns."))
    return row


# --------------------------------------------------------------------------- checking


def _check_patients(rows: list[_Row]) -> list[dict[str, Any]]:
    existing = people.patients_by_mrn(r.values.get("mrn", "") for r in rows)
    first_line: dict[str, int] = {}
    records = []
    for row in rows:
        data = people.patient_from_flat(row.values)
        try:
            people.validate_patient(data)
        except ServiceError as exc:
            row.reasons.extend((people.flat_field(key), why) for key, why in exc.fields.items())
        mrn = data["mrn"]
        key = mrn_key(mrn) if isinstance(mrn, str) else mrn  # a1001 and A1001 are the same MRN
        if mrn in existing:
            row.reasons.append(("mrn", f"A patient with MRN {existing[mrn].mrn} already exists."))
        elif key in first_line:
            row.reasons.append(("mrn", f"MRN {mrn} is also on line {first_line[key]}."))
        elif mrn:
            first_line[key] = row.line
        if not row.reasons:
            records.append(data)
    return records


def _check_caregivers(rows: list[_Row]) -> list[dict[str, Any]]:
    known = people.patients_by_mrn(r.values["patient_mrn"] for r in rows if r.values.get("patient_mrn"))
    registered = _registered_caregivers({phone_digits(r.values.get("phone", "")) for r in rows})
    caregivers: dict[tuple[str, str, str], tuple[int, dict[str, Any]]] = {}
    for row in rows:
        data = _caregiver_data(row.values)
        try:
            clean = people.validate_caregiver(data, known_patients=known)
        except ServiceError as exc:
            row.reasons.extend((_caregiver_column(key), why) for key, why in exc.fields.items())
            continue
        key = (clean["first_name"].lower(), clean["last_name"].lower(), clean["phone_digits"])
        who = f"{clean['first_name']} {clean['last_name']}" + (f" ({clean['phone']})" if clean["phone"] else "")
        if key in registered:
            row.reasons.append(("first_name", f"{who} is already registered; link them to more patients on their page."))
        elif key not in caregivers:
            caregivers[key] = (row.line, data)
        else:
            _merge(row, who, *caregivers[key], data)
    return [record for _line, record in caregivers.values()]


def _caregiver_data(values: dict[str, str]) -> dict[str, Any]:
    mrn, relationship = values.get("patient_mrn", ""), values.get("relationship", "")
    return {
        "first_name": values.get("first_name", ""), "last_name": values.get("last_name", ""),
        "phone": values.get("phone", ""), "email": values.get("email", ""),
        "links": [{"patient_mrn": mrn, "relationship": relationship}] if mrn or relationship else [],
    }


def _caregiver_column(error_key: str) -> str:
    """The CSV column a caregiver error points at ("links[0].relationship" -> "relationship")."""
    if error_key.startswith("links"):
        return "relationship" if error_key.endswith(".relationship") else "patient_mrn"
    return error_key


def _merge(row: _Row, who: str, first_line: int, record: dict[str, Any], data: dict[str, Any]) -> None:
    """Add a later row's patient link to the caregiver first seen on ``first_line``."""
    if data["email"] and record["email"] and data["email"].lower() != record["email"].lower():
        row.reasons.append(("email", f"{who} is on line {first_line} with a different e-mail."))
    linked = {link["patient_mrn"] for link in record["links"]}
    for link in data["links"]:
        if link["patient_mrn"] in linked:
            row.reasons.append(("patient_mrn", f"{who} is already linked to {link['patient_mrn']} on line {first_line}."))
    if not row.reasons:
        record["links"].extend(data["links"])
        record["email"] = record["email"] or data["email"]


def _registered_caregivers(digits: set[str]) -> set[tuple[str, str, str]]:
    rows = db.session.execute(
        sa.select(Caregiver.first_name, Caregiver.last_name, Caregiver.phone_digits)
        .where(Caregiver.phone_digits.in_(digits))
    )
    return {(r.first_name.lower(), r.last_name.lower(), r.phone_digits) for r in rows}
