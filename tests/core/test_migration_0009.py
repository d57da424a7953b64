"""Migrations 0009, 0010 and 0013 carry existing data over: held sessions keep their class facts (S8),
check-ins the relationship of their link (S9), lines the claim identity (S6; exported lines the
one they were exported with)."""

from __future__ import annotations

import json
import os
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from roster import create_app


@pytest.fixture
def fresh_url(tmp_path):
    """An empty database of the suite's kind (a new SQLite file, or a new PostgreSQL database)."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "migrate.sqlite3")
        return
    name = "mig_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_0009_backfills_held_sessions_check_ins_and_lines(fresh_url, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url, "SECRET_KEY": "x"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade(revision="0008")
        from roster.extensions import db

        with db.engine.begin() as conn:
            x = conn.execute
            x(sa.text("INSERT INTO patient (id, mrn, first_name, last_name, dob, payer, member_id, needs, "
                      "diagnosis_codes, created_at, updated_at, mrn_key) VALUES (1, 'A1', 'Walter', 'Ames', '1950-04-02', 'Medicare', "
                      "'M-NOW', '[]', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'A1')"))
            x(sa.text("INSERT INTO caregiver (id, first_name, last_name, phone, phone_digits, created_at) "
                      "VALUES (1, 'Rita', 'Ames', '', '', CURRENT_TIMESTAMP)"))
            x(sa.text("INSERT INTO caregiver_link (id, caregiver_id, patient_id, relationship) "
                      "VALUES (1, 1, 1, 'spouse')"))
            x(sa.text("INSERT INTO group_class (id, title, needs, room, capacity, timezone, modality, "
                      "place_of_service, created_at) VALUES (1, 'C', '[\"stroke\"]', 'Gym', 5, "
                      "'America/Chicago', 'telehealth', '10', CURRENT_TIMESTAMP)"))
            for sid, status in ((1, "held"), (2, "scheduled")):
                x(sa.text("INSERT INTO class_session (id, class_id, starts_at, ends_at, status, sequence, "
                          "updated_at) VALUES (:id, 1, '2026-02-03 16:00:00', '2026-02-03 17:00:00', :st, 0, "
                          "CURRENT_TIMESTAMP)"), {"id": sid, "st": status})
            x(sa.text("INSERT INTO check_in (id, session_id, caregiver_id, patient_id, checked_in_at, walk_in) "
                      "VALUES (1, 1, 1, 1, CURRENT_TIMESTAMP, false)"))
            x(sa.text("INSERT INTO export_batch (id, date_from, date_to, row_count, created_at) "
                      "VALUES (1, '2026-02-01', '2026-02-28', 1, CURRENT_TIMESTAMP)"))
            sent = {"patient_mrn": "A1", "patient_last_name": "Ames", "patient_first_name": "Walter",
                    "patient_dob": "1950-04-02", "payer": "Medicare", "member_id": "M-SENT"}
            for lid, status, batch, row in ((1, "exported", 1, json.dumps(sent)), (2, "ready", None, None)):
                x(sa.text("INSERT INTO billing_line (id, session_id, patient_id, date_of_service, cpt, units, "
                          "modifiers, place_of_service, diagnosis_codes, status, export_batch_id, exported_row, "
                          "created_at, updated_at) VALUES (:id, 1, 1, '2026-02-03', :cpt, 1, '[]', '10', '[]', "
                          ":st, :b, :row, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                  {"id": lid, "cpt": "97550" if lid == 1 else "97551", "st": status, "b": batch, "row": row})

        upgrade()

        with db.engine.connect() as conn:
            sessions = conn.execute(sa.text(
                "SELECT id, held_modality, held_place_of_service, held_timezone, held_needs "
                "FROM class_session ORDER BY id")).all()
            held_needs = sessions[0][4]
            assert sessions[0][:4] == (1, "telehealth", "10", "America/Chicago")
            assert (json.loads(held_needs) if isinstance(held_needs, str) else held_needs) == ["stroke"]
            assert sessions[1][1:4] == (None, None, None)
            assert conn.execute(sa.text("SELECT relationship FROM check_in")).scalar() == "spouse"
            lines = dict(conn.execute(sa.text("SELECT id, member_id FROM billing_line")).all())
            assert lines == {1: "M-SENT", 2: "M-NOW"}
            assert conn.execute(sa.text(
                "SELECT patient_mrn || patient_last_name || patient_first_name || payer FROM billing_line "
                "WHERE id = 2")).scalar() == "A1AmesWalterMedicare"
        db.engine.dispose()


def test_0010_held_sessions_keep_their_class_family(fresh_url, tmp_path):
    """Migration 0010: held sessions take the family their class has (what they were billed with);
    sessions not held follow their class (NULL)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url, "SECRET_KEY": "x"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade(revision="0009")
        from roster.extensions import db

        with db.engine.begin() as conn:
            for cid, training in ((1, "behavior"), (2, "direct_care")):
                conn.execute(sa.text(
                    "INSERT INTO group_class (id, title, needs, room, capacity, timezone, modality, place_of_service, "
                    "training, created_at) VALUES (:id, 'C', '[]', 'Gym', 5, 'America/Chicago', 'in_person', '11', "
                    ":training, CURRENT_TIMESTAMP)"), {"id": cid, "training": training})
            for sid, cid, status in ((1, 1, "held"), (2, 1, "scheduled"), (3, 2, "held"), (4, 2, "cancelled")):
                conn.execute(sa.text(
                    "INSERT INTO class_session (id, class_id, starts_at, ends_at, status, cancel_reason, sequence, "
                    "updated_at) VALUES (:id, :cid, '2026-02-03 16:00:00', '2026-02-03 17:00:00', :st, :why, 0, "
                    "CURRENT_TIMESTAMP)"),
                    {"id": sid, "cid": cid, "st": status, "why": "Snow" if status == "cancelled" else None})

        upgrade()

        with db.engine.connect() as conn:
            held = dict(conn.execute(sa.text("SELECT id, held_training FROM class_session")).all())
        assert held == {1: "behavior", 2: None, 3: "direct_care", 4: None}
        db.engine.dispose()


def test_0013_payers_already_listed_keep_medicares_answers(fresh_url, tmp_path):
    """Migration 0013: a payer on the list before profiles existed was billed as Medicare; it keeps
    those answers (telehealth and verbal consent from 2025-01-01, every family covered)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url, "SECRET_KEY": "x"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade(revision="0012")
        from roster.extensions import db

        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO payer (id, name, name_key, payer_id, claim_filing_indicator, created_at) "
                "VALUES (1, 'Acme Health', 'acme health', 'ACME1', 'CI', CURRENT_TIMESTAMP)"))

        upgrade()

        with db.engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT telehealth_from, verbal_consent_from, families FROM payer")).one()
        families = json.loads(row[2]) if isinstance(row[2], str) else row[2]
        assert (str(row[0]), str(row[1]), families) == (
            "2025-01-01", "2025-01-01", ["functional", "direct_care", "behavior"])
        db.engine.dispose()
