"""Reconcile a session's stored lines and findings with a fresh evaluation (R14-R16).

Unexported lines follow the facts; an exported line is never edited: when it
no longer holds it turns ``void`` (to be carried by the next export) and a
corrected line is added.

Lines and findings are read and written as rows (Core), not ORM objects: a consent
change reconciles some 300 lines of 50 sessions of which only that patient's change.
Objects of them the session had loaded are expired afterwards, so nothing stale is read.
"""

from __future__ import annotations

from collections import Counter, defaultdict, namedtuple
from datetime import date
from typing import Callable, Iterable

import sqlalchemy as sa

from roster.domain import billing as rules
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingLine, Finding, utcnow
from roster.services import audit
from roster.services.billing.facts import HeldSession
from roster.services.billing.reading import SessionAnswer
from roster.services.billing.statements import kind, one_of, per_kind, run
from roster.services.billing import day_totals, writes

# What an exported line is compared on (S6): a difference voids it and adds a replacement.
CLAIM_IDENTITY = ("patient_mrn", "patient_last_name", "patient_first_name", "patient_dob", "payer",
                  "member_id")
LINE_CONTENT = ("date_of_service", "units", "modifiers", "place_of_service", "diagnosis_codes",
                "rendering_npi", "facilitator_id") + CLAIM_IDENTITY
assert writes.UPDATED == ("status",) + LINE_CONTENT  # what an update writes
assert writes.NEW_LINE == ("session_id", "patient_id", "cpt", "status") + LINE_CONTENT  # and a new line


LINE_COLUMNS = ("id", "session_id", "patient_id", "cpt", "status") + LINE_CONTENT + ("export_batch_id", "void_batch_id")
FINDING_COLUMNS = ("id", "session_id", "line_id", "patient_id", "code", "severity", "rule", "message",
                   "date_of_service")


def stored_rows(kind: str, some: bool, when: sa.ColumnElement[bool] | None = None
                ) -> tuple[sa.Select | sa.CTE, sa.Select]:
    """The statements reading some sessions' stored lines (void ones too) and findings (parameter
    ``sessions``; ``some``: of the patients ``patients`` only), in id order. On PostgreSQL the lines are
    locked as they are read (an export running now must not be overwritten): a CTE, to be read with
    others in one statement (`billing.stored`); ``when``: locked and read only when this holds."""
    def build(table: sa.Table, columns: tuple[str, ...]) -> sa.Select:
        stmt = (sa.select(*(table.c[name] for name in columns))
                .where(one_of(kind, table.c.session_id, "sessions")).order_by(table.c.id))
        return stmt.where(one_of(kind, table.c.patient_id, "patients")) if some else stmt
    lines = build(BillingLine.__table__, LINE_COLUMNS)
    if when is not None:
        lines = lines.where(when)
    if kind == "postgresql":
        lines = lines.with_for_update().cte("locked_lines")
    return lines, build(Finding.__table__, FINDING_COLUMNS)


def _row_type(name: str, fields: tuple[str, ...]) -> type:
    """A stored row read positionally: its columns by name, and ``_mapping`` as an SQLAlchemy row has it."""
    base = namedtuple(name, fields)
    return type(name, (base,), {"__slots__": (), "_mapping": property(base._asdict)})


LineRow = _row_type("LineRow", LINE_COLUMNS)
FindingRow = _row_type("FindingRow", FINDING_COLUMNS)


def by_session(rows: list) -> dict[int, list]:
    """Rows (`LineRow`, `FindingRow`) by session, each session's in id order."""
    out: dict[int, list] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.id):
        out[row.session_id].append(row)
    return out


def _content(line: sa.Row) -> dict:
    return {name: getattr(line, name) for name in LINE_CONTENT}


def _draft_content(session: HeldSession, draft: rules.LineDraft, dos: date,
                   patient: rules.PatientFacts) -> dict:
    return {
        "date_of_service": dos, "units": draft.units, "modifiers": list(draft.modifiers),
        "place_of_service": draft.place_of_service, "diagnosis_codes": list(draft.diagnosis_codes),
        "rendering_npi": draft.rendering_npi, "facilitator_id": session.actual_facilitator_id,
        "patient_mrn": patient.mrn, "patient_last_name": patient.last_name,
        "patient_first_name": patient.first_name, "patient_dob": patient.dob, "payer": patient.payer,
        "member_id": patient.member_id,
    }


def _line_picture(line: sa.Row | dict) -> dict:
    """What the audit keeps of a line: a stored one, or as it is written."""
    get = line if isinstance(line, dict) else line._mapping
    return {
        "patient_id": get["patient_id"], "cpt": get["cpt"], "status": get["status"], "units": get["units"],
        "modifiers": list(get["modifiers"] or []), "place_of_service": get["place_of_service"],
        "diagnosis_codes": list(get["diagnosis_codes"] or []), "rendering_npi": get["rendering_npi"],
        "date_of_service": get["date_of_service"].isoformat(),
        "claim_identity": {name: _jsonable(get[name]) for name in CLAIM_IDENTITY},
    }


def _jsonable(value):
    return value.isoformat() if isinstance(value, date) else value


_LINE = BillingLine.__table__
_VOID = per_kind(lambda kind: sa.update(_LINE).where(one_of(kind, _LINE.c.id, "ids"))
                 .values(status=LineStatus.VOID, voided_at=sa.bindparam("at")))
_UPDATE = sa.update(_LINE).where(_LINE.c.id == sa.bindparam("line_id"))  # executemany: the SET from the rows
_DELETE_LINES = per_kind(lambda kind: sa.delete(_LINE).where(one_of(kind, _LINE.c.id, "ids")))
_NEW_LINE_KEYS = (_LINE.c.id, _LINE.c.session_id, _LINE.c.patient_id, _LINE.c.cpt)
_INSERT_LINES = {"sqlite": sa.insert(_LINE).returning(*_NEW_LINE_KEYS)}  # PostgreSQL's is part of `writes`
_INSERT_FINDINGS = sa.insert(Finding.__table__)  # SQLite's (PostgreSQL's is part of `writes`)
_DELETE_FINDINGS = per_kind(lambda kind: sa.delete(Finding.__table__).where(one_of(kind, Finding.__table__.c.id, "ids")))


class Reconciliation:
    """The writes of many sessions' reconciliations, made together.

    Every session is compared first; then the writes go out a statement per kind, whatever
    the number of sessions: voids, updates (one executemany), deletes, the new lines (ONE
    INSERT … RETURNING, after the voids, so a voided line leaves the one-live-line index
    before its replacement enters), the audit records (which need the new lines' ids), and
    the findings (stale ones deleted, new ones inserted). Re-evaluating 50 sessions costs a
    handful of statements, not 50 rounds of them, and so does closing a session of 16 patients.
    On PostgreSQL, once the voids and deletes are done, the new lines go in the one statement
    that writes the rest (`writes`): their audit records and findings name them by their key
    (`writes.NewLine`), which that statement turns into their ids.
    """

    def __init__(self, events: Iterable[dict] = (), answer: SessionAnswer | None = None) -> None:
        """``events``: audit records (`audit.record_all`'s dicts) to write first, with the lines' own;
        ``answer``: a session whose billing, as written, is handed to it (`SessionAnswer.fill`)."""
        self._answer = answer
        self._answered: tuple | None = None  # what `add` did to that session's lines
        self._audits: list[Callable[[], dict]] = [lambda event=event: event for event in events]
        self._findings: list[tuple[HeldSession, date, rules.Evaluation, dict, list[sa.Row]]] = []
        self._voids: list[int] = []
        self._updates: list[dict] = []
        self._deletes: list[int] = []
        self._stale_findings: list[int] = []
        self._new: list[dict] = []  # rows of the lines to add
        self._new_ids: dict[tuple[int, int, str], int] = {}  # (session, patient, code) -> id, once added
        self._sums = day_totals.Moves()  # the review's sums by day (issue 12), written with the lines

    def add(self, session: HeldSession, facts: rules.SessionFacts, evaluation: rules.Evaluation,
            lines: list[sa.Row], old_findings: list[sa.Row]) -> None:
        if self._answer is not None and session.id == self._answer.session.id:
            done = (len(self._voids), len(self._updates), len(self._deletes), len(self._new))
            self._add(session, facts, evaluation, lines, old_findings)
            self._answered = (lines, *done, {pid: p.mrn for pid, p in facts.patients.items()})
        else:
            self._add(session, facts, evaluation, lines, old_findings)

    def _add(self, session: HeldSession, facts: rules.SessionFacts, evaluation: rules.Evaluation,
             lines: list[sa.Row], old_findings: list[sa.Row]) -> None:
        dos = facts.date_of_service
        live = {(l.patient_id, l.cpt): l for l in lines if l.status != LineStatus.VOID}
        kept: dict[tuple[int, str], sa.Row | dict] = {}
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
                self._sums.add(row, 1)
                self._audits.append(lambda row=row: _event(
                    "line.create", self._line_id(row), row["session_id"], None, _line_picture(row)))
                kept[draft.key] = row
                continue
            if _content(line) != wanted or line.status != draft.status:
                after = dict(line._mapping) | wanted | {"status": draft.status}
                self._updates.append({"line_id": line.id, "status": draft.status, **wanted})
                self._sums.move(line, after)
                self._audits.append(lambda line=line, after=after: _event(
                    "line.update", line.id, line.session_id, _line_picture(line), _line_picture(after)))
            kept[draft.key] = line
        for line in live.values():  # lines the facts no longer support
            if line.status == LineStatus.EXPORTED:
                self._void(line)
                continue
            self._audits.append(lambda line=line: _event(
                "line.delete", line.id, line.session_id, _line_picture(line), None))
            self._stale_findings += [f.id for f in old_findings if f.line_id == line.id]
            old_findings = [f for f in old_findings if f.line_id != line.id]
            self._deletes.append(line.id)
            self._sums.add(line, -1)
        self._findings.append((session, dos, evaluation, kept, old_findings))

    def flush(self) -> None:
        db.session.flush()
        execute = db.session.connection().execute
        if self._voids:
            run(_VOID, {"ids": self._voids, "at": utcnow()})
        pg = kind() == "postgresql"
        if self._updates and not pg:  # in-process: one prepared statement run per line is cheap
            execute(_UPDATE, self._updates)
        if self._deletes:
            self._delete_findings(self._stale_findings)
            run(_DELETE_LINES, {"ids": self._deletes})
        if self._new and not pg:  # one live line per (session, patient, code): the key finds each new id
            added = execute(_INSERT_LINES["sqlite"], self._new)
            self._new_ids = {(sid, pid, cpt): line_id for line_id, sid, pid, cpt in added.tuples().all()}
        events = [event() for event in self._audits]
        stale, new_findings = [], []
        answered = None
        for args in self._findings:
            gone, new = _replace_findings(*args, self._line_id)
            stale += gone
            new_findings += new
            if self._answered is not None and args[0].id == self._answer.session.id:
                answered = ([f for f in args[4] if f.id not in gone], new)
        if pg:  # the new lines and the rest in one statement, the shared day sums with it (writes.py)
            added = writes.write_all(db.session.connection(), new=self._new, updates=self._updates,
                                     sums=self._sums.rows(), events=[writes.keyed(e, "entity_id") for e in events],
                                     stale=stale, findings=[writes.keyed(f, "line_id") for f in new_findings])
            self._new_ids = {(sid, pid, cpt): line_id for line_id, sid, pid, cpt in added}
        else:
            audit.record_all(events)
            self._delete_findings(stale)
            if new_findings:
                execute(_INSERT_FINDINGS, new_findings)
            self._sums.apply()  # the shared sums last
        _forget_loaded({args[0].id for args in self._findings}, set(self._deletes))
        if answered is not None:
            self._fill_answer(*answered)

    def _fill_answer(self, kept_findings: list[sa.Row], new_findings: list[dict]) -> None:
        """Hand the answered session's lines and findings, as now written, to its `SessionAnswer`: its stored
        lines less those deleted, voided or updated as written, then the new ones (ids above every stored
        one); the findings kept, then the new ones (inserted in this order, after every stored one)."""
        lines, voids, updates, deletes, new, mrns = self._answered
        voided, deleted = set(self._voids[voids:]), set(self._deletes[deletes:])
        updated = {row["line_id"]: row for row in self._updates[updates:]}
        out = []
        for line in lines:
            if line.id in deleted:
                continue
            now = updated.get(line.id, line._mapping)
            out.append((line.id, line.session_id, now["date_of_service"], line.cpt, now["units"], now["modifiers"],
                        now["place_of_service"], now["diagnosis_codes"], now["rendering_npi"],
                        LineStatus.VOID if line.id in voided else now["status"], line.export_batch_id,
                        line.void_batch_id, line.patient_id))
        for row in self._new[new:]:
            out.append((self._new_ids[_row_key(row)], row["session_id"], row["date_of_service"], row["cpt"], row["units"],
                        row["modifiers"], row["place_of_service"], row["diagnosis_codes"], row["rendering_npi"],
                        row["status"], None, None, row["patient_id"]))
        findings = [(f.line_id, f.patient_id, f.code, f.severity, f.rule, f.message, f.patient_id) for f in kept_findings]
        for f in new_findings:
            line_id = f["line_id"]
            if isinstance(line_id, writes.NewLine):
                line_id = self._new_ids[tuple(line_id)]
            findings.append((line_id, f["patient_id"], f["code"], f["severity"], f["rule"], f["message"], f["patient_id"]))
        self._answer.fill(sorted(out, key=lambda row: row[0]), findings, mrns)

    def _delete_findings(self, ids: list[int]) -> None:
        if ids:
            run(_DELETE_FINDINGS, {"ids": ids})

    def _line_id(self, line: sa.Row | dict) -> int | writes.NewLine:
        """A line's id; a new line's on PostgreSQL is known only inside the statement that adds it: its key
        (`writes.NewLine`), which that statement turns into the id."""
        if not isinstance(line, dict):
            return line.id
        key = _row_key(line)
        return self._new_ids[key] if key in self._new_ids else writes.NewLine(*key)

    def _void(self, line: sa.Row) -> None:
        self._voids.append(line.id)
        after = dict(line._mapping) | {"status": LineStatus.VOID}
        self._sums.move(line, after)
        self._audits.append(lambda: _event("line.void", line.id, line.session_id, _line_picture(line),
                                           _line_picture(after)))


def _forget_loaded(session_ids: set[int], deleted: set[int]) -> None:
    """Lines and findings of these sessions the ORM had loaded are read again when next used
    (the writes above went round it); deleted lines leave the session."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (BillingLine, Finding)):
            state = sa.inspect(obj)
            session_id = state.dict.get("session_id")  # not there: expired already
            if isinstance(obj, BillingLine) and state.identity and state.identity[0] in deleted:
                db.session.expunge(obj)
            elif session_id is None or session_id in session_ids:
                db.session.expire(obj)


def _row_key(row: dict) -> tuple[int, int, str]:
    return (row["session_id"], row["patient_id"], row["cpt"])


def _event(action: str, line_id: int, session_id: int, before: dict | None, after: dict | None) -> dict:
    return {"action": action, "entity_type": "billing_line", "entity_id": line_id, "session_id": session_id,
            "before": before, "after": after}


def _replace_findings(session: HeldSession, dos: date, evaluation: rules.Evaluation,
                      lines: dict[tuple[int, str], sa.Row | dict], old: list[sa.Row],
                      line_id: Callable[[sa.Row | dict], int]) -> tuple[list[int], list[dict]]:
    """What makes the stored findings what the evaluation found: the ids of those no longer found
    (a finding found again on the same date of service stays as it is), and the rows of the new ones."""
    wanted = []
    for draft in evaluation.lines:
        for f in draft.findings:
            wanted.append((line_id(lines[draft.key]), f.patient_id, f.code, f.severity, f.rule, f.message, dos))
    on_lines = {(w[1], w[2]) for w in wanted}
    for f in evaluation.findings:
        if (f.patient_id, f.code) not in on_lines:
            wanted.append((None, f.patient_id, f.code, f.severity, f.rule, f.message, dos))
    missing = Counter(wanted)
    stale = []
    for f in old:
        key = (f.line_id, f.patient_id, f.code, f.severity, f.rule, f.message, f.date_of_service)
        if missing[key]:
            missing[key] -= 1
        else:
            stale.append(f.id)
    rows = []
    for w in wanted:
        if missing[w] > 0:
            missing[w] -= 1
            rows.append({"session_id": session.id, "line_id": w[0], "patient_id": w[1], "code": w[2],
                         "severity": w[3], "rule": w[4], "message": w[5], "date_of_service": w[6]})
    return stale, rows
