"""The desk's busiest requests, run once before a server serves: its first check-in, double tap, undo, presence
mark and close then cost what later ones cost.

SQLAlchemy compiles a statement (and an ORM statement's context) the first time an engine runs it and keeps it in
the engine's compiled cache. A fresh process's first close compiled ~50 ms of CPU of statements, ~500 ms of wall
under `make load` (a request gets ~1/8 of a core): the slowest closes were each worker's first. gunicorn.conf.py
calls ``warm`` in the master before it forks a worker (``when_ready``): every worker, and every worker that
replaces a recycled one, is forked with the engine's compiled cache (and the dialect's type caches) full. A worker
warms itself only when its master could not (``WARMED`` unset: the database was away when gunicorn started).

``warm_desk_writes`` touches nobody's data: ONE transaction, always rolled back (a commit in it raises), on
throwaway rows of its own made through the ORM: a facilitator; a user with two API tokens (the desk's and the
facilitator's: recording a token's first use runs a statement whose cache key changes after its first run); two
classes with a session each, ``DAYS_BACK`` days back; three patients with consent, plan of care and diagnoses,
their caregivers linked and enrolled. With them it makes the real API calls through the app (the token's read,
`@requires`, the view, its services, its answer; not the request's commit): check-in, double tap, undo, check-in,
the close of a session alone on its patients' day, the close of the other (a same-day neighbour held), a check-in
and an undo on a held session; and, signed in, the desk's pages (today, a session's check-in page, its walk-in
search) and buttons (presence mark and unmark, check-in, double tap, undo). Each call
starts as a request does, with an empty identity map, no remembered locks and an empty ``g``, so it runs, and
compiles, each statement a request runs. It locks only its own rows (key-share locks on rows they reference), its
own sessions' attendance gates and its own facilitator's `billing_day_total` keys; on SQLite the write lock while
it runs (~0.3 s, once per server start, most of it compiling). It leaves nothing but sequence numbers (PostgreSQL does not give back
what a rolled-back transaction drew) and dead row versions for autovacuum. An error is logged; the server serves.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask, Response, g

from roster.domain.npi import npi_with_check_digit
from roster.domain.recurrence import local_to_utc
from roster.domain.text import caregiver_search_key, patient_search_key
from roster.extensions import db
from roster.models import (
    ApiToken,
    Caregiver,
    CaregiverLink,
    ClassSession,
    Enrollment,
    EnrollmentCaregiver,
    Facilitator,
    GroupClass,
    Patient,
    User,
    mrn_key,
)
from roster.services import clock

log = logging.getLogger(__name__)
# The warm-up's day, this many days back: past any day a desk still enters attendance for, on or after the day the
# caregiver-training codes took effect (2024), a day of its own sessions, patients and facilitator only.
DAYS_BACK = 400


class WarmUpCommitted(RuntimeError):
    """Raised by any commit attempted during the warm-up: its transaction is only ever rolled back."""


@dataclass
class _Scene:
    tokens: list[str]  # the desk's, the facilitator's (two: a token's first use, run twice, is compiled twice)
    user_id: int
    facilitator_id: int
    day: date
    sessions: list[int] = field(default_factory=list)  # the two sessions, each of its own class
    pairs: list[tuple[int, int, str]] = field(default_factory=list)  # (caregiver id, patient id, MRN)
    page: tuple[dict, str] = ({}, "")  # a signed-in desk's session and CSRF token (`_page_session`)


WARMED = "roster.warmed"  # in app.extensions once `warm` has compiled everything (a master's: its workers' too)


def warm(app: Flask) -> bool:
    """Compile ahead what a server's first requests would: the walk-in search's shapes
    (`frontdesk.warm_walk_in_search`) and the desk's writes (`warm_desk_writes`). Marks the app warmed (``WARMED``)
    when both went through; never raises."""
    from roster.services.frontdesk import warm_walk_in_search

    searched = True
    try:
        with app.app_context():
            try:
                warm_walk_in_search()
            finally:
                db.session.rollback()
    except Exception:  # the database may be away: the first searches then compile as they come
        log.exception("walk-in search statements not compiled ahead")
        searched = False
    if warm_desk_writes(app) and searched:
        app.extensions[WARMED] = True
    return bool(app.extensions.get(WARMED))


def connect(app: Flask) -> None:
    """Open a worker's first database connection before it serves, into its pool (its first request would wait for
    it: a new PostgreSQL backend and psycopg's set-up). Never raises: the first request then connects."""
    try:
        with app.app_context():
            for engine in db.engines.values():
                engine.connect().close()
    except Exception:
        log.exception("no database connection opened ahead")


def warm_desk_writes(app: Flask) -> bool:
    """Run the desk's writes once in a transaction that is rolled back (the module's docstring). True when every
    call answered as a desk's would; False (logged) when something failed: the server then serves anyway, and
    its first calls compile what they need as they come."""
    started = time.perf_counter()
    try:
        with app.app_context():
            session = db.session()
            sa.event.listen(session, "before_commit", _refuse_commit)
            try:
                _run(app, _scene(app.config["CLINIC_TIMEZONE"]))
            finally:
                sa.event.remove(session, "before_commit", _refuse_commit)
                db.session.rollback()
    except Exception:  # never stop a server: at worst its first requests compile as they come
        log.exception("the desk's writes were not compiled ahead")
        return False
    log.info("desk writes compiled ahead in %.0f ms", 1000 * (time.perf_counter() - started))
    return True


def _refuse_commit(session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is no commit
        raise WarmUpCommitted("the warm-up's transaction is never committed")


def _scene(tz: str) -> _Scene:
    """The throwaway rows, flushed (never committed): unique names drawn at random, ``DAYS_BACK`` days back,
    consent and plan of care covering it, one facilitator of its own."""
    tag = secrets.token_hex(6)
    raw = ["rst_warm_" + secrets.token_urlsafe(24) for _ in range(2)]
    day = clock.today_in(tz) - timedelta(days=DAYS_BACK)
    user = User(email=f"warm-up-{tag}@roster.invalid", name="Warm-up", role="admin", password_hash="!",
                calendar_secret=secrets.token_urlsafe(24), active=True)
    facilitator = Facilitator(name=f"Warm-up {tag}, PT", discipline="PT", npi=npi_with_check_digit("199999999"))
    db.session.add_all([user, facilitator])
    db.session.flush()
    db.session.add_all(ApiToken(user_id=user.id, label="warm-up", prefix=token[:10],
                                token_hash=hashlib.sha256(token.encode()).hexdigest()) for token in raw)
    patients = []
    for n in range(3):
        mrn = f"~warm-{tag}-{n}"
        patients.append(Patient(
            mrn=mrn, mrn_key=mrn_key(mrn), first_name="Warm", last_name=f"Up{tag}{n}",
            search_key=patient_search_key("Warm", f"Up{tag}{n}", mrn), dob=date(1950, 1, 1), payer="Medicare",
            member_id=f"1EG4TE5MK{n:02d}", needs=["stroke"], diagnosis_codes=["I69.351"],
            consent_date=day - timedelta(days=30), consent_kind="written",
            poc_discipline="PT", poc_start=day - timedelta(days=30), poc_end=day + timedelta(days=60)))
    caregivers = [Caregiver(first_name="Care", last_name=f"Warm{tag}{n}", search_key=caregiver_search_key(
        "Care", f"Warm{tag}{n}")) for n in range(3)]
    db.session.add_all(patients + caregivers)
    db.session.flush()
    db.session.add_all(CaregiverLink(caregiver_id=c.id, patient_id=p.id, relationship="spouse")
                       for c, p in zip(caregivers, patients))
    scene = _Scene(raw, user.id, facilitator.id, day, pairs=[(c.id, p.id, p.mrn) for c, p in zip(caregivers, patients)])
    starts = local_to_utc(datetime.combine(day, datetime.min.time()) + timedelta(hours=10), tz)
    for k in range(2):  # the first two patients are enrolled in both classes; the third in the first only
        group_class = GroupClass(title=f"Warm-up {tag} {k}", needs=["stroke"], capacity=12,
                                 facilitator_id=facilitator.id, timezone=tz)
        db.session.add(group_class)
        db.session.flush()
        session = ClassSession(class_id=group_class.id, starts_at=starts + timedelta(hours=2 * k),
                               ends_at=starts + timedelta(hours=2 * k + 1))
        db.session.add(session)
        for caregiver, patient in list(zip(caregivers, patients))[:3 - k]:
            enrollment = Enrollment(class_id=group_class.id, patient_id=patient.id, status="enrolled")
            db.session.add(enrollment)
            db.session.flush()
            db.session.add(EnrollmentCaregiver(enrollment_id=enrollment.id, caregiver_id=caregiver.id))
        db.session.flush()
        scene.sessions.append(session.id)
    return scene


def _run(app: Flask, scene: _Scene) -> None:
    """Each call as a desk makes it, each answered as it would be (else the warm-up fails, logged)."""
    first, second = scene.sessions
    (cg1, p1, mrn1), (cg2, _, mrn2), (cg3, p3, mrn3) = scene.pairs
    scene.page = _page_session(app, scene)

    def check_in(sid: int, cg: int, mrn: str, status: int):
        return _api(app, scene, "POST", f"/api/v1/sessions/{sid}/checkins", {"caregiver_id": cg, "patient_mrn": mrn},
                    status)

    def undo(sid: int, cg: int, mrn: str):
        return _api(app, scene, "DELETE", f"/api/v1/sessions/{sid}/checkins/{cg}?patient_mrn={mrn}", None, 200)

    def present(sid: int, patient: int, yes_no: str):
        return _page(app, scene, f"/frontdesk/sessions/{sid}/present", {"patient_id": patient, "present": yes_no})

    def page_check_in(sid: int, cg: int, patient: int):
        return _page(app, scene, f"/frontdesk/sessions/{sid}/checkins", {"caregiver_id": cg, "patient_id": patient})

    def page_undo(sid: int, cg: int, patient: int):
        return _page(app, scene, f"/frontdesk/sessions/{sid}/checkins/undo",
                     {"caregiver_id": cg, "patient_id": patient})

    calls = [
        _page(app, scene, "/frontdesk/today"),
        check_in(first, cg1, mrn1, 201), check_in(first, cg1, mrn1, 200),  # a check-in, a double tap
        undo(first, cg1, mrn1), check_in(first, cg1, mrn1, 201), check_in(first, cg2, mrn2, 201),
        _page(app, scene, f"/frontdesk/sessions/{first}"),  # the check-in page, with its check-ins
        _page(app, scene, f"/frontdesk/sessions/{first}/search?q=warm"),  # (the search's other shapes: `warm`)
        present(second, p1, "yes"), present(second, p1, "no"),  # the desk page's presence mark and unmark
        _close(app, scene, first),  # a session alone on its patients' day
        check_in(second, cg1, mrn1, 201), check_in(second, cg2, mrn2, 201),
        page_check_in(second, cg3, p3), page_check_in(second, cg3, p3), page_undo(second, cg3, p3),  # the page's
        _close(app, scene, second),  # the other, its patients' other session held the same day
        check_in(first, cg3, mrn3, 201), undo(first, cg3, mrn3),  # on a held session: re-evaluated
    ]
    for call in calls:
        _fresh_request_state()
        call()


def _api(app: Flask, scene: _Scene, method: str, path: str, body: dict | None, status: int):
    def call():
        answered = _call(app, method, path, body, scene.tokens["/close" in path])
        if answered != status:
            raise RuntimeError(f"{method} {path} answered {answered}, not {status}")
    return call


def _close(app: Flask, scene: _Scene, session_id: int):
    """The facilitator's close, as `make load` sends it: who ran it, when, no patient marked present."""
    stamp, k = scene.day.isoformat(), scene.sessions.index(session_id)
    return _api(app, scene, "POST", f"/api/v1/sessions/{session_id}/close", {
        "facilitator_id": scene.facilitator_id, "patients_present": [],
        "started_at": f"{stamp}T{10 + 2 * k:02d}:00", "ended_at": f"{stamp}T{11 + 2 * k:02d}:00"}, 200)


def _fresh_request_state() -> None:
    """What a new request starts with: an empty identity map, nothing remembered by the ORM session (the locks
    `billing.locks` remembers for a transaction), an empty ``g``; the transaction goes on."""
    db.session.expunge_all()
    db.session.info.clear()
    vars(g).clear()


def _call(app: Flask, method: str, path: str, body: dict | None, token: str) -> int:
    """The API call through the app's own request handling (before-request hooks: the token's read; the view,
    its services and its answer), without the request's commit (`RosterFlask.dispatch_request`'s)."""
    with app.test_request_context(path, method=method, json=body, headers={"Authorization": f"Bearer {token}"}):
        return _respond(app).status_code


def _respond(app: Flask) -> Response:
    """The request in context answered as the app answers it (before-request hooks, then the view), without
    `RosterFlask.dispatch_request`'s commit."""
    answer = app.preprocess_request()
    if answer is None:
        answer = Flask.dispatch_request(app)
    return app.make_response(answer)


def _page_session(app: Flask, scene: _Scene) -> tuple[dict, str]:
    """A signed-in desk's session cookie's contents (as `auth.sessions.start_session` leaves them, the user's
    version for the loader) and a CSRF token for its forms."""
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from roster.services.page_user import PageUser

    with app.test_request_context("/"):
        login_user(PageUser(scene.user_id, "", "", "front_desk", 0, False, False, None))
        token = generate_csrf()
        return dict(session), token


def _page(app: Flask, scene: _Scene, path: str, form: dict | None = None):
    """A desk page, as the browser asks for it (its session cookie; the user read by the page's loader): shown
    (GET, 200), or its form posted with its CSRF token and answered with the redirect back to the session's page."""
    from flask import session

    def call():
        method, data = ("GET", None) if form is None else ("POST", form | {"csrf_token": scene.page[1]})
        with app.test_request_context(path, method=method, data=data):
            session.update(scene.page[0])
            answered = _respond(app)
            if (answered.status_code, "/frontdesk/sessions/" in (answered.location or "")) != (
                    (200, False) if form is None else (302, True)):
                raise RuntimeError(f"{method} {path} answered {answered.status_code} {answered.location}")
    return call
