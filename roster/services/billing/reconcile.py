"""Reconcile a session's stored lines and findings with a fresh evaluation (R14-R16).

Unexported lines follow the facts; an exported line is never edited: when it
no longer holds it turns ``void`` (to be carried by the next export) and a
corrected line is added.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Callable

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingLine, ClassSession, Finding, utcnow
from roster.services import audit
from roster.services.billing.facts import date_of_service

# What an exported line is compared on (S6): a difference voids it and adds a replacement.
CLAIM_IDENTITY = ("patient_mrn", "patient_last_name", "patient_first_name", "patient_dob", "payer",
                  "member_id")
LINE_CONTENT = ("date_of_service", "units", "modifiers", "place_of_service", "diagnosis_codes",
                "rendering_npi", "facilitator_id") + CLAIM_IDENTITY


def _content(line: BillingLine) -> dict:
    return {name: getattr(line, name) for name in LINE_CONTENT}


def _draft_content(session: ClassSession, draft: rules.LineDraft, dos: date,
                   patient: rules.PatientFacts) -> dict:
    return {
        "date_of_service": dos, "units": draft.units, "modifiers": list(draft.modifiers),
        "place_of_service": draft.place_of_service, "diagnosis_codes": list(draft.diagnosis_codes),
        "rendering_npi": draft.rendering_npi, "facilitator_id": session.actual_facilitator_id,
        "patient_mrn": patient.mrn, "patient_last_name": patient.last_name,
        "patient_first_name": patient.first_name, "patient_dob": patient.dob, "payer": patient.payer,
        "member_id": patient.member_id,
    }


def _line_picture(line: BillingLine | dict) -> dict:
    """What the audit keeps of a line: a stored line, or the row of one being added."""
    get = line.get if isinstance(line, dict) else lambda name: getattr(line, name)
    return {
        "patient_id": get("patient_id"), "cpt": get("cpt"), "status": get("status"), "units": get("units"),
        "modifiers": list(get("modifiers") or []), "place_of_service": get("place_of_service"),
        "diagnosis_codes": list(get("diagnosis_codes") or []), "rendering_npi": get("rendering_npi"),
        "date_of_service": get("date_of_service").isoformat(),
        "claim_identity": {name: _jsonable(get(name)) for name in CLAIM_IDENTITY},
    }


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


class Reconciliation:
    """The writes of many sessions' reconciliations, flushed together.

    Lines are updated, voided and removed for every session first and flushed once
    (the unit of work batches the statements); then the new lines go in with ONE
    INSERT … RETURNING (after the updates, so a voided line leaves the one-live-line
    index before its replacement enters); then the audit records (which need the new
    lines' ids) and the findings. Re-evaluating 50 sessions costs a handful of
    statements, not 50 rounds of them, and so does closing a session of 16 patients.
    """

    def __init__(self) -> None:
        self._audits: list[Callable[[], dict]] = []
        self._findings: list[tuple[ClassSession, rules.Evaluation, dict, list[Finding]]] = []
        self._new: list[dict] = []  # rows of the lines to add
        self._new_ids: dict[tuple[int, int, str], int] = {}  # (session, patient, code) -> id, once added

    def add(self, session: ClassSession, facts: rules.SessionFacts, evaluation: rules.Evaluation,
            lines: list[BillingLine], old_findings: list[Finding]) -> None:
        dos = date_of_service(session)
        live = {(l.patient_id, l.cpt): l for l in lines if l.status != LineStatus.VOID}
        kept: dict[tuple[int, str], BillingLine] = {}
        for draft in evaluation.lines:
            line = live.pop(draft.key, None)
            wanted = _draft_content(session, draft, dos, facts.patients[draft.patient_id])
            if line is not None and line.status == LineStatus.EXPORTED:
                if _content(line) == wanted and draft.status == LineStatus.READY:
                    kept[draft.key] = line
                    continue
                self._void(line)
                line = None
            if line is None:
                row = {"session_id": session.id, "patient_id": draft.patient_id, "cpt": draft.cpt,
                       "status": draft.status, **wanted}
                self._new.append(row)
                self._audits.append(lambda row=row: _event(
                    "line.create", self._new_ids[_row_key(row)], row["session_id"], None, _line_picture(row)))
                kept[draft.key] = row
                continue
            elif _content(line) != wanted or line.status != draft.status:
                before = _line_picture(line)
                for name, value in wanted.items():
                    setattr(line, name, value)
                line.status = draft.status
                self._audit("line.update", line, before)
            kept[draft.key] = line
        for line in live.values():  # lines the facts no longer support
            if line.status == LineStatus.EXPORTED:
                self._void(line)
                continue
            picture = _line_picture(line)
            self._audits.append(lambda line_id=line.id, sid=line.session_id, before=picture: _event(
                "line.delete", line_id, sid, before, None))
            for f in [f for f in old_findings if f.line_id == line.id]:
                old_findings.remove(f)
                db.session.delete(f)
            db.session.delete(line)
        self._findings.append((session, evaluation, kept, old_findings))

    def flush(self) -> None:
        db.session.flush()
        if self._new:  # one live line per (session, patient, code): the key finds each new id
            self._new_ids = {
                (sid, pid, cpt): line_id for line_id, sid, pid, cpt in db.session.execute(
                    sa.insert(BillingLine).returning(BillingLine.id, BillingLine.session_id,
                                                     BillingLine.patient_id, BillingLine.cpt),
                    self._new).tuples()
            }
        audit.record_all([event() for event in self._audits])
        new_findings = []
        for args in self._findings:
            new_findings += _replace_findings(*args, self._line_id)
        db.session.flush()
        if new_findings:
            db.session.execute(sa.insert(Finding), new_findings)

    def _line_id(self, line: BillingLine | dict) -> int:
        return self._new_ids[_row_key(line)] if isinstance(line, dict) else line.id

    def _void(self, line: BillingLine) -> None:
        before = _line_picture(line)
        line.status = LineStatus.VOID
        line.voided_at = utcnow()
        self._audit("line.void", line, before)

    def _audit(self, action: str, line: BillingLine, before: dict | None) -> None:
        """Recorded after the flush: a new line has its id then, and the picture shows what was stored."""
        self._audits.append(lambda: _event(action, line.id, line.session_id, before, _line_picture(line)))


def _row_key(row: dict) -> tuple[int, int, str]:
    return (row["session_id"], row["patient_id"], row["cpt"])


def _event(action: str, line_id: int, session_id: int, before: dict | None, after: dict | None) -> dict:
    return {"action": action, "entity_type": "billing_line", "entity_id": line_id, "session_id": session_id,
            "before": before, "after": after}


def _replace_findings(session: ClassSession, evaluation: rules.Evaluation,
                      lines: dict[tuple[int, str], BillingLine | dict], old: list[Finding],
                      line_id: Callable[[BillingLine | dict], int]) -> list[dict]:
    """Make the stored findings what the evaluation found: the ones no longer found are deleted, a
    finding found again stays as it is; returns the new ones (rows), inserted together by the caller."""
    wanted = []
    for draft in evaluation.lines:
        for f in draft.findings:
            wanted.append((line_id(lines[draft.key]), f.patient_id, f.code, f.severity, f.rule, f.message))
    on_lines = {(w[1], w[2]) for w in wanted}
    for f in evaluation.findings:
        if (f.patient_id, f.code) not in on_lines:
            wanted.append((None, f.patient_id, f.code, f.severity, f.rule, f.message))
    missing = Counter(wanted)
    for f in old:
        key = (f.line_id, f.patient_id, f.code, f.severity, f.rule, f.message)
        if missing[key]:
            missing[key] -= 1
        else:
            db.session.delete(f)
    rows = []
    for w in wanted:
        if missing[w] > 0:
            missing[w] -= 1
            rows.append({"session_id": session.id, "line_id": w[0], "patient_id": w[1], "code": w[2],
                         "severity": w[3], "rule": w[4], "message": w[5]})
    return rows
