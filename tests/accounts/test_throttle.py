"""Throttling that holds: parallel guesses, growing delays, same work for unknown addresses (both databases)."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from roster.extensions import db
from roster.models import LoginThrottle, utcnow
from roster.services import signin, throttle
from tests.fresh import run_at_once

PASSWORD = "correct-horse-battery"
PARALLEL = 16


class Spy:
    """Counts password checks and remembers which hash method each one used (the original still runs)."""

    def __init__(self, monkeypatch):
        self.methods: list[str] = []
        self.lock = threading.Lock()
        original = signin.verify_password

        def verify(stored_hash, password):
            with self.lock:
                self.methods.append(stored_hash.split("$", 1)[0])
            return original(stored_hash, password)

        monkeypatch.setattr(signin, "verify_password", verify)


def _parallel(app, email: str, password: str, n: int = PARALLEL) -> list[int]:
    clients = [app.test_client() for _ in range(n)]

    def sign_in(client):
        return lambda: [client.post("/login", data={"email": email, "password": password}).status_code]

    return [status for _, status in run_at_once([("sign-in", sign_in(c)) for c in clients], timeout=30)]


def test_sixteen_parallel_wrong_passwords_then_the_right_one(app, build, monkeypatch):
    user = build.user("biller")
    spy = Spy(monkeypatch)
    statuses = _parallel(app, user.email, "wrong-password")
    assert len(statuses) == PARALLEL and all(s < 500 for s in statuses), statuses
    free = throttle.DEFAULT_LIMITS["pair"].free
    # Only as many guesses were checked as the limit allows; the rest were refused unchecked.
    assert len(spy.methods) == free, spy.methods
    assert sorted(statuses) == [401] * (free - 1) + [429] * (PARALLEL - free + 1)
    right = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert right.status_code == 429 and b"Try again in" in right.data
    assert len(spy.methods) == free  # refused without even checking it
    with app.app_context():
        pair = db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.bucket.startswith("pair:"))).one()
        assert pair.failures == free and pair.locked_until > utcnow()


def test_unknown_known_and_deactivated_addresses_do_the_same_hashing_work(app, client, build, monkeypatch):
    known = build.user("coordinator")
    gone = build.user("coordinator")
    with app.app_context():
        from roster.models import User

        db.session.get(User, gone.id).active = False
        db.session.commit()
    spy = Spy(monkeypatch)
    for email in (known.email, "nobody@clinic.test", gone.email):
        response = client.post("/login", data={"email": email, "password": "wrong-password"})
        assert response.status_code == 401
        assert b"do not match an active account" in response.data
    assert client.post("/login", data={"email": gone.email, "password": PASSWORD}).status_code == 401
    assert len(spy.methods) == 4
    assert len(set(spy.methods)) == 1, spy.methods  # the same algorithm and cost for all of them
    assert spy.methods[0].startswith(("scrypt:", "pbkdf2:"))


def test_one_client_trying_many_addresses_is_slowed(app, client):
    limit = throttle.DEFAULT_LIMITS["addr"].free
    codes = [client.post("/login", data={"email": f"guess{n}@clinic.test", "password": "x"}).status_code
             for n in range(limit + 3)]
    assert codes[: limit - 1] == [401] * (limit - 1)
    assert set(codes[limit - 1:]) == {429}


def test_an_attacker_elsewhere_does_not_lock_the_owner_out(app, build):
    owner = build.user("admin")
    attacker = app.test_client()
    for _ in range(8):
        attacker.post("/login", data={"email": owner.email, "password": "guess"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert attacker.post("/login", data={"email": owner.email, "password": PASSWORD},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 429
    owner_client = app.test_client()
    assert owner_client.post("/login", data={"email": owner.email, "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 302


def test_delays_grow_and_then_pass(app, ctx):
    limit = throttle.Limit(3, timedelta(minutes=15), timedelta(minutes=1), timedelta(minutes=8))
    buckets = {"pair:x|y": limit}
    now = utcnow()
    delays = []
    for _ in range(7):
        attempt = throttle.admit(buckets, now)
        assert attempt.admitted
        delays.append(attempt.wait if attempt.locked_now else None)
        refused = throttle.admit(buckets, now + (attempt.wait - timedelta(seconds=1) if attempt.locked_now
                                                 else timedelta(0)))
        if attempt.locked_now:
            assert not refused.admitted  # still waiting
        else:
            throttle._uncharge(["pair:x|y"], buckets)  # that probe was admitted: take it back
        now += attempt.wait  # the delay passes
    minutes = [d.total_seconds() / 60 if d else None for d in delays]
    assert minutes == [None, None, 1, 2, 4, 8, 8]
    # Failures older than the window are forgotten.
    assert throttle.admit(buckets, now + timedelta(minutes=16)).locked_now is False


def test_stale_rows_are_cleaned(app, ctx):
    now = utcnow()
    throttle.admit({"email:old@clinic.test": throttle.DEFAULT_LIMITS["email"]}, now - timedelta(days=2))
    throttle.admit({"email:new@clinic.test": throttle.DEFAULT_LIMITS["email"]}, now)
    assert throttle.clean_stale(now) == 1
    assert [r.bucket for r in db.session.scalars(sa.select(LoginThrottle))] == ["email:new@clinic.test"]


def test_passwords_are_hashed_with_scrypt_unless_configured(app, monkeypatch):
    """The suite hashes with a cheap method (tests/conftest.py); a clinic's Roster uses scrypt."""
    from roster.config import Config
    from roster.services.passwords import hash_password

    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    with app.app_context():
        assert hash_password("a-long-password").startswith("pbkdf2:sha256:1000$")
        monkeypatch.delitem(app.config, "PASSWORD_HASH_METHOD")
        assert hash_password("a-long-password").startswith("scrypt:")


def test_a_sign_in_charges_every_bucket_in_one_statement_after_reading_the_account(app, build, count_queries):
    """Sixteen desks signing in at once queue on the rows every sign-in shares (this address,
    everyone): the charge holds them for one statement, the last before the early commit, not
    one round trip per bucket followed by the account's read."""
    user = build.user("biller")
    with app.test_request_context(method="POST"), count_queries() as counter:
        attempt, candidate = signin.admit_password(user.email, "198.51.100.7", utcnow())
        assert attempt.admitted and candidate is not None and candidate.user_id == user.id
        db.session.rollback()
    touching = [s for s in counter.statements if "login_throttle" in s]
    writes = [s for s in touching if not s.lstrip().upper().startswith(("SELECT", "DELETE"))]
    assert len(writes) == 1 and "ON CONFLICT" in writes[0].upper(), touching
    assert "login_throttle" in counter.statements[-1]  # nothing runs between the charge and the commit
