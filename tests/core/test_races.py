"""Races end in the database, never in a 500 (roster/transactions.py, roster/config.py).

A request that loses a race (serialization failure, deadlock, unique-key
collision) runs again in a new transaction; one that keeps losing answers 409
with a sentence.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from roster import create_app
from roster import config as roster_config
from roster.extensions import db
from roster.models import Facilitator, LoginThrottle
from roster.services import people

THREADS = 16


def _at_once(count: int, work) -> list:
    """Run work(i) in ``count`` threads released together; every answer, in any order."""
    barrier = threading.Barrier(count)
    answers, errors = [], []

    def run(i):
        try:
            barrier.wait(timeout=30)
            answers.append(work(i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(answers) == count
    return answers


def test_first_failed_sign_ins_for_a_new_address_at_once_answer_401(app):
    count = app.config["LOGIN_MAX_FAILURES"] - 1  # wrong passwords, but not enough to lock the address
    clients = [app.test_client() for _ in range(count)]

    def sign_in(i):
        return clients[i].post("/login", data={"email": "nobody@clinic.test", "password": "wrong-password"}
                               ).status_code

    assert _at_once(count, sign_in) == [401] * count
    with app.app_context():
        throttles = db.session.scalars(sa.select(LoginThrottle)).all()
    # one row per bucket since issue 10; the e-mail's bucket exists once, counting every failure
    assert [(t.bucket, t.failures) for t in throttles if t.bucket.startswith("email:")] == [
        ("email:nobody@clinic.test", count)]


def test_workers_creating_the_secret_key_at_once_all_read_the_same_key(tmp_path, monkeypatch):
    real_urandom = os.urandom

    def slow_urandom(n):  # widen the window between creating the file and writing it
        time.sleep(0.05)
        return real_urandom(n)

    monkeypatch.setattr(roster_config.os, "urandom", slow_urandom)
    keys = _at_once(THREADS, lambda i: roster_config._instance_secret(str(tmp_path)))
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert os.listdir(tmp_path) == ["secret_key"]
    assert (os.stat(tmp_path / "secret_key").st_mode & 0o777) == 0o600


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str):
        super().__init__(message)
        self.sqlstate = sqlstate


def _lost(kind: str):
    if kind == "deadlock":
        return OperationalError("UPDATE patient ...", {}, _PgError("deadlock detected", "40P01"))
    if kind == "serialization":
        return OperationalError("UPDATE patient ...", {}, _PgError("could not serialize access", "40001"))
    return IntegrityError("INSERT INTO patient ...", {}, _PgError("duplicate key value", "23505"))


@pytest.fixture
def racing_app(app):
    """The app plus a route that writes a facilitator, then loses a race its first ``fail`` attempts."""
    other = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED")})
    other.config["PROPAGATE_EXCEPTIONS"] = False
    attempts: list[int] = []

    @other.post("/test/race/<kind>/<int:fail>")
    def race(kind: str, fail: int):
        from flask import flash

        attempts.append(1)
        people.create_facilitator({"name": f"Attempt {len(attempts)}", "npi": "1234567893", "discipline": "PT"})
        flash("Saved.")  # a retried request flashes once
        if len(attempts) <= fail:
            raise _lost(kind)
        return {"attempts": len(attempts)}, 201

    other.attempts = attempts
    yield other
    with other.app_context():
        db.engine.dispose()


def _facilitator_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Facilitator.name)))


@pytest.mark.parametrize("kind", ["deadlock", "serialization", "unique"])
def test_a_request_that_lost_a_race_runs_again_and_keeps_one_write(app, racing_app, kind):
    client = racing_app.test_client()
    response = client.post(f"/test/race/{kind}/2")
    assert response.status_code == 201 and response.get_json() == {"attempts": 3}
    assert _facilitator_names(app) == ["Attempt 3"]
    with client.session_transaction() as cookie_session:
        assert cookie_session["_flashes"] == [("message", "Saved.")]


@pytest.mark.parametrize("kind", ["deadlock", "unique"])
@pytest.mark.parametrize("path", ["/api/v1", "/schedule"])
def test_a_conflict_that_survives_the_retries_is_a_409_with_a_sentence(app, kind, path):
    other = create_app({k: app.config[k] for k in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED")})
    other.config["PROPAGATE_EXCEPTIONS"] = False

    @other.post(f"{path}/test-conflict")
    def always_loses():
        people.create_facilitator({"name": "Never kept", "npi": "1234567893", "discipline": "PT"})
        raise _lost(kind)

    response = other.test_client().post(f"{path}/test-conflict")
    with other.app_context():
        db.engine.dispose()
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone else changed the same records at the same moment" in text
    if path == "/api/v1":
        assert response.get_json()["error"]["code"] == "conflict"
    assert _facilitator_names(app) == []
