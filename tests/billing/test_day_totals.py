"""The review's totals come from sums kept by day (issue 12): after every kind of line change they equal
the lines counted afresh, and the review shows the same counts and totals as counting the lines. Each
finding's date of service (which the review reads too) stays its session's and its line's."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from roster.extensions import db
from roster.models import BillingExportTotal, BillingLine, ClassSession, Finding
from roster.services.billing.facts import date_of_service
from tests.billing.clinic import BAD_NPI, VALID_NPI, Clinic
from tests.fresh import assert_day_totals_fresh

FEB = (date(2026, 2, 1), date(2026, 2, 28))


def _check(app) -> None:
    """Kept sums == fresh count; the review's totals from the sums == its totals from the lines."""
    from roster.services.billing.review import _line_totals_statement, _totals, _totals_statement

    with app.app_context():
        assert_day_totals_fresh()
        findings = db.session.execute(sa.select(Finding, ClassSession, BillingLine.date_of_service)
                                      .join(ClassSession, ClassSession.id == Finding.session_id)
                                      .outerjoin(BillingLine, BillingLine.id == Finding.line_id)).tuples().all()
        assert findings and all(f.date_of_service == date_of_service(s) == (line_day or f.date_of_service)
                                for f, s, line_day in findings), "a finding's date of service is stale"
        for narrowing, params in (((), {}), (("cpt",), {"cpt": "97552"}), (("no_facilitator",), {})):
            params = dict(params, date_from=FEB[0], date_to=FEB[1])
            kept = _totals(_totals_statement(narrowing), params)
            assert kept == _totals(_line_totals_statement(narrowing), params), narrowing
        db.session.remove()


def test_the_day_totals_follow_every_change_of_the_lines(app, api):
    clinic = Clinic(api("admin"))
    fid, bad = clinic.facilitator(), clinic.facilitator(npi=BAD_NPI, name="Omar Ortiz, OT", discipline="OT")
    a, b = clinic.patient(), clinic.patient()
    sid = clinic.group_session([a, b], fid, start="2026-02-03T10:00")  # two ready lines (insert)
    held = clinic.group_session([clinic.patient(), clinic.patient()], bad, start="2026-02-04T10:00")
    lone = clinic.held_session([(clinic.caregiver(c), c) for c in [clinic.patient()]], None, start="2026-02-05T10:00")
    _check(app)
    with app.app_context():
        before = set(db.session.scalars(sa.select(Finding.id).where(Finding.session_id == lone)))
    clinic.close(lone, "2026-02-06T10:00", None)  # closed again a day later: its findings (no facilitator) move
    _check(app)
    with app.app_context():
        moved = db.session.execute(sa.select(Finding.id, Finding.date_of_service)
                                   .where(Finding.session_id == lone)).tuples().all()
    assert before and moved and {d for _, d in moved} == {date(2026, 2, 6)}, moved
    assert {l["status"] for l in clinic.billing(held)["lines"]} == {"held"}

    clinic.call("patch", f"/facilitators/{bad}", {"npi": VALID_NPI})  # held -> ready (update)
    _check(app)
    assert clinic.export()["rows"] >= 4  # ready -> exported: the export's own sums
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BillingExportTotal)) >= 2  # days, codes, facilitators
    _check(app)

    clinic.call("patch", f"/patients/{a}", {"diagnosis_codes": ["I69.351", "R26.89"]})  # exported -> void + a new line
    _check(app)
    clinic.call("post", f"/sessions/{sid}/reopen", {"reason": "fix the times"})
    clinic.close(sid, "2026-02-02T21:30", bad, minutes=45)  # another day, another facilitator (update / delete)
    _check(app)
    clinic.export()  # the void and the new lines
    _check(app)
