"""Migration 0008 carries patients over: MRN keys without regard to case, even for existing look-alikes."""

from __future__ import annotations

import sqlalchemy as sa

from roster import create_app
from roster.extensions import db


def test_existing_patients_get_case_free_keys_and_look_alikes_are_kept(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="0007")
        now = "2026-01-01 00:00:00"
        with db.engine.begin() as conn:
            for mrn in ("A1001", "a1001", "B-7"):
                conn.execute(sa.text(
                    "INSERT INTO patient (mrn, first_name, last_name, payer, member_id, needs, diagnosis_codes, search_key,"
                    " created_at, updated_at) VALUES (:mrn, 'Pat', 'Lee', '', '', '[]', '[]', 'pat lee', :now, :now)"),
                    {"mrn": mrn, "now": now})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT mrn, mrn_key FROM patient ORDER BY id")).all()
            assert [tuple(r) for r in rows][0] == ("A1001", "A1001")
            assert rows[1][0] == "a1001" and rows[1][1].startswith("A1001~")  # kept, with a distinct key
            assert tuple(rows[2]) == ("B-7", "B-7")
            assert conn.execute(sa.text("SELECT archived_at FROM group_class")).all() == []
        db.engine.dispose()


def test_a_new_mrn_that_differs_only_in_case_is_refused(api):
    client = api("admin")
    base = {"first_name": "Ann", "last_name": "Lee"}
    assert client.post("/api/v1/patients", json={"mrn": "A1001", **base}).status_code == 201
    response = client.post("/api/v1/patients", json={"mrn": "a1001", **base})
    assert response.status_code == 409
    assert "A1001" in response.get_json()["error"]["message"]
    # and lookups find the patient whatever the case
    assert client.get("/api/v1/patients/a1001").status_code == 200
