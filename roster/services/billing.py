"""Billing: map sessions to rule facts, evaluate, reconcile lines, export rosters.

Lines are derived from the facts (R15): re-evaluating unchanged facts
leaves every line as it is. Unexported lines follow the facts; an exported
line is never edited: when it no longer holds it turns ``void`` (to be
carried by the next export) and a corrected line is added (R16).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain import billing as rules
from roster.domain.recurrence import utc_to_local
from roster.domain.roster_csv import RosterRow, iter_csv, row_from_json, row_to_json
from roster.extensions import db
from roster.models import (
    BillingLine,
    Caregiver,
    CaregiverLink,
    CheckIn,
    ClassSession,
    ExportBatch,
    Facilitator,
    Finding,
    Patient,
    PatientPresence,
    User,
    utcnow,
)
from roster.services import ServiceError, audit

LINE_CONTENT = ("date_of_service", "units", "modifiers", "place_of_service", "diagnosis_codes",
                "rendering_npi", "facilitator_id")
CSV_CHUNK = 500


# --------------------------------------------------------------------------- facts


def date_of_service(session: ClassSession) -> date:
    moment = session.actual_start or session.starts_at
    return utc_to_local(moment, session.group_class.timezone).date()


def _minutes(session: ClassSession) -> int | None:
    if session.actual_start is None or session.actual_end is None:
        return None
    return int((session.actual_end - session.actual_start).total_seconds() // 60)


def _patient_facts(p: Patient) -> rules.PatientFacts:
    return rules.PatientFacts(
        id=p.id, mrn=p.mrn, first_name=p.first_name, last_name=p.last_name,
        needs=frozenset(p.needs or []), diagnosis_codes=tuple(p.diagnosis_codes or []),
        consent_date=p.consent_date, consent_kind=p.consent_kind,
        poc_discipline=p.poc_discipline, poc_start=p.poc_start, poc_end=p.poc_end,
    )


def _facilitator_facts(f: Facilitator | None) -> rules.FacilitatorFacts | None:
    if f is None:
        return None
    return rules.FacilitatorFacts(id=f.id, name=f.name, discipline=f.discipline, npi=f.npi)


def load_facts(sessions: list[ClassSession]) -> dict[int, rules.SessionFacts]:
    """SessionFacts for many sessions in a fixed number of queries."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    checkins = db.session.execute(
        sa.select(CheckIn.session_id, CheckIn.caregiver_id, CheckIn.patient_id).where(CheckIn.session_id.in_(ids))
    ).all()
    present = db.session.execute(
        sa.select(PatientPresence.session_id, PatientPresence.patient_id).where(PatientPresence.session_id.in_(ids))
    ).all()
    patient_ids = {row.patient_id for row in checkins} | {row.patient_id for row in present}
    patients = {
        p.id: _patient_facts(p)
        for p in db.session.scalars(sa.select(Patient).where(Patient.id.in_(patient_ids)))
    } if patient_ids else {}
    by_session_checkins: dict[int, list] = defaultdict(list)
    for row in checkins:
        by_session_checkins[row.session_id].append(rules.CheckInFacts(row.caregiver_id, row.patient_id))
    by_session_present: dict[int, set] = defaultdict(set)
    for row in present:
        by_session_present[row.session_id].add(row.patient_id)
    facts = {}
    for s in sessions:
        cls = s.group_class
        ci = sorted(by_session_checkins[s.id], key=lambda c: (c.patient_id, c.caregiver_id))
        involved = {c.patient_id for c in ci} | by_session_present[s.id]
        facts[s.id] = rules.SessionFacts(
            session_id=s.id,
            status=s.status,
            date_of_service=date_of_service(s),
            minutes=_minutes(s),
            modality=cls.modality,
            place_of_service=cls.place_of_service,
            class_needs=frozenset(cls.needs or []),
            facilitator=_facilitator_facts(s.actual_facilitator),
            patients={pid: patients[pid] for pid in sorted(involved)},
            checkins=tuple(ci),
            present_patient_ids=frozenset(by_session_present[s.id]),
            sort_key=((s.actual_start or s.starts_at).isoformat(), s.id),
        )
    return facts


def _utc_midnight(day: date) -> datetime:
    """A UTC bound; callers widen ranges by a day or more to cover every time zone."""
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _session_query():
    return sa.select(ClassSession).options(
        selectinload(ClassSession.group_class), selectinload(ClassSession.actual_facilitator)
    )


# --------------------------------------------------------------------------- re-evaluation


def reevaluate_sessions(session_ids: Iterable[int]) -> None:
    """Re-derive the lines of these sessions and of every held session sharing a DOS (R9)."""
    ids = sorted(set(session_ids))
    if not ids:
        return
    db.session.flush()
    targets = list(db.session.scalars(_session_query().where(ClassSession.id.in_(ids))))
    days = {date_of_service(s) for s in targets if s.status == "held"}
    same_day: list[ClassSession] = []
    if days:
        lo = _utc_midnight(min(days) - timedelta(days=2))
        hi = _utc_midnight(max(days) + timedelta(days=2))
        candidates = db.session.scalars(
            _session_query().where(
                ClassSession.status == "held",
                sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at) >= lo,
                sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at) < hi,
            )
        )
        same_day = [s for s in candidates if date_of_service(s) in days]
    sessions = {s.id: s for s in targets + same_day}
    facts = load_facts(list(sessions.values()))
    evaluations: dict[int, rules.Evaluation] = {}
    by_day: dict[date, list[rules.SessionFacts]] = defaultdict(list)
    for sid, f in facts.items():
        if f.status == "held":
            by_day[f.date_of_service].append(f)
        else:
            evaluations[sid] = rules.evaluate_session(f)
    for day_facts in by_day.values():
        evaluations.update(rules.evaluate_day(day_facts))
    existing = _lock_lines(list(sessions))
    old_findings = _findings_by_session(list(sessions))
    for sid in sorted(sessions):
        _reconcile(sessions[sid], evaluations[sid], existing.get(sid, []), old_findings.get(sid, []))
    db.session.flush()


def _lock_lines(session_ids: list[int]) -> dict[int, list[BillingLine]]:
    stmt = sa.select(BillingLine).where(BillingLine.session_id.in_(session_ids)).order_by(BillingLine.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # an export running now must not be overwritten
    out: dict[int, list[BillingLine]] = defaultdict(list)
    for line in db.session.scalars(stmt):
        out[line.session_id].append(line)
    return out


def _findings_by_session(session_ids: list[int]) -> dict[int, list[Finding]]:
    out: dict[int, list[Finding]] = defaultdict(list)
    for f in db.session.scalars(sa.select(Finding).where(Finding.session_id.in_(session_ids)).order_by(Finding.id)):
        out[f.session_id].append(f)
    return out


def reevaluate_for_patients(patient_ids: Iterable[int]) -> None:
    ids = list(set(patient_ids))
    if not ids:
        return
    touched = sa.union(
        sa.select(CheckIn.session_id).where(CheckIn.patient_id.in_(ids)),
        sa.select(PatientPresence.session_id).where(PatientPresence.patient_id.in_(ids)),
        sa.select(BillingLine.session_id).where(BillingLine.patient_id.in_(ids), BillingLine.status != "void"),
    ).subquery()
    session_ids = db.session.scalars(
        sa.select(ClassSession.id).where(ClassSession.id.in_(sa.select(touched.c[0])), ClassSession.status == "held")
    ).all()
    reevaluate_sessions(session_ids)


def reevaluate_for_caregiver(caregiver_id: int) -> None:
    session_ids = db.session.scalars(
        sa.select(CheckIn.session_id).join(ClassSession, ClassSession.id == CheckIn.session_id)
        .where(CheckIn.caregiver_id == caregiver_id, ClassSession.status == "held").distinct()
    ).all()
    reevaluate_sessions(session_ids)


def reevaluate_for_facilitator(facilitator_id: int) -> None:
    session_ids = db.session.scalars(
        sa.select(ClassSession.id).where(
            ClassSession.actual_facilitator_id == facilitator_id, ClassSession.status == "held"
        )
    ).all()
    reevaluate_sessions(session_ids)


def _content(line: BillingLine) -> dict:
    return {name: getattr(line, name) for name in LINE_CONTENT}


def _draft_content(session: ClassSession, draft: rules.LineDraft, dos: date) -> dict:
    return {
        "date_of_service": dos, "units": draft.units, "modifiers": list(draft.modifiers),
        "place_of_service": draft.place_of_service, "diagnosis_codes": list(draft.diagnosis_codes),
        "rendering_npi": draft.rendering_npi, "facilitator_id": session.actual_facilitator_id,
    }


def _line_picture(line: BillingLine) -> dict:
    return {
        "patient_id": line.patient_id, "cpt": line.cpt, "status": line.status, "units": line.units,
        "modifiers": list(line.modifiers or []), "place_of_service": line.place_of_service,
        "diagnosis_codes": list(line.diagnosis_codes or []), "rendering_npi": line.rendering_npi,
        "date_of_service": line.date_of_service.isoformat(),
    }


def _reconcile(session: ClassSession, evaluation: rules.Evaluation, lines: list[BillingLine],
               old_findings: list[Finding]) -> None:
    dos = date_of_service(session)
    live = {(l.patient_id, l.cpt): l for l in lines if l.status != "void"}
    kept: dict[tuple[int, str], BillingLine] = {}
    for draft in evaluation.lines:
        line = live.pop(draft.key, None)
        wanted = _draft_content(session, draft, dos)
        if line is not None and line.status == "exported":
            if _content(line) == wanted and draft.status == rules.READY:
                kept[draft.key] = line
                continue
            _void(line)
            line = None
        if line is None:
            line = BillingLine(session_id=session.id, patient_id=draft.patient_id, cpt=draft.cpt,
                               status=draft.status, **wanted)
            db.session.add(line)
            db.session.flush()
            audit.record("line.create", "billing_line", line.id, session_id=session.id,
                         after=_line_picture(line))
        elif _content(line) != wanted or line.status != draft.status:
            before = _line_picture(line)
            for name, value in wanted.items():
                setattr(line, name, value)
            line.status = draft.status
            audit.record("line.update", "billing_line", line.id, session_id=session.id,
                         before=before, after=_line_picture(line))
        kept[draft.key] = line
    for line in live.values():  # lines the facts no longer support
        if line.status == "exported":
            _void(line)
        else:
            audit.record("line.delete", "billing_line", line.id, session_id=session.id,
                         before=_line_picture(line))
            for f in [f for f in old_findings if f.line_id == line.id]:
                old_findings.remove(f)
                db.session.delete(f)
            db.session.delete(line)
    db.session.flush()
    _replace_findings(session, evaluation, kept, old_findings)


def _void(line: BillingLine) -> None:
    before = _line_picture(line)
    line.status = "void"
    line.voided_at = utcnow()
    db.session.flush()
    audit.record("line.void", "billing_line", line.id, session_id=line.session_id,
                 before=before, after=_line_picture(line))


def _replace_findings(session: ClassSession, evaluation: rules.Evaluation,
                      lines: dict[tuple[int, str], BillingLine], old: list[Finding]) -> None:
    wanted = []
    for draft in evaluation.lines:
        for f in draft.findings:
            wanted.append((lines[draft.key].id, f.patient_id, f.code, f.severity, f.rule, f.message))
    on_lines = {(w[1], w[2]) for w in wanted}
    for f in evaluation.findings:
        if (f.patient_id, f.code) not in on_lines:
            wanted.append((None, f.patient_id, f.code, f.severity, f.rule, f.message))
    have = [(f.line_id, f.patient_id, f.code, f.severity, f.rule, f.message) for f in old]
    if sorted(have, key=repr) == sorted(wanted, key=repr):
        return
    for f in old:
        db.session.delete(f)
    db.session.flush()
    db.session.add_all(
        Finding(session_id=session.id, line_id=w[0], patient_id=w[1], code=w[2], severity=w[3],
                rule=w[4], message=w[5])
        for w in wanted
    )


# --------------------------------------------------------------------------- reading


def line_dict(line: BillingLine, mrn: str | None = None) -> dict:
    return {
        "id": line.id,
        "session_id": line.session_id,
        "date_of_service": line.date_of_service.isoformat(),
        "patient_mrn": mrn or line.patient.mrn,
        "cpt": line.cpt,
        "units": line.units,
        "modifiers": list(line.modifiers or []),
        "place_of_service": line.place_of_service,
        "diagnosis_codes": list(line.diagnosis_codes or []),
        "rendering_npi": line.rendering_npi,
        "status": line.status,
        "export_batch_id": line.export_batch_id,
        "void_batch_id": line.void_batch_id,
        "findings": [finding_dict(f, mrn or line.patient.mrn) for f in line.findings],
    }


def finding_dict(f: Finding, mrn: str | None) -> dict:
    return {"code": f.code, "severity": f.severity, "rule": f.rule, "patient_mrn": mrn, "message": f.message}


def _line_options():
    return (selectinload(BillingLine.patient), selectinload(BillingLine.findings))


def session_billing(session: ClassSession) -> dict:
    lines = db.session.scalars(
        sa.select(BillingLine).options(*_line_options())
        .where(BillingLine.session_id == session.id).order_by(BillingLine.id)
    ).all()
    findings = db.session.scalars(
        sa.select(Finding).options(selectinload(Finding.patient))
        .where(Finding.session_id == session.id).order_by(Finding.id)
    ).all()
    seen, top = set(), []
    for f in findings:
        key = (f.patient_id, f.code)
        if key not in seen:
            seen.add(key)
            top.append(finding_dict(f, f.patient.mrn if f.patient else None))
    return {
        "session_id": session.id,
        "status": session.status,
        "date_of_service": date_of_service(session).isoformat(),
        "lines": [line_dict(l) for l in lines],
        "findings": top,
    }


def lines_between(date_from: date, date_to: date, status: str | None = None) -> list[BillingLine]:
    stmt = (
        sa.select(BillingLine).options(*_line_options())
        .where(_in_range(date_from, date_to))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
    )
    if status:
        stmt = stmt.where(BillingLine.status == status)
    return list(db.session.scalars(stmt))


MAX_RANGE_DAYS = 366 * 3


def range_problems(date_from: date, date_to: date) -> dict[str, str]:
    """What is wrong with a from-to range of dates of service (empty when nothing)."""
    if date_from > date_to:
        return {"to": "The range must end on or after its start."}
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        return {"to": "Choose a range of at most three years."}
    return {}


def parse_range(data_from, data_to) -> tuple[date, date]:
    errors = {}
    out = []
    for key, value in (("from", data_from), ("to", data_to)):
        try:
            out.append(date.fromisoformat(value) if isinstance(value, str) else None)
        except ValueError:
            out.append(None)
        if out[-1] is None:
            errors[key] = "A date written YYYY-MM-DD is required."
    if not errors:
        errors = range_problems(out[0], out[1])
    if errors:
        raise ServiceError("The date range is not valid.", errors)
    return out[0], out[1]


# --------------------------------------------------------------------------- export


def export_range(date_from: date, date_to: date, user: User | None) -> ExportBatch:
    """Take every ready, unexported line of the range and every pending void, in one transaction.

    The UPDATEs only take rows still unexported, so two billers exporting at
    once never put a line in two batches (PostgreSQL re-checks the condition
    after waiting for the other transaction's row locks; SQLite has one writer).
    """
    batch = ExportBatch(date_from=date_from, date_to=date_to,
                        created_by_id=user.id if user is not None and user.is_authenticated else None)
    db.session.add(batch)
    db.session.flush()
    in_range = sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to)
    new_ids = db.session.scalars(
        sa.update(BillingLine)
        .where(in_range, BillingLine.status == "ready", BillingLine.export_batch_id.is_(None))
        .values(status="exported", export_batch_id=batch.id)
        .returning(BillingLine.id)
        .execution_options(synchronize_session=False)
    ).all()
    void_ids = db.session.scalars(
        sa.update(BillingLine)
        .where(in_range, BillingLine.status == "void", BillingLine.export_batch_id.is_not(None),
               BillingLine.void_batch_id.is_(None))
        .values(void_batch_id=batch.id)
        .returning(BillingLine.id)
        .execution_options(synchronize_session=False)
    ).all()
    for start in range(0, len(new_ids), CSV_CHUNK):  # keep each row as exported, a chunk at a time
        rows = _rows_for(sorted(new_ids)[start:start + CSV_CHUNK])
        db.session.execute(sa.update(BillingLine), [{"id": r.line_id, "exported_row": row_to_json(r)} for r in rows])
    batch.row_count = len(new_ids) + len(void_ids)
    db.session.flush()
    db.session.expire_all()
    audit.record(
        "export.create", "export_batch", batch.id,
        before={"lines": sorted(new_ids), "status": "ready", "voids_pending": sorted(void_ids)},
        after={"status": "exported", "rows": batch.row_count, "from": date_from.isoformat(),
               "to": date_to.isoformat()},
    )
    return batch


def export_history(limit: int = 100, offset: int = 0) -> list[ExportBatch]:
    """Export batches, newest first, with who made them."""
    return list(db.session.scalars(
        sa.select(ExportBatch).options(selectinload(ExportBatch.created_by))
        .order_by(ExportBatch.id.desc()).limit(limit).offset(offset)
    ))


@dataclass(frozen=True)
class ExportPage:
    batches: list[ExportBatch]
    page: int
    pages: int


def export_page(page: int, per_page: int) -> ExportPage:
    """One page of the export history, newest first (three queries)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ExportBatch))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    return ExportPage(export_history(per_page, (page - 1) * per_page), page, pages)


def iter_batch_csv(batch_id: int) -> Iterator[str]:
    """The batch's roster CSV, built a chunk of lines at a time."""
    return iter_csv(_batch_rows(batch_id))


def _batch_rows(batch_id: int) -> Iterator[RosterRow]:
    """The rows kept at export time: a later download, and a void row, repeat them unchanged."""
    stmt = (
        sa.select(BillingLine.exported_row, BillingLine.void_batch_id)
        .where(sa.or_(BillingLine.export_batch_id == batch_id, BillingLine.void_batch_id == batch_id))
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
        .execution_options(yield_per=CSV_CHUNK)
    )
    for row in db.session.execute(stmt):
        yield row_from_json(row.exported_row, "void" if row.void_batch_id == batch_id else "new")


def _rows_for(ids: list[int]) -> list[RosterRow]:
    """Roster rows for these lines from the current facts (at export time)."""
    lines = {
        l.id: l for l in db.session.scalars(
            sa.select(BillingLine).where(BillingLine.id.in_(ids)).options(
                selectinload(BillingLine.patient),
                selectinload(BillingLine.facilitator),
                selectinload(BillingLine.session).selectinload(ClassSession.group_class),
            )
        )
    }
    pairs = {(l.session_id, l.patient_id) for l in lines.values()}
    session_ids = {s for s, _ in pairs}
    caregivers: dict[tuple[int, int], list[tuple[str, str, str]]] = defaultdict(list)
    if session_ids:
        rows = db.session.execute(
            sa.select(CheckIn.session_id, CheckIn.patient_id, CheckIn.caregiver_id,
                      CaregiverLink.relationship)
            .join(CaregiverLink, sa.and_(CaregiverLink.caregiver_id == CheckIn.caregiver_id,
                                         CaregiverLink.patient_id == CheckIn.patient_id), isouter=True)
            .where(CheckIn.session_id.in_(session_ids))
            .order_by(CheckIn.caregiver_id)
        ).all()
        names = {c.id: c for c in db.session.scalars(
            sa.select(Caregiver).where(Caregiver.id.in_({r.caregiver_id for r in rows})))} if rows else {}
        for r in rows:
            if (r.session_id, r.patient_id) in pairs:
                c = names[r.caregiver_id]
                caregivers[(r.session_id, r.patient_id)].append((c.first_name, c.last_name, r.relationship or ""))
    out = []
    for line_id in ids:
        line = lines[line_id]
        s, p, f = line.session, line.patient, line.facilitator
        out.append(RosterRow(
            line_id=line.id, action="new", date_of_service=line.date_of_service, session_id=s.id,
            class_title=s.group_class.title, patient_mrn=p.mrn, patient_last_name=p.last_name,
            patient_first_name=p.first_name, patient_dob=p.dob, payer=p.payer, member_id=p.member_id,
            cpt=line.cpt, modifiers=tuple(line.modifiers or ()), units=line.units,
            diagnosis_codes=tuple(line.diagnosis_codes or ()), place_of_service=line.place_of_service,
            rendering_npi=line.rendering_npi, rendering_name=f.name if f else None,
            rendering_discipline=f.discipline if f else None,
            caregivers=tuple(caregivers[(s.id, p.id)]), minutes=_minutes(s),
        ))
    return out


# --------------------------------------------------------------------------- review

LINE_STATUS_ORDER = ("held", "ready", "exported", "void")
NO_FACILITATOR_LABEL = "No facilitator recorded"


@dataclass(frozen=True)
class CodeTotal:
    cpt: str
    lines: int
    units: int


@dataclass(frozen=True)
class FacilitatorTotal:
    name: str
    lines: int
    units: int


@dataclass(frozen=True)
class SessionFinding:
    """A finding that sits on no line (patient present, under minimum time, ...), with its session."""

    finding: Finding
    session: ClassSession
    date_of_service: date


@dataclass(frozen=True)
class Review:
    """One page of a range's lines, the range's counts and totals (void lines left out), and its
    session findings that have no line."""

    lines: list[BillingLine]
    counts: dict[str, int]
    by_code: list[CodeTotal]
    by_facilitator: list[FacilitatorTotal]
    session_findings: list[SessionFinding]
    page: int
    pages: int


def _in_range(date_from: date, date_to: date):
    return sa.and_(BillingLine.date_of_service >= date_from, BillingLine.date_of_service <= date_to)


def review(date_from: date, date_to: date, status: str | None, page: int = 1, per_page: int = 100) -> Review:
    """The biller's review of a range, in a fixed number of queries whatever its size."""
    in_range = _in_range(date_from, date_to)
    counts = dict.fromkeys(LINE_STATUS_ORDER, 0)
    counts.update(db.session.execute(
        sa.select(BillingLine.status, sa.func.count()).where(in_range).group_by(BillingLine.status)
    ).tuples().all())
    billable = sa.and_(in_range, BillingLine.status != "void")
    by_code = [
        CodeTotal(cpt, n, int(units or 0)) for cpt, n, units in db.session.execute(
            sa.select(BillingLine.cpt, sa.func.count(), sa.func.sum(BillingLine.units))
            .where(billable).group_by(BillingLine.cpt).order_by(BillingLine.cpt)
        )
    ]
    by_facilitator = [
        FacilitatorTotal(name or NO_FACILITATOR_LABEL, n, int(units or 0)) for _, name, n, units in db.session.execute(
            sa.select(Facilitator.id, Facilitator.name, sa.func.count(BillingLine.id), sa.func.sum(BillingLine.units))
            .select_from(BillingLine).outerjoin(Facilitator, Facilitator.id == BillingLine.facilitator_id)
            .where(billable).group_by(Facilitator.id, Facilitator.name).order_by(Facilitator.name)
        )
    ]
    total = counts[status] if status else sum(counts.values())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    stmt = (
        sa.select(BillingLine)
        .options(selectinload(BillingLine.patient), selectinload(BillingLine.findings),
                 selectinload(BillingLine.session).selectinload(ClassSession.group_class))
        .where(in_range)
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
        .limit(per_page).offset((page - 1) * per_page)
    )
    if status:
        stmt = stmt.where(BillingLine.status == status)
    return Review(list(db.session.scalars(stmt)), counts, by_code, by_facilitator,
                  session_findings_without_lines(date_from, date_to), page, pages)


def session_findings_without_lines(date_from: date, date_to: date) -> list[SessionFinding]:
    """Line-less findings of the sessions whose date of service is in the range (two queries and loads)."""
    lo = _utc_midnight(date_from - timedelta(days=1))
    hi = _utc_midnight(date_to + timedelta(days=2))
    moment = sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at)
    rows = db.session.execute(
        sa.select(Finding, ClassSession)
        .join(ClassSession, ClassSession.id == Finding.session_id)
        .options(selectinload(Finding.patient), selectinload(ClassSession.group_class))
        .where(Finding.line_id.is_(None), moment >= lo, moment < hi)
        .order_by(moment, ClassSession.id, Finding.id)
    ).tuples()
    out = []
    for finding, session in rows:
        dos = date_of_service(session)
        if date_from <= dos <= date_to:
            out.append(SessionFinding(finding, session, dos))
    return out
