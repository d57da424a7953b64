"""The biller's review of a range: a page of lines, counts, totals and line-less findings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.families import FAMILIES
from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingLine, ClassSession, Facilitator, Finding, GroupClass, Patient
from roster.services.billing import day_totals
from roster.services.billing.day_totals import NARROWINGS
from roster.services.billing.facts import _utc_midnight, date_of_service
from roster.services.billing.statements import one_of, per_kind, run
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
    """A finding that sits on no line (patient present, under minimum time, ...), with its session's
    date of service and its class's title. ``finding`` has ``id``, ``session_id``, ``patient_id``,
    ``code``, ``severity`` and ``message``."""

    finding: Finding | sa.Row
    date_of_service: date
    class_title: str


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
    modifiers: tuple
    place_of_service: str
    diagnosis_codes: tuple
    rendering_npi: str | None
    facilitator_id: int | None
    status: str
    class_title: str
    mrn: str
    first_name: str
    last_name: str
    findings: tuple = ()


# what the page shows of a line, its patient and its class, read as plain rows in one statement (issue 12:
# loading 100 lines as ORM objects with their patients, sessions, classes and findings took 4 statements
# and most of the page's time)
_LINE_COLUMNS = (BillingLine.id, BillingLine.session_id, BillingLine.patient_id, BillingLine.date_of_service,
                 BillingLine.cpt, BillingLine.units, BillingLine.modifiers, BillingLine.place_of_service,
                 BillingLine.diagnosis_codes, BillingLine.rendering_npi, BillingLine.facilitator_id,
                 BillingLine.status)
_LINE_ORDER = (BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
_CODES = ("modifiers", "diagnosis_codes")  # JSON lists


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
    session_findings, findings_total = line_less_findings(date_from, date_to, findings_page)
    findings_pages = max(1, -(-findings_total // FINDINGS_PER_PAGE))
    return Review(lines, counts, by_code, by_facilitator, session_findings, page, pages,
                  min(max(findings_page, 1), findings_pages), findings_pages, findings_total)


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
    # the codes as their JSON text: decoded once per distinct text (_line_page), not once per line
    columns = (sa.cast(c, sa.Text).label(c.name) if c.name in _CODES else c for c in page.c)
    return (
        sa.select(*columns, GroupClass.title, Patient.mrn, Patient.first_name, Patient.last_name)
        .join(Patient, Patient.id == page.c.patient_id)
        .join(ClassSession, ClassSession.id == page.c.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .order_by(page.c.date_of_service, page.c.session_id, page.c.id)
    )


_LINE_FINDINGS = per_kind(lambda kind: (  # PostgreSQL: "= ANY(:line_ids)", one statement text (statements.py)
    sa.select(Finding.id, Finding.line_id, Finding.session_id, Finding.patient_id, Finding.code, Finding.severity,
              Finding.message)
    .where(one_of(kind, Finding.line_id, "line_ids")).order_by(Finding.id)
))


def _line_page(stmt, params: dict) -> list[ReviewLine]:
    """The page's lines with their class titles and patients (one statement), and their findings (one),
    as Core rows on the session's connection; a line is a value (tuples), the page remembers its rows
    by them (``billing/_review_rows.html``)."""
    rows = db.session.connection().execute(stmt, params).all()
    if not rows:
        return []
    findings: dict[int, list] = {row.id: [] for row in rows}
    for finding in run(_LINE_FINDINGS, {"line_ids": list(findings)}):
        findings[finding.line_id].append(finding)
    codes: dict[str, tuple] = {}  # a JSON list's text -> its codes: a page has a few dozen distinct ones

    def decoded(text: str | None) -> tuple:
        if text not in codes:
            codes[text] = tuple(json.loads(text)) if text else ()
        return codes[text]

    return [ReviewLine(*row[:6], decoded(row.modifiers), row.place_of_service, decoded(row.diagnosis_codes),
                       *row[9:], tuple(findings[row.id])) for row in rows]


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
    rows = db.session.connection().execute(stmt, params).tuples().all()  # a few hundred rows: plain tuples
    counts = dict.fromkeys(LINE_STATUS_ORDER, 0)
    codes: dict[str, list[int]] = {}
    people: dict[int | None, list] = {}
    for status, cpt, facilitator_id, n, units, name in rows:
        n, units = int(n), int(units or 0)
        counts[status] = counts.get(status, 0) + n
        if status == LineStatus.VOID:
            continue
        code = codes.setdefault(cpt, [0, 0])
        code[0] += n
        code[1] += units
        person = people.setdefault(facilitator_id, [name, 0, 0])
        person[1] += n
        person[2] += units
    by_code = [Total(cpt, n, units) for cpt, (n, units) in sorted(codes.items())]
    by_facilitator = [
        Total(name or NO_FACILITATOR_LABEL, n, units, fid)
        for fid, (name, n, units) in sorted(people.items(), key=lambda item: (item[1][0] is None, item[1][0] or ""))
    ]
    return counts, by_code, by_facilitator


def line_less_findings(date_from: date, date_to: date, page: int = 1,
                       per_page: int = FINDINGS_PER_PAGE) -> tuple[list[SessionFinding], int]:
    """One page of the range's findings that sit on no line, in order (session moment, session,
    finding), with their class titles, and how many there are: one statement (asked for a page past
    the last one: two more, for the count and the last page).

    A finding keeps its session's date of service (issue 12): the range's findings are read by it
    (``ix_finding_date_of_service``), not found by placing each session in its zone.
    """
    page = max(page, 1)
    rows = _line_less_page(date_from, date_to, per_page, (page - 1) * per_page)
    if not rows and page > 1:  # past the last page: how many there are, then the last page
        first = _line_less_page(date_from, date_to, 1, 0)
        if not first:
            return [], 0
        rows = _line_less_page(date_from, date_to, per_page, (-(-first[0].total // per_page) - 1) * per_page)
    out = [SessionFinding(r, r.date_of_service, r.title) for r in rows]
    return out, (rows[0].total if rows else 0)


def _line_less_page(date_from: date, date_to: date, limit: int, offset: int) -> list[sa.Row]:
    params = {"date_from": date_from, "date_to": date_to, "limit": limit, "offset": offset}
    return db.session.connection().execute(_line_less_statement(), params).all()


@cache
def _line_less_statement():
    """A page of the range's line-less findings: ordered by their sessions' moments, looked up one by one
    (a year: ~1,300 look-ups rather than a hash of all 13,000 sessions), then the page's with their
    classes' titles."""
    f = Finding
    moment = (sa.select(sa.func.coalesce(ClassSession.actual_start, ClassSession.starts_at))
              .where(ClassSession.id == f.session_id).scalar_subquery().label("moment"))
    page = (
        sa.select(f.id, f.session_id, moment, sa.func.count().over().label("total"))
        .where(f.line_id.is_(None), f.date_of_service >= sa.bindparam("date_from"),
               f.date_of_service <= sa.bindparam("date_to"))
        .order_by(moment, f.session_id, f.id)
        .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
        .subquery("page")
    )
    return (
        sa.select(f.id, f.session_id, f.patient_id, f.code, f.severity, f.message, f.date_of_service,
                  GroupClass.title, page.c.total)
        .join(page, page.c.id == f.id)
        .join(ClassSession, ClassSession.id == page.c.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .order_by(page.c.moment, page.c.session_id, page.c.id)
    )


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
            out.append(SessionFinding(finding, dos, session.group_class.title))
    return out
