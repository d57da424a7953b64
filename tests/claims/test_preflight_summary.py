"""The preflight as things to fix (services/preflight_summary: rules on a patient's record in SQL, the
others in the domain over distinct payer names, codes and NPIs) finds exactly what the line-by-line
preflight finds: the same problems on the same number of lines, for every rule, for a range of ready
lines and for an export batch (837P and HL7), with lines older than the kept identity columns and a
line exported before rows were kept. Then the pages: a page of patients at a time with how many more,
a page of charge messages, and no line read through the ORM (the old pages read every one)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa

from roster.domain import claim_preflight as pf
from roster.extensions import db
from roster.models import BillingLine, ClaimSettings, Fee, Hl7Message, LineCharge, Patient, Payer, PreflightTally
from roster.services import claims, hl7_messages, preflight_summary
from tests.billing.clinic import Clinic
from tests.claims.files import ADDRESS, set_up_clinic

FROM, TO = date(2026, 2, 1), date(2026, 2, 28)
EVERY_RULE = {"CLINIC_INCOMPLETE", "NO_ADDRESS", "NO_SEX", "NO_DOB", "NO_MEMBER_ID", "NO_PAYER", "PAYER_NOT_ON_LIST",
              "PAYER_WITHOUT_ID", "PAYER_WITHOUT_FILING_INDICATOR", "NO_FEE", "NO_DIAGNOSIS", "NO_RENDERING_NPI"}

HL7_NEEDS_NOT = {"PAYER_WITHOUT_FILING_INDICATOR", "CLINIC_INCOMPLETE"}  # (the tax id is the clinic's gap here)


def _counts_of_lines(problems: list[pf.Problem]) -> Counter:
    return Counter((p.code, p.fix_kind, p.fix_id) for p in problems)


def _counts_of_summary(summary) -> Counter:
    out: Counter = Counter()
    for fix in summary.settings + summary.patients:
        for t in fix.tallies:
            out[(t.problem.code, t.problem.fix_kind, t.problem.fix_id)] += 1 if fix.fix_kind == "settings" else t.lines
    return out


def _agree(problems: list[pf.Problem], summary) -> set[str]:
    assert _counts_of_summary(summary) == _counts_of_lines(problems)
    assert summary.problems == len(problems)
    return {p.code for p in problems}


def _text(response) -> str:
    assert response.status_code == 200
    return " ".join(response.get_data(as_text=True).split())


def _line(session, mrn: str) -> sa.ColumnElement:
    return sa.and_(BillingLine.patient_id == sa.select(Patient.id).where(Patient.mrn == mrn).scalar_subquery(),
                   BillingLine.session_id == session)


def _broken_clinic(admin) -> tuple[Clinic, list[str], list[int]]:
    """Ten patients' lines in two sessions, each broken in its own way (set in the database, as older data
    and other writers leave it)."""
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    mrns = [clinic.patient(**ADDRESS) for _ in range(10)]
    sessions = [clinic.group_session(mrns[:5], fid, start="2026-02-03T10:00"),
                clinic.group_session(mrns[5:], fid, start="2026-02-10T10:00")]
    db.session.add_all([Payer(name="NoId Health", name_key="noid health", payer_id="", claim_filing_indicator="CI"),
                        Payer(name="NoFiling Health", name_key="nofiling health", payer_id="77", claim_filing_indicator="")])
    first, second = sessions
    changes = [
        (Patient, Patient.mrn == mrns[0], {"address_zip": "", "sex": None}),
        (BillingLine, _line(first, mrns[1]), {"payer": "  acme   HEALTH"}),  # not on the list (folded)
        (BillingLine, _line(first, mrns[2]), {"payer": "NoId Health"}),
        (BillingLine, _line(first, mrns[3]), {"payer": "nofiling health"}),
        (BillingLine, _line(first, mrns[4]), {"payer": ""}),
        (BillingLine, _line(second, mrns[5]), {"member_id": "", "diagnosis_codes": []}),
        (BillingLine, _line(second, mrns[6]), {"patient_dob": None, "rendering_npi": None, "facilitator_id": None}),
        (Patient, Patient.mrn == mrns[6], {"dob": None}),
        (BillingLine, _line(second, mrns[7]), {"rendering_npi": "1234567890", "cpt": "G0541"}),  # bad check digit
        (BillingLine, _line(second, mrns[8]), {"cpt": "G0541"}),
        # older than the kept identity: the line's own columns are blank, the roster row has the patient's
        (BillingLine, _line(second, mrns[9]), {"payer": None, "member_id": None, "patient_dob": None}),
        (Patient, Patient.mrn == mrns[9], {"payer": "Acme Health"}),
        (ClaimSettings, sa.true(), {"tax_id": ""}),
    ]
    for model, where, values in changes:
        db.session.execute(sa.update(model).where(where).values(**values))
    db.session.execute(sa.delete(Fee).where(Fee.cpt == "G0541"))
    db.session.commit()
    return clinic, mrns, sessions


def test_the_summary_and_the_line_by_line_preflight_agree_on_every_rule(app, api):
    admin = api("admin")
    with app.app_context():
        clinic, mrns, (first, second) = _broken_clinic(admin)
        for purpose in (pf.X12, pf.HL7):
            found = _agree(claims.preflight_range(FROM, TO, purpose), preflight_summary.range_summary(FROM, TO, purpose))
            assert found == EVERY_RULE - (HL7_NEEDS_NOT if purpose == pf.HL7 else set())
        db.session.rollback()
        batch = clinic.export("2026-02-01", "2026-02-28")["id"]
        db.session.expire_all()
        # after the export the patients' own data moves on: the batch keeps what its roster rows say
        db.session.execute(sa.update(Patient).where(Patient.mrn == mrns[9]).values(payer="Medicare", dob=None))
        # a charge already fixed on a claim needs no fee; a line exported before rows were kept reads as it is now
        line = db.session.scalar(sa.select(BillingLine.id).where(_line(second, mrns[8])))
        db.session.add(LineCharge(billing_line_id=line, charge_cents=9000))
        db.session.execute(sa.update(BillingLine).where(_line(first, mrns[1])).values(exported_row=None))
        db.session.commit()
        for purpose in (pf.X12, pf.HL7):
            found = _agree(claims.preflight_batch(batch, purpose), preflight_summary.batch_summary(batch, purpose))
            assert found == EVERY_RULE - (HL7_NEEDS_NOT if purpose == pf.HL7 else set())
        fee_lines = preflight_summary.batch_summary(batch).settings
        assert [f.lines for f in fee_lines if f.fix_kind == "fee"] == [1]  # G0541: one line, the other is fixed
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PreflightTally)) > 0  # counted once, kept

        # what changes after the batch's rows were counted is read as it is: records, payers, fees, settings
        db.session.execute(sa.update(Patient).where(Patient.mrn == mrns[0]).values(address_zip="60613"))
        db.session.execute(sa.update(Patient).where(Patient.mrn == mrns[1]).values(sex=None))
        db.session.execute(sa.update(Payer).where(Payer.name == "NoId Health").values(payer_id="88"))
        db.session.execute(sa.update(ClaimSettings).values(tax_id="361234567"))
        db.session.add(Fee(cpt="G0541", charge_cents=9000))
        db.session.commit()
        found = _agree(claims.preflight_batch(batch), preflight_summary.batch_summary(batch))
        assert found == EVERY_RULE - {"NO_ADDRESS", "PAYER_WITHOUT_ID", "NO_FEE", "CLINIC_INCOMPLETE"}

        # a correcting batch: the void rows of two corrected identities (counted as they are) and their new lines
        db.session.commit()
        for mrn in (mrns[1], mrns[5]):
            clinic.call("patch", f"/patients/{mrn}", {"member_id": f"9ZZ{mrn}"})
        correction = clinic.export("2026-02-01", "2026-02-28")["id"]
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).where(BillingLine.void_batch_id == correction)) == 2
        for purpose in (pf.X12, pf.HL7):
            for _ in range(2):  # counted now, then read from the kept counts
                _agree(claims.preflight_batch(correction, purpose), preflight_summary.batch_summary(correction, purpose))


def test_the_pages_show_a_page_of_things_to_fix_and_of_messages_and_read_no_line(app, api, client, login,
                                                                                 count_queries, monkeypatch):
    admin = api("admin")
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    mrns = [clinic.patient(first_name=f"Pat{n}") for n in range(5)]  # no address: five records to complete
    clinic.group_session(mrns, fid, start="2026-02-03T10:00")
    clinic.group_session(mrns[:2], fid, start="2026-02-10T10:00")
    login("biller")
    monkeypatch.setattr(preflight_summary, "PATIENTS_PER_PAGE", 2)
    monkeypatch.setattr(hl7_messages, "MESSAGES_PER_PAGE", 3)
    with count_queries() as preflight:
        html = _text(client.get("/billing/preflight?from=2026-02-01&to=2026-02-28"))
    assert "Patients 1–2 of 5" in html and "/billing/preflight?page=2&amp;from=2026-02-01&amp;to=2026-02-28" in html
    batch = clinic.export("2026-02-01", "2026-02-28")["id"]
    loaded: list = []

    def load(target, context):
        loaded.append(target.id)

    sa.event.listen(BillingLine, "load", load)
    try:
        with count_queries() as page_one:
            html = _text(client.get(f"/billing/exports/{batch}"))
        assert "Patients 1–2 of 5, most lines held back first;" in html and "3 more on the next pages" in html
        assert "holds back 2 lines" in html and html.count("block\">NO_ADDRESS</span>") == 2
        assert f'href="/billing/exports/{batch}?page=2"' in html
        with count_queries() as page_three:
            last = _text(client.get(f"/billing/exports/{batch}?page=3"))
        assert "Patients 5–5 of 5" in last and last.count("block\">NO_ADDRESS</span>") == 1
        assert "holds back 1 line<" in last
        # most lines first: Pat0 and Pat1 came twice
        assert "Pat0 " in html and "Pat1 " in html and "Pat0 " not in last and "Pat1 " not in last
        assert loaded == []  # the old page read every line of the batch through the ORM

        for mrn in mrns:  # complete the records: the charge messages can be made
            clinic.call("patch", f"/patients/{mrn}", ADDRESS)
        assert client.get(f"/billing/exports/{batch}.hl7").status_code == 200
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Hl7Message)) == 7  # one a patient visit
        with count_queries() as messages:
            html = _text(client.get(f"/billing/exports/{batch}?messages_page=2"))
        assert "Messages 4–6 of 7" in html and html.count("<code>") == 3 and "Previous messages" in html
        assert "What keeps this batch" not in html
    finally:
        sa.event.remove(BillingLine, "load", load)
    # a fixed number of statements: the user, the batch, whether its rows are counted, the claims its voids refer
    # to, the summary, the payer list, the fees, the settings, the messages' count and page (and their patients,
    # when there are some); the first view also counts the batch's rows (one INSERT; SQLite runs that request
    # again with the write lock from its start)
    assert page_three.count == messages.count - 1 == 10, [s[:60] for s in page_three.statements]
    fills = [sum(s.startswith("INSERT INTO preflight_tally") for s in c.statements) for c in (page_one, page_three)]
    assert fills == [1, 0] and page_three.count < page_one.count <= page_three.count + 4
    assert preflight.count == 5, preflight.statements
