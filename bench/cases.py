"""The measurements of `make bench`, each with its floor (the cheapest way to do the same work)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from roster.extensions import db
from roster.models import (
    BillingLine, Caregiver, CheckIn, ClassSession, Enrollment, EnrollmentCaregiver, Facilitator, GroupClass,
    Patient, User,
)

PASSWORD = "roster-demo-2026"


def todays_sessions(start, end, now) -> list[tuple[int, int]]:
    """(id, class id) of the scheduled sessions between the clinic's day bounds ``start``/``end`` (widened by a
    day) that are today in their own class's zone: a desk checks in on the class's day there (after midnight in
    Chicago a class in Los Angeles is still on yesterday, and its check-ins are rightly refused). In start order.
    `make bench` and `make load` pick today's sessions so."""
    from roster.domain.recurrence import utc_to_local

    return [(sid, class_id) for sid, class_id, starts_at, zone in db.session.execute(
        sa.select(ClassSession.id, ClassSession.class_id, ClassSession.starts_at, GroupClass.timezone)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .where(ClassSession.starts_at >= start - timedelta(days=1), ClassSession.starts_at < end + timedelta(days=1),
               ClassSession.status == "scheduled")
        .order_by(ClassSession.starts_at, ClassSession.id)).tuples()
        if utc_to_local(starts_at, zone).date() == utc_to_local(now, zone).date()]


@dataclass
class Context:
    app: object
    today: date
    year_from: date
    month: tuple[date, date]
    today_sessions: list[int]  # scheduled sessions of today with enrolled sets
    regular_id: int  # the patient with the most held sessions
    regular_sessions: int
    keystrokes: list[str]
    client: object = None
    token: str = ""
    pairs: list[tuple[int, int, str]] = field(default_factory=list)  # (session, caregiver, mrn) enrolled today

    @classmethod
    def load(cls, app) -> "Context":
        from roster.services import accounts, clock, scheduling

        today = clock.today_in(app.config["CLINIC_TIMEZONE"])
        first_dos = db.session.scalar(sa.select(sa.func.min(BillingLine.date_of_service)))
        month_end = today.replace(day=1) - timedelta(days=1)
        start, end = scheduling.local_day_bounds(today, app.config["CLINIC_TIMEZONE"])
        sessions = [sid for sid, _ in todays_sessions(start, end, clock.now())]
        pairs = db.session.execute(
            sa.select(ClassSession.id, EnrollmentCaregiver.caregiver_id, Patient.mrn)
            .join(Enrollment, Enrollment.class_id == ClassSession.class_id)
            .join(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
            .join(Patient, Patient.id == Enrollment.patient_id)
            .where(ClassSession.id.in_(sessions), Enrollment.status == "enrolled")
            .order_by(ClassSession.id, EnrollmentCaregiver.id)).tuples().all()
        regular_id, regular_sessions = db.session.execute(
            sa.select(CheckIn.patient_id, sa.func.count(sa.distinct(CheckIn.session_id)))
            .group_by(CheckIn.patient_id).order_by(sa.func.count(sa.distinct(CheckIn.session_id)).desc(),
                                                  CheckIn.patient_id).limit(1)).one()
        ctx = cls(app, today, first_dos, (month_end.replace(day=1), month_end), sorted({p[0] for p in pairs}),
                  regular_id, regular_sessions, _keystrokes(), pairs=list(pairs))
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@roster.demo"))
        ctx.token = accounts.create_token(admin, "bench")
        db.session.commit()
        ctx.client = app.test_client()
        response = ctx.client.post("/login", data={"email": "admin@roster.demo", "password": PASSWORD})
        assert response.status_code == 302, "bench login failed"
        return ctx


def _keystrokes() -> list[str]:
    """What a desk types: surnames letter by letter from the third, "Surname, First", phone digits."""
    from roster.domain.text import fold

    total = db.session.scalar(sa.select(sa.func.count(Caregiver.id)))
    picks = db.session.scalars(
        sa.select(Caregiver).where(Caregiver.id.in_([1 + (total * k) // 8 for k in range(8)]))).all()
    out = []
    for c in picks:
        last = fold(c.last_name).replace(" ", "")
        out += [last[:n] for n in range(3, len(last) + 1)]
        out.append(f"{c.last_name}, {c.first_name}")
        out.append(c.phone_digits[-5:])
    return out


# --------------------------------------------------------------------------- export


def _export_floor(date_from: date, date_to: date) -> None:
    """One SQL query for the range's ready lines with everything a roster row shows, and csv.writer."""
    name = Caregiver.first_name + " " + Caregiver.last_name
    agg = (sa.func.string_agg(name, "; ") if db.engine.dialect.name == "postgresql"
           else sa.func.group_concat(name, "; "))
    caregivers = (sa.select(agg).select_from(CheckIn).join(Caregiver, Caregiver.id == CheckIn.caregiver_id)
                  .where(CheckIn.session_id == BillingLine.session_id, CheckIn.patient_id == BillingLine.patient_id)
                  .scalar_subquery())
    stmt = (
        sa.select(BillingLine.id, BillingLine.date_of_service, BillingLine.session_id, GroupClass.title, Patient.mrn,
                  Patient.last_name, Patient.first_name, Patient.dob, Patient.payer, Patient.member_id,
                  BillingLine.cpt, BillingLine.modifiers, BillingLine.units, BillingLine.diagnosis_codes,
                  BillingLine.place_of_service, BillingLine.rendering_npi, Facilitator.name, Facilitator.discipline,
                  caregivers, ClassSession.actual_start, ClassSession.actual_end)
        .join(Patient, Patient.id == BillingLine.patient_id)
        .join(ClassSession, ClassSession.id == BillingLine.session_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id)
        .outerjoin(Facilitator, Facilitator.id == BillingLine.facilitator_id)
        .where(BillingLine.date_of_service.between(date_from, date_to), BillingLine.status == "ready")
        .order_by(BillingLine.date_of_service, BillingLine.session_id, BillingLine.id)
    )
    writer = csv.writer(io.StringIO())
    for row in db.session.execute(stmt):
        writer.writerow(row)


def export(rec, ctx: Context, runs: int) -> None:
    from roster.services import billing

    for name, (lo, hi), n in (("export_month", ctx.month, runs), ("export_year", (ctx.year_from, ctx.today), max(3, runs // 2))):
        lines = db.session.scalar(sa.select(sa.func.count(BillingLine.id)).where(
            BillingLine.date_of_service.between(lo, hi), BillingLine.status == "ready"))
        rec.measure(name, lambda _: (billing.export_range(lo, hi, None), db.session.flush()),
                    lambda _: _export_floor(lo, hi), runs=n, lines=lines)


# --------------------------------------------------------------------------- consent, close


def consent_change(rec, ctx: Context, runs: int) -> None:
    from roster.services import people

    def change(_):
        people.update_patient(db.session.get(Patient, ctx.regular_id), {"consent": None})
        db.session.flush()

    def floor(_):
        db.session.execute(sa.update(Patient).where(Patient.id == ctx.regular_id)
                           .values(consent_kind=None, consent_date=None))
        db.session.execute(sa.update(BillingLine).where(BillingLine.patient_id == ctx.regular_id,
                                                        BillingLine.status == "ready").values(status="held"))

    rec.measure("consent_change", change, floor, runs=runs, held_sessions=ctx.regular_sessions,
                note="consent withdrawn for the patient with the most held sessions; floor: two UPDATEs")


def _checked_in_session(i: int, ctx: Context):
    """One of today's sessions with all its enrolled caregivers checked in (set-up, not timed)."""
    from roster.services import attendance

    sid = ctx.today_sessions[i % len(ctx.today_sessions)]
    session = db.session.get(ClassSession, sid)
    for s, caregiver_id, mrn in ctx.pairs:
        if s == sid:
            attendance.check_in(session, caregiver_id, mrn, None)
    db.session.flush()
    return session


def close_session(rec, ctx: Context, runs: int) -> None:
    from roster.domain.recurrence import utc_to_local
    from roster.services import attendance

    def close(session):
        tz = session.group_class.timezone
        attendance.close_session(
            session, facilitator_id=session.group_class.facilitator_id,
            started_at=utc_to_local(session.starts_at, tz), ended_at=utc_to_local(session.ends_at, tz),
            patients_present=[], user=None)
        db.session.flush()

    def floor(session):
        patients = db.session.scalars(sa.select(CheckIn.patient_id).where(CheckIn.session_id == session.id)
                                      .distinct()).all()
        db.session.execute(sa.update(ClassSession).where(ClassSession.id == session.id).values(
            status="held", actual_start=session.starts_at, actual_end=session.ends_at,
            actual_facilitator_id=session.group_class.facilitator_id))
        db.session.execute(sa.insert(BillingLine), [
            {"session_id": session.id, "patient_id": p, "date_of_service": session.starts_at.date(), "cpt": "97552",
             "units": 1, "modifiers": ["GP"], "place_of_service": "11", "diagnosis_codes": ["I69.351"],
             "rendering_npi": "1234567893", "status": "ready"} for p in patients])

    if not ctx.today_sessions:
        return
    # a session is closed once it has ended: the services' clock reads late this evening (clinic time)
    tz = ZoneInfo(ctx.app.config["CLINIC_TIMEZONE"])
    evening = datetime.combine(ctx.today, time(23, 30), tzinfo=tz).astimezone(timezone.utc)
    previous = ctx.app.config.get("CLOCK")
    ctx.app.config["CLOCK"] = lambda: evening
    try:
        rec.measure("close_session", close, floor, runs=runs, args=lambda i: _checked_in_session(i, ctx),
                    note="one of today's sessions, every enrolled caregiver checked in; floor: UPDATE + INSERT lines")
    finally:
        ctx.app.config["CLOCK"] = previous


# --------------------------------------------------------------------------- search, check-in


def walk_in_search(rec, ctx: Context, runs: int) -> None:
    from roster.services import frontdesk, search

    if not ctx.today_sessions:
        return
    session = db.session.get(ClassSession, ctx.today_sessions[0])
    keys = ctx.keystrokes
    # the floor's statements are built (and run once) before the clock starts: the walk-in reuses one
    # statement per shape of query, so the floor must not pay for building its own either
    floors = {q: search.caregiver_ids_matching(q, through_patients=True).limit(10) for q in keys}
    for stmt in floors.values():
        db.session.execute(stmt).all()
    rec.measure("walk_in_search", lambda q: frontdesk.walk_in_search(session, q),
                lambda q: db.session.execute(floors[q]).all(),
                runs=len(keys), args=lambda i: keys[i], rollback=False,
                caregivers=db.session.scalar(sa.select(sa.func.count(Caregiver.id))),
                note="one run per keystroke; floor: the UNION of indexed predicates alone")


def checkin_request(rec, ctx: Context, runs: int) -> None:
    """POST a check-in through the API (committed), then undo it untimed."""
    from bench.harness import _timed

    if not ctx.pairs:
        return
    headers = {"Authorization": f"Bearer {ctx.token}"}

    def post(i):
        sid, caregiver_id, mrn = ctx.pairs[i % len(ctx.pairs)]
        response = ctx.client.post(f"/api/v1/sessions/{sid}/checkins", json={"caregiver_id": caregiver_id,
                                   "patient_mrn": mrn}, headers=headers)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        ctx.client.delete(f"/api/v1/sessions/{sid}/checkins/{caregiver_id}", headers=headers)

    rec.measure("checkin_request", post, lambda _: ctx.client.get("/healthz"), runs=max(runs, 10),
                args=lambda i: i + 1, rollback=False, note="API check-in and its undo; floor: a trivial JSON route")


# --------------------------------------------------------------------------- pages


def pages(rec, ctx: Context, runs: int) -> None:
    sid = ctx.today_sessions[0] if ctx.today_sessions else None
    lo, hi = ctx.month
    urls = [
        ("page_today", "/frontdesk/today"),
        ("page_checkin", f"/frontdesk/sessions/{sid}" if sid else None),
        ("page_walk_in_search", f"/frontdesk/sessions/{sid}/search?q=jen" if sid else None),
        ("page_billing_review_month", f"/billing/review?from={lo}&to={hi}"),
        ("page_billing_review_year", f"/billing/review?from={ctx.year_from}&to={ctx.today}"),
        ("page_exports", "/billing/exports"),
        ("page_audit", "/billing/audit"),
        ("page_classes", "/schedule/classes"),
        ("page_patients", "/people/patients"),
        ("page_patients_search", "/people/patients?q=nunez"),
        ("page_caregivers", "/people/caregivers"),
    ]
    for name, url in urls:
        if url is None:
            continue
        first = ctx.client.get(url)  # warm-up: the page's status and size
        rec.measure(name, lambda _, url=url: ctx.client.get(url), lambda _: ctx.client.get("/healthz"), runs=runs,
                    rollback=False, url=url, status=first.status_code, bytes=len(first.data))


ALL = [pages, walk_in_search, checkin_request, consent_change, close_session, export]
