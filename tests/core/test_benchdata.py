"""`roster bench-data`: a believable year in an empty database, billed as the services would bill it."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import (
    AuditEvent, BillingLine, Caregiver, CheckIn, ClassSession, Finding, GroupClass, Patient,
)

SMALL = ["roster", "bench-data", "--weeks", "3", "--classes-per-week", "10"]


def _lines():
    return sorted((
        (l.session_id, l.patient_id, l.cpt, l.status, l.units, tuple(l.modifiers), l.place_of_service,
         tuple(l.diagnosis_codes), l.rendering_npi, l.facilitator_id, l.date_of_service)
        for l in db.session.scalars(sa.select(BillingLine))
    ), key=repr)


def _findings():
    return sorted((
        (f.session_id, f.line_id, f.patient_id, f.code, f.severity, f.rule, f.message)
        for f in db.session.scalars(sa.select(Finding))
    ), key=repr)


def test_bench_data_fills_an_empty_database(app, runner):
    result = runner.invoke(args=SMALL)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ClassSession.id))) == 30  # 3 weeks x 10
        held = db.session.scalars(sa.select(ClassSession.id).where(ClassSession.status == "held")).all()
        assert held, "past sessions are held"
        assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) > len(held)
        assert db.session.scalar(sa.select(sa.func.count(BillingLine.id))) > 0
        patients = db.session.scalar(sa.select(sa.func.count(Patient.id)))
        assert db.session.scalar(sa.select(sa.func.count(Caregiver.id))) == patients * 10
        assert db.session.scalar(sa.select(sa.func.count(GroupClass.id))) >= 10
        checkins = db.session.scalar(sa.select(sa.func.count(CheckIn.id)))
        assert db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "checkin.create")) == checkins
        for model in (Patient, Caregiver):  # the stored search keys are the model's own
            for row in db.session.scalars(sa.select(model).limit(50)):
                before = row.search_key
                row.first_name = row.first_name  # the model recomputes its key
                assert row.search_key == before


def test_bench_lines_equal_a_fresh_evaluation(app, runner):
    """The bulk-written lines and findings are what the billing service derives from the same facts."""
    assert runner.invoke(args=SMALL).exit_code == 0
    with app.app_context():
        from roster.services import billing

        lines, findings = _lines(), _findings()
        events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
        held = db.session.scalars(sa.select(ClassSession.id).where(ClassSession.status == "held")).all()
        billing.reevaluate_sessions(held)
        db.session.commit()
        assert _lines() == lines
        assert _findings() == findings
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events  # nothing changed


def test_bench_data_refuses_a_database_with_data(app, runner):
    assert runner.invoke(args=SMALL).exit_code == 0
    with app.app_context():
        sessions = db.session.scalar(sa.select(sa.func.count(ClassSession.id)))
    result = runner.invoke(args=SMALL)
    assert result.exit_code != 0
    assert "empty" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ClassSession.id))) == sessions


def test_new_records_after_bench_data_get_fresh_ids(app, runner, api):
    """PostgreSQL sequences continue after the bulk-written ids."""
    assert runner.invoke(args=SMALL).exit_code == 0
    response = api("admin").post("/api/v1/patients", json={
        "mrn": "NEW-1", "first_name": "Ana", "last_name": "Núñez"})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).where(Patient.mrn == "NEW-1"))
        assert patient.search_key == "ana nunez new 1 new1"


def test_health_check_is_a_trivial_public_json_route(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
