"""One transaction per request, on SQLite and PostgreSQL alike (roster/transactions.py).

A request that writes through several services and then fails leaves nothing;
two coordinators taking the last seat at the same instant leave one enrolled
and one waitlisted.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from roster import create_app
from roster.extensions import db
from roster.models import AuditEvent, CheckIn, ClassSession, Enrollment, Facilitator, Patient, User
from roster.services import ServiceError, attendance, imports, scheduling
from tests.frontdesk.desk import make_scene
from tests.wire import on_the_wire

IMPORTED_MRN = "IMP-0001"
PATIENT_CSV = f"mrn,first_name,last_name\n{IMPORTED_MRN},Ida,Imported\n"


class _Boom(Exception):
    """An unexpected failure after the writes."""


@pytest.fixture
def failing_app(app):
    """The app plus one route that checks in, enrols and imports, then fails as asked."""
    other = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED", "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_SECURE")})
    other.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 like production, do not raise into the test

    @other.post("/test/write-then-fail/<how>")
    def write_then_fail(how: str):
        data = other.config["SCENE"]
        session = db.session.get(ClassSession, data["session_id"])
        user = db.session.get(User, data["user_id"])
        attendance.check_in_for(session, data["caregiver_id"], data["patient_id"], user)  # a SAVEPOINT inside
        scheduling.enroll(data["class_id"], db.session.get(Patient, data["new_patient_id"]),
                          [data["new_caregiver_id"]])
        imports.run_import("patients", PATIENT_CSV)  # a SAVEPOINT inside
        db.session.flush()
        assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 1  # written, not yet committed
        if how == "refused":
            raise ServiceError("Refused after writing.")
        raise _Boom("after writing")

    yield other
    with other.app_context():
        db.engine.dispose()


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            "check_in": db.session.scalar(sa.select(sa.func.count(CheckIn.id))),
            "enrollment": db.session.scalar(sa.select(sa.func.count(Enrollment.id))),
            "imported": db.session.scalar(sa.select(sa.func.count(Patient.id)).where(Patient.mrn == IMPORTED_MRN)),
            "audit": db.session.scalar(sa.select(sa.func.count(AuditEvent.id))),
        }


@pytest.mark.parametrize("how, status", [("refused", 422), ("crash", 500)])
def test_a_failing_request_leaves_no_row_and_no_audit_record(app, build, failing_app, how, status):
    scene = make_scene(build, sets=1)
    newcomer = scene.patient()
    newcomer_caregiver = build.caregiver([newcomer])
    user = build.user("admin")
    failing_app.config["SCENE"] = {
        "session_id": scene.session_id, "class_id": scene.group_class.id, "user_id": user.id,
        "caregiver_id": scene.caregivers[0].id, "patient_id": scene.patients[0].id,
        "new_patient_id": newcomer.id, "new_caregiver_id": newcomer_caregiver.id,
    }
    before = _counts(app)
    assert before["check_in"] == 0 and before["imported"] == 0

    response = failing_app.test_client().post(f"/test/write-then-fail/{how}")

    assert response.status_code == status
    assert _counts(app) == before


def test_a_request_that_succeeds_commits_once(app, api, build):
    scene = make_scene(build, sets=1)
    desk = api("front_desk")
    response = desk.post(f"/sessions/{scene.session_id}/checkins",
                         json={"caregiver_id": scene.caregivers[0].id, "patient_mrn": scene.patients[0].mrn})
    assert response.status_code == 201
    assert _counts(app)["check_in"] == 1


def test_savepoints_nest_and_roll_back_alone(app):
    """The pysqlite recipe: a SAVEPOINT's RELEASE no longer commits; the outer rollback wins."""
    with app.app_context():
        session_count = sa.select(sa.func.count(User.id))
        with db.session.begin_nested():
            db.session.add(User(email="inner@clinic.test", role="admin", password_hash="x", name="Inner",
                                calendar_secret="inner-secret"))
        assert db.session.scalar(session_count) == 1
        db.session.rollback()
        assert db.session.scalar(session_count) == 0


THREADS = 16


def test_coordinators_racing_for_the_last_seat_leave_one_enrolled(app, build):
    """Every coordinator enrols a different patient into the one free seat at the same instant."""
    scene = make_scene(build, sets=1, capacity=2)  # one seat taken, one left
    rivals = []
    for _ in range(THREADS):
        patient = scene.patient()
        rivals.append((patient, build.caregiver([patient])))
    clients = [build.api_client("coordinator") for _ in rivals]
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []
    errors: list[BaseException] = []

    def enrol(client, patient, caregiver):
        try:
            barrier.wait(timeout=30)
            r = client.post(f"/classes/{scene.group_class.id}/enrollments",
                            json={"patient_mrn": patient.mrn, "caregiver_ids": [caregiver.id]})
            answers.append((r.status_code, r.get_json()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=enrol, args=(c, p, g)) for c, (p, g) in zip(clients, rivals)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert not errors, errors
    assert sorted(status for status, _ in answers) == [201] * THREADS, answers
    assert sorted(body["status"] for _, body in answers) == ["enrolled"] + ["waitlisted"] * (THREADS - 1)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Enrollment.status, Enrollment.position)
            .where(Enrollment.patient_id.in_([p.id for p, _ in rivals]))
        ).all()
    assert sorted(rows) == [("enrolled", 0)] + [("waitlisted", n) for n in range(1, THREADS)]


def test_a_sqlite_database_still_busy_after_the_timeout_answers_503_busy(app, build):
    """A request that waits on SQLite's write lock longer than the busy timeout answers 503 with
    Retry-After and says Roster is busy (never "database is locked", never a 500); nothing is written."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's single write lock; PostgreSQL has row locks and no busy timeout")
    token = build.token("admin")
    impatient = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED")} | {"SQLITE_BUSY_TIMEOUT_MS": 50})
    impatient.config["PROPAGATE_EXCEPTIONS"] = False
    client = impatient.test_client()
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        answer = client.post("/api/v1/facilitators", headers={"Authorization": f"Bearer {token}"},
                             json={"name": "Never kept", "npi": "1234567893", "discipline": "PT"})
        page = client.post("/login", data={"email": "someone@clinic.test", "password": "whatever-it-is"})
    finally:
        holder.rollback()
        holder.close()
    with impatient.app_context():
        db.engine.dispose()
    for response in (answer, page):
        text = response.get_data(as_text=True)
        assert response.status_code == 503 and response.headers["Retry-After"], text[:500]
        assert "Roster is busy saving other changes" in text and "locked" not in text
    assert answer.get_json()["error"]["code"] == "unavailable"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Facilitator)) == 0


def test_on_sqlite_a_read_never_waits_for_the_write_lock_and_a_get_that_writes_takes_it(app, build):
    """GET requests begin without SQLite's write lock: they answer while a writer holds it. A GET that
    writes after all (an API token's use, recorded once a minute; a view that writes) is run again
    with the lock: its writes are kept when the lock is free, and it waits (503 busy) when it is not."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's single write lock; PostgreSQL reads never wait for writers")
    from functools import wraps

    from roster.models import ApiToken
    from roster.services import audit
    from tests.builders import PASSWORD

    token = build.token("admin")
    user = build.user(role="admin")
    impatient = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED")} | {"SQLITE_BUSY_TIMEOUT_MS": 50})
    impatient.config["PROPAGATE_EXCEPTIONS"] = False
    listing = impatient.view_functions["api.list_facilitators"]

    @wraps(listing)
    def listing_that_writes(*args, **kwargs):
        audit.record("test.read_then_write", "user", user.id)
        return listing(*args, **kwargs)

    impatient.view_functions["api.list_writing"] = listing_that_writes
    impatient.add_url_rule("/api/v1/writing", "api.list_writing", listing_that_writes)
    client, headers = impatient.test_client(), {"Authorization": f"Bearer {token}"}
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302

    def token_used_long_ago():
        with app.app_context():
            db.session.execute(sa.update(ApiToken).values(last_used_at=None))
            db.session.commit()

    def token_use_recorded() -> bool:
        with app.app_context():
            return db.session.scalar(sa.select(ApiToken.last_used_at)) is not None

    def audited() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "test.read_then_write"))

    assert client.get("/api/v1/facilitators", headers=headers).status_code == 200  # records the token's use
    holder = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        reads = [client.get("/frontdesk/today"), client.get("/api/v1/facilitators", headers=headers)]
        writing_answer = client.get("/api/v1/writing", headers=headers)
    finally:
        holder.rollback()
    assert [r.status_code for r in reads] == [200, 200], [r.get_data(as_text=True)[:300] for r in reads]
    assert writing_answer.status_code == 503 and audited() == 0  # it waited for the lock, wrote nothing

    token_used_long_ago()
    holder.execute("BEGIN IMMEDIATE")
    try:
        token_used_long_ago_answer = client.get("/api/v1/facilitators", headers=headers)
    finally:
        holder.rollback()
        holder.close()
    assert token_used_long_ago_answer.status_code == 503 and not token_use_recorded()

    assert client.get("/api/v1/facilitators", headers=headers).status_code == 200 and token_use_recorded()
    assert client.get("/api/v1/writing", headers=headers).status_code == 200 and audited() == 1
    with impatient.app_context():
        db.engine.dispose()


@pytest.mark.postgres_only
def test_on_postgresql_a_get_reads_without_begin_and_commit_and_begins_a_transaction_when_it_writes(
        app, build, failing_app):
    """A GET's plain reads run in autocommit (no BEGIN, no COMMIT: two round trips fewer); its first statement that
    is not a plain read begins a transaction (psycopg sends BEGIN with it), which commits when the view returns and
    rolls back, with what it wrote, when it raises; a connection used outside a request is never in autocommit."""
    from roster.services import audit
    from roster.transactions import plain_read
    from tests.builders import PASSWORD

    user = build.user(role="front_desk")
    scene = make_scene(build, sets=1)

    def read_then_write(how: str):
        db.session.get(ClassSession, scene.session_id)
        audit.record("test.get_that_writes", "user", user.id)
        db.session.flush()
        if how == "crash":
            raise _Boom("after writing")
        return "written"

    failing_app.add_url_rule("/test/read-then-write/<how>", "read_then_write", read_then_write)
    client = failing_app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302

    def audited() -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "test.get_that_writes"))

    with on_the_wire(failing_app) as sent:
        assert client.get("/healthz").status_code == 200
        assert client.get("/frontdesk/today").status_code == 200
        reads = list(sent)
        sent.clear()
        assert client.get("/test/read-then-write/crash").status_code == 500
        crashed = list(sent)
        sent.clear()
        assert client.get("/test/read-then-write/keep").status_code == 200
    kinds = [kind for kind, _ in reads]
    assert kinds == ["SQL", "SQL"], reads  # the user; the user with the day: no BEGIN, no COMMIT
    # the user, the session, then the INSERT, which psycopg sends after a BEGIN (this listener hears it first); at
    # the ROLLBACK psycopg forgets the statements it has prepared on the connection (the user's, run a second time
    # here: POSTGRESQL_ENGINE_OPTIONS prepares it then; before, after five runs, and the same followed)
    assert [kind if kind == "SQL" else text for kind, text in crashed] == [
        "SQL", "SQL", "SQL", "BEGIN", "ROLLBACK", "DEALLOCATE"]
    assert crashed[2][1].lstrip().upper().startswith("INSERT") and audited() == 1  # only the kept one is left
    assert [kind if kind == "SQL" else text for kind, text in sent] == ["SQL", "SQL", "SQL", "BEGIN", "COMMIT"]
    with failing_app.app_context():  # a command's or a test's connection: a transaction, as before
        assert db.session.connection().connection.dbapi_connection.autocommit is False
        db.session.rollback()

    assert plain_read('SELECT "user".id FROM "user" WHERE "user".id = %(id)s')
    assert plain_read("WITH day AS (SELECT 1 AS x) SELECT x FROM day")
    for statement in ("SELECT id FROM billing_line WHERE id = 1 FOR UPDATE", "SELECT 1 FOR KEY SHARE",
                      "WITH gone AS (DELETE FROM check_in RETURNING id) SELECT id FROM gone",
                      "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)", "SELECT nextval('s')",
                      "SELECT pg_advisory_xact_lock(1)", "SET LOCAL jit = off", "SAVEPOINT sa_1",
                      "INSERT INTO audit_event (action) VALUES ('x')", "SELECT id INTO copy FROM patient"):
        assert not plain_read(statement), statement
