"""Audit records written together (`audit.record_all`; on PostgreSQL one statement whose rows travel
as one JSON parameter, `roster/services/bulk.py`) are stored exactly as one at a time would be: in
the order given, each before/after picture as the JSON text SQLAlchemy writes (None as JSON null),
names and dates intact."""

from __future__ import annotations

import json

import sqlalchemy as sa

from roster.config import json_loads
from roster.extensions import db
from roster.models import AuditEvent
from roster.services import audit


def test_audit_records_written_together_keep_their_order_and_their_json_text(app):
    pictures = [
        {"units": 2, "modifiers": ["GP", "KX"], "claim_identity": {"patient_last_name": "Núñez-O'Brien \"Jr\"",
                                                                  "patient_dob": "1941-02-03"}},
        None,
        {"message": "tab\there, line\nbreak, back\\slash, emoji \U0001F600", "empty": [], "none": None},
    ]
    events = [{"action": f"line.test{i}", "entity_type": "billing_line", "entity_id": 100 + i, "session_id": 7,
               "before": picture, "after": pictures[-1 - i]} for i, picture in enumerate(pictures)]
    with app.app_context():
        audit.record_all(events)
        db.session.flush()
        stored = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.session_id, AuditEvent.actor_label,
                      sa.cast(AuditEvent.before, sa.Text), sa.cast(AuditEvent.after, sa.Text), AuditEvent.at)
            .where(AuditEvent.action.like("line.test%")).order_by(AuditEvent.id)).all()
        assert [(a, e, s) for a, e, s, *_ in stored] == [(f"line.test{i}", 100 + i, 7) for i in range(3)]
        assert [row[4] for row in stored] == [json.dumps(p) for p in pictures]
        assert [row[5] for row in stored] == [json.dumps(p) for p in reversed(pictures)]
        assert all(row[3] == "system" and row[6] is not None and row[6].tzinfo is not None for row in stored)
        # read back as values through the engine's JSON loader (`config.json_loads`: the driver's UTF-8 bytes
        # decoded without json.loads' look at their encoding), names, escapes and the emoji intact
        assert db.engine.dialect._json_deserializer is json_loads
        values = db.session.execute(sa.select(AuditEvent.before, AuditEvent.after)
                                    .where(AuditEvent.action.like("line.test%")).order_by(AuditEvent.id)).all()
        assert [tuple(row) for row in values] == list(zip(pictures, reversed(pictures)))
        db.session.rollback()
