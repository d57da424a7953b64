"""The biller's review of a range: a page of lines, counts, totals and line-less findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, load_only, selectinload

from roster.domain.families import FAMILIES
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.domain.recurrence import utc_to_local
from roster.models import BillingLine, ClassSession, Facilitator, Finding, GroupClass, Patient
from roster.services.billing import day_totals
from roster.services.billing.day_totals import NARROWINGS
from roster.services.billing.facts import _utc_midnight, date_of_service
from roster.services.paging import clamp, page_count

LINE_STATUS_ORDER = (LineStatus.HELD, LineStatus.READY, LineStatus.EXPORTED, LineStatus.VOID)
NO_FACILITATOR_LABEL = "No facilitator recorded"


@dataclass(frozen=True)
class Total:
    """The range's billable lines and units under one code (``name`` is the CPT) or one facilitator."""

    name: str
    lines: int
    units: int
    facilitator_id: int | None = None  # by facilitator: None for lines with no facilitator recorded


@dataclass(frozen=True)
class FamilyTotal:
    """One code family's totals, every code of the family listed (0 when it has no line)."""

    name: str
    label: str
    codes: list[Total]

    @property
    def lines(self) -> int:
        return sum(c.lines for c in self.codes)

    @property
    def units(self) -> int:
        return sum(c.units for c in self.codes)


def family_totals(by_code: list[Total]) -> list[FamilyTotal]:
    """The code totals side by side by family (R17-R21), in the families' order."""
    found = {t.name: t for t in by_code}
    return [
        FamilyTotal(fam.name, fam.label, [found.get(cpt, Total(cpt, 0, 0)) for cpt in fam.codes])
        for fam in FAMILIES.values()
    ]


@dataclass(frozen=True)
class SessionFinding:
    """A finding that sits on no line (patient present, under minimum time, ...), with its session
    (and the session's class)."""

    finding: Finding
    session: ClassSession

    @property
    def date_of_service(self) -> date:
        return date_of_service(self.session)


@dataclass(frozen=True)
class Review:
    """One page of a range's lines, the range's counts and totals (void lines left out), and its
    session findings that have no line."""

    lines: list[ReviewLine]
    counts: dict[str, int]
    by_code: list[Total]
    by_facilitator: list[Total]
    session_findings: list[SessionFinding]  # one page of them (``findings_page`` of ``findings_pages``)
    page: int
    pages: int
    findings_page: int = 1
    findings_pages: int = 1
    findings_total: int = 0

    @property
    def by_family(self) -> list[FamilyTotal]:
        return family_totals(self.by_code)


FINDINGS_PER_PAGE = 50


@dataclass(frozen=True)
class ReviewLine:
    """A line as the review lists it: its coding and status, its class's title, its patient's name and
    MRN, and its findings (rows with ``code``, ``severity``, ``message``, ``session_id``, ``patient_id``)."""

    id: int
    session_id: int
    patient_id: int
    date_of_service: date
    cpt: str
    units: int
    modifiers: list
    place_of_service: str
    diagnosis_codes: list
    rendering_npi: str | None
    facilitator_id: int | None
    status: str
    class_title: str
    mrn: str
    first_name: str
    last_name: str
    findings: list = field(default_factory=list)


# what the page shows of a line, its patient and its class, read as plain rows in one statement (issue 12:
# loading 100 lines as ORM objects with their patients, sessions, classes and findings took 4 statements
# and most of the page's time)
_LINE_COLUMNS = (BillingLine.id, BillingLine.session_id, BillingLine.patient_id, BillingLine.date_of_service,
                 BillingLine.cpt, BillingLine.units, BillingLine.modifiers, BillingLine.place_of_service,
                 BillingLine.diagnosis_codes, BillingLine.rendering_npi, BillingLine.facilitator_id,
                 BillingLine.status)
_LINE_ORDER = (BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)


def review(date_from: date, date_to: date, status: str | None, page: int = 1, per_page: int = 100,
           findings_page: int = 1, cpt: str | None = None, facilitator_id: int | None = None,
           patient_id: int | None = None) -> Review:
    """The biller's review of a range, in a fixed number of queries whatever its size.

    ``cpt``, ``facilitator_id`` (0: none recorded) and ``patient_id`` narrow the lines, counts and totals.
    """
    narrowing, params = _narrowing(cpt, facilitator_id, patient_id)
    params.update(date_from=date_from, date_to=date_to)
    counts, by_code, by_facilitator = _totals(_totals_statement(narrowing), params)
    total = counts[status] if status else sum(counts.values())
    pages = page_count(total, per_page)
    page = clamp(page, pages)
    lines = _line_page(_line_page_statement(narrowing, bool(status)),
                       dict(params, status=status, limit=per_page, offset=(page - 1) * per_page))
    ids = _line_less_finding_ids(date_from, date_to)
    findings_pages = max(1, -(-len(ids) // FINDINGS_PER_PAGE))
    findings_page = min(max(findings_page, 1), findings_pages)
    start = (findings_page - 1) * FINDINGS_PER_PAGE
    return Review(lines, counts, by_code, by_facilitator,
                  _session_findings(ids[start:start + FINDINGS_PER_PAGE]), page, pages,
                  findings_page, findings_pages, len(ids))


# The review's statements are built once and run with new parameters: building a statement and its
# cache key cost SQLAlchemy about as much as SQLite took to run it (issue 12).

def _narrowing(cpt: str | None, facilitator_id: int | None, patient_id: int | None) -> tuple[tuple, dict]:
    """Which narrowing filters apply (the key of the statements built for them) and their parameters."""
    key, params = [], {}
    if cpt:
        key.append("cpt")
        params["cpt"] = cpt
    if facilitator_id == 0:
        key.append("no_facilitator")
    elif facilitator_id is not None:
        key.append("facilitator")
        params["facilitator_id"] = facilitator_id
    if patient_id is not None:
        key.append("patient")
        params["patient_id"] = patient_id
    return tuple(key), params


def _where(narrowing: tuple) -> sa.ColumnElement[bool]:
    line = BillingLine
    conditions = [line.date_of_service >= sa.bindparam("date_from"), line.date_of_service <= sa.bindparam("date_to")]
    if "cpt" in narrowing:
        conditions.append(line.cpt == sa.bindparam("cpt"))
    if "no_facilitator" in narrowing:
        conditions.append(line.facilitator_id.is_(None))
    if "facilitator" in narrowing:
        conditions.append(line.facilitator_id == sa.bindparam("facilitator_id"))
    if "patient" in narrowing:
        conditions.append(line.patient_id == sa.bindparam("patient_id"))
    return sa.and_(*conditions)


@cache
def _line_page_statement(narrowing: tuple, by_status: bool):
    """One page of lines with their class titles and patients."""
    stmt = sa.select(*_LINE_COLUMNS).where(_where(narrowing)).order_by(*_LINE_ORDER)
    if by_status:
        stmt = stmt.where(BillingLine.status == sa.bindparam("status"))
    page = stmt.limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer)).subquery()
    return (
        sa.select(page, GroupClass.title, Patient.mrn, Patient.first_name, Patient.last_name)
        .join(Patient, Patient.id == page.c.patient_id)
        .join(ClassSession, ClassSession.id == page.c.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .order_by(page.c.date_of_service, page.c.session_id, page.c.id)
    )


_LINE_FINDINGS = (
    sa.select(Finding.id, Finding.line_id, Finding.session_id, Finding.patient_id, Finding.code, Finding.severity,
              Finding.message)
    .where(Finding.line_id.in_(sa.bindparam("line_ids", expanding=True))).order_by(Finding.id)
)


def _line_page(stmt, params: dict) -> list[ReviewLine]:
    """The page's lines with their class titles and patients (one statement), and their findings (one)."""
    lines = [ReviewLine(*row) for row in db.session.execute(stmt, params)]
    if lines:
        by_id = {line.id: line for line in lines}
        for finding in db.session.execute(_LINE_FINDINGS, {"line_ids": list(by_id)}):
            by_id[finding.line_id].findings.append(finding)
    return lines


def _totals_statement(narrowing: tuple):
    """The range's sums kept by day (``day_totals``); one patient's lines are summed from the lines."""
    if NARROWINGS.issuperset(narrowing):
        return day_totals.totals_statement(narrowing)
    return _line_totals_statement(narrowing)


@cache
def _line_totals_statement(narrowing: tuple):
    """The range's lines summed by day in the covering index's own order, then by status, code and
    facilitator (see ``_totals``)."""
    by_day = (
        sa.select(BillingLine.status, BillingLine.cpt, BillingLine.facilitator_id,
                  sa.func.count().label("n"), sa.func.sum(BillingLine.units).label("units"))
        .where(_where(narrowing))
        .group_by(BillingLine.date_of_service, BillingLine.status, BillingLine.cpt, BillingLine.facilitator_id)
        .cte("by_day").prefix_with("MATERIALIZED")
    )
    agg = (
        sa.select(by_day.c.status, by_day.c.cpt, by_day.c.facilitator_id,
                  sa.func.sum(by_day.c.n).label("n"), sa.func.sum(by_day.c.units).label("units"))
        .group_by(by_day.c.status, by_day.c.cpt, by_day.c.facilitator_id).subquery()
    )
    return sa.select(agg, Facilitator.name).outerjoin(Facilitator, Facilitator.id == agg.c.facilitator_id)


def _totals(stmt, params: dict) -> tuple[dict[str, int], list[Total], list[Total]]:
    """Counts by status and billable totals by code and by facilitator: ONE query, folded here.

    It reads the sums kept by day (a year: ~8,000 rows rather than 57,000 lines). Narrowed to a patient
    it reads the lines (an index-only scan of ``ix_billing_line_totals``), first summed by day in the
    index's own order (a streaming aggregate, a few rows a day), then by status, code and facilitator:
    grouping a year's 57,000 lines straight into a temporary B-tree took SQLite 2.5 times as long.
    """
    rows = db.session.execute(stmt, params).all()
    counts = dict.fromkeys(LINE_STATUS_ORDER, 0)
    codes: dict[str, list[int]] = {}
    people: dict[int | None, list] = {}
    for r in rows:
        n, units = int(r.n), int(r.units or 0)
        counts[r.status] = counts.get(r.status, 0) + n
        if r.status == LineStatus.VOID:
            continue
        code = codes.setdefault(r.cpt, [0, 0])
        code[0] += n
        code[1] += units
        person = people.setdefault(r.facilitator_id, [r.name, 0, 0])
        person[1] += n
        person[2] += units
    by_code = [Total(cpt, n, units) for cpt, (n, units) in sorted(codes.items())]
    by_facilitator = [
        Total(name or NO_FACILITATOR_LABEL, n, units, fid)
        for fid, (name, n, units) in sorted(people.items(), key=lambda item: (item[1][0] is None, item[1][0] or ""))
    ]
    return counts, by_code, by_facilitator


def _line_less_finding_ids(date_from: date, date_to: date) -> list[int]:
    """Ids of the range's line-less findings, in order (session moment, session, finding), in two light
    queries.

    A session's date of service is its local date in the zone it is billed in (as held, S8, else its
    class's). Only a session within a day of either end of the range needs that zone to tell (every
    zone is less than a day from UTC); the sessions in between are in the range whatever their zone and
    are read as bare ids, not converted one by one (a year has ~1,300 such findings).
    """
    lo, hi = _utc_midnight(date_from - timedelta(days=1)), _utc_midnight(date_to + timedelta(days=2))
    sure_lo, sure_hi = _utc_midnight(date_from + timedelta(days=1)), _utc_midnight(date_to)
    if sure_lo >= sure_hi:  # a range of a day or two: every session is near an end
        sure_lo = sure_hi = hi
    near_ends, between_ends = _line_less_statements()
    bounds = {"lo": lo, "hi": hi, "sure_lo": sure_lo, "sure_hi": sure_hi}
    edges = db.session.execute(near_ends, bounds).tuples()
    between = db.session.scalars(between_ends, bounds).all()
    ends: tuple[list[int], list[int]] = ([], [])
    for finding_id, actual, scheduled, tz, end in edges:
        if date_from <= utc_to_local(actual or scheduled, tz).date() <= date_to:
            ends[end].append(finding_id)
    return ends[0] + list(between) + ends[1]


@cache
def _line_less_statements():
    """The line-less findings of sessions near either end of a range (with what places them), and of
    those in between (bare ids), each in order (session moment, session, finding)."""
    moment = sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at)
    lo, hi, sure_lo, sure_hi = (sa.bindparam(name, type_=ClassSession.starts_at.type)
                                for name in ("lo", "hi", "sure_lo", "sure_hi"))
    order = (moment, ClassSession.id, Finding.id)
    near_ends = (
        sa.select(Finding.id, ClassSession.actual_start, ClassSession.starts_at,
                  sa.func.coalesce(ClassSession.held_timezone, GroupClass.timezone),
                  sa.case((moment < sure_lo, 0), else_=1))
        .join(ClassSession, ClassSession.id == Finding.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .where(Finding.line_id.is_(None),
               sa.or_(sa.and_(moment >= lo, moment < sure_lo), sa.and_(moment >= sure_hi, moment < hi)))
        .order_by(*order)
    )
    between = (
        sa.select(Finding.id).join(ClassSession, ClassSession.id == Finding.session_id)
        .where(Finding.line_id.is_(None), moment >= sure_lo, moment < sure_hi).order_by(*order)
    )
    return near_ends, between


@cache
def _session_findings_statement():
    return (
        sa.select(Finding, ClassSession)
        .join(ClassSession, ClassSession.id == Finding.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .options(load_only(ClassSession.class_id, ClassSession.starts_at, ClassSession.actual_start,
                           ClassSession.held_timezone),  # what its date of service and title need
                 contains_eager(ClassSession.group_class).load_only(GroupClass.title, GroupClass.timezone))
        .where(Finding.id.in_(sa.bindparam("ids", expanding=True)))
    )


def _session_findings(ids: list[int]) -> list[SessionFinding]:
    """These findings with their sessions and classes, in one query."""
    if not ids:
        return []
    rows = db.session.execute(_session_findings_statement(), {"ids": ids}).tuples().all()
    found = {f.id: (f, s) for f, s in rows}
    return [SessionFinding(*found[i]) for i in ids]


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
            out.append(SessionFinding(finding, session))
    return out
