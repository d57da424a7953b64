"""The CLI of the integration contract, and the demo clinic."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import (
    BillingLine, Caregiver, ClassSession, Facilitator, GroupClass, Patient, User,
)


def test_create_user_and_token(app, runner, client):
    result = runner.invoke(args=["roster", "create-user", "Kim@Clinic.test", "--role", "biller",
                                 "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["roster", "create-token", "kim@clinic.test"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("rst_") and " " not in token
    response = client.get("/api/v1/billing/lines?from=2026-01-01&to=2026-01-31",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    # a biller may not schedule classes: the token acts with the user's role
    response = client.post("/api/v1/classes", json={}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


def test_create_user_refuses_bad_input_and_writes_nothing(app, runner):
    result = runner.invoke(args=["roster", "create-user", "not-an-email", "--role", "biller", "--password", "short"])
    assert result.exit_code != 0
    assert "valid e-mail" in result.output and "at least 10" in result.output
    result = runner.invoke(args=["roster", "create-user", "a@b.test", "--role", "wizard", "--password", "x" * 12])
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_token_for_unknown_user(runner):
    result = runner.invoke(args=["roster", "create-token", "ghost@clinic.test"])
    assert result.exit_code != 0 and "No account" in result.output


def test_revoke_token(app, runner, client):
    runner.invoke(args=["roster", "create-user", "a@clinic.test", "--role", "admin", "--password", "a-long-password"])
    token = runner.invoke(args=["roster", "create-token", "a@clinic.test"]).output.strip().splitlines()[-1]
    assert "Revoked 1" in runner.invoke(args=["roster", "revoke-token", token[:10]]).output
    assert client.get("/api/v1/facilitators", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_seed_demo_builds_a_believable_clinic_once(app, runner):
    result = runner.invoke(args=["roster", "seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "coordinator@roster.demo" in result.output
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        assert count(Facilitator) == 4
        assert len(set(db.session.scalars(sa.select(Facilitator.discipline)))) == 4
        assert count(Patient) == 30
        assert count(Caregiver) == 40
        assert count(GroupClass) == 4
        assert count(ClassSession) == 24
        held = db.session.scalar(sa.select(sa.func.count()).where(ClassSession.status == "held"))
        assert held > 0
        assert count(BillingLine) > 0
    again = runner.invoke(args=["roster", "seed-demo", "--if-empty"])
    assert "already has data" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 30


def test_seed_demo_reset_rebuilds_around_today_with_a_session_left_open(app, runner, clock):
    from datetime import datetime, timedelta, timezone

    from roster.services.frontdesk import open_sessions

    assert runner.invoke(args=["roster", "seed-demo"]).exit_code == 0
    for days_later in (9, 12, 16):  # later days, other weekdays: the demo follows "today"
        now = datetime(2026, 11, 27, 18, 0, tzinfo=timezone.utc) + timedelta(days=days_later)
        clock.set(now)  # the services' clock: the demo is built around it, and check-ins follow it
        result = runner.invoke(args=["roster", "seed-demo", "--reset"])
        assert result.exit_code == 0, result.output
        assert "rebuilt around today" in result.output
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 30
            assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 5
            starts = list(db.session.scalars(sa.select(ClassSession.starts_at)))
            assert min(starts) < now < max(starts)  # past sessions and upcoming ones around that day
            rows, _ = open_sessions(now)
            assert [r for r in rows if r.session.status == "scheduled"], "no session left open for end of day"


def test_seed_demo_reset_refuses_a_database_with_real_staff(app, runner):
    runner.invoke(args=["roster", "create-user", "kim@clinic.test", "--role", "biller", "--password", "a-long-password"])
    result = runner.invoke(args=["roster", "seed-demo", "--reset"])
    assert result.exit_code != 0 and "not the demo ones" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
