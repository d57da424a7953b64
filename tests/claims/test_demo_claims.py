"""The demo clinic carries everything a claim needs: its held sessions, exported through the API
alone, give an 837P that pyx12 accepts and an HL7 batch whose every message hl7apy validates."""

from __future__ import annotations

from datetime import date, timedelta

from tests.builders import ApiClient
from tests.claims.files import assert_pyx12_accepts, claims_of, hl7_messages, hl7apy_validates, segments


def test_the_demo_clinics_held_sessions_export_as_valid_837p_and_hl7(app, runner):
    assert runner.invoke(args=["roster", "seed-demo"]).exit_code == 0
    token = runner.invoke(args=["roster", "create-token", "biller@roster.demo"]).output.strip().splitlines()[-1]
    biller = ApiClient(app.test_client(), token)
    today = date.today()
    window = {"from": (today - timedelta(days=40)).isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    assert biller.get(f"/billing/preflight?from={window['from']}&to={window['to']}").get_json() == {"problems": []}
    ready = [l for l in biller.get(f"/billing/lines?from={window['from']}&to={window['to']}").get_json()["lines"]
             if l["status"] == "ready"]
    assert len(ready) > 10
    export = biller.post("/billing/exports", json=window)
    assert export.status_code == 201 and export.get_json()["rows"] == len(ready)
    batch_id = export.get_json()["id"]

    x12 = biller.get(f"/billing/exports/{batch_id}.837")
    assert x12.status_code == 200 and x12.mimetype == "application/edi-x12"
    text = x12.get_data(as_text=True)
    assert_pyx12_accepts(text)
    claims = claims_of(text)
    assert sum(len(c["lines"]) for c in claims) == len(ready)
    assert {c["frequency"] for c in claims} == {"1"}
    assert ["NM1", "85", "2", "LAKESHORE REHABILITATION CLINIC", "", "", "", "", "XX", "1555012347"] in segments(text)
    assert {c["rendering"] for c in claims} <= {"1234567893", "1987654328", "1456789019", "1679576722"}

    hl7 = biller.get(f"/billing/exports/{batch_id}.hl7")
    assert hl7.status_code == 200
    envelope, messages = hl7_messages(hl7.get_data(as_text=True))
    assert envelope[0].startswith("FHS|") and envelope[1].startswith("BHS|") and envelope[2] == f"BTS|{len(messages)}"
    assert len(messages) == len(claims)
    for message in messages:
        hl7apy_validates(message)
