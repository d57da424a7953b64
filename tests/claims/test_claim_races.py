"""Sixteen billers ask for a new batch's 837P and HL7 batch at the same moment (a first batch and a
correcting one): every answer is the same file, and the batch holds one set of claims, one claim file
and one message per visit (the losers of the race find what the winner kept). Runs on both databases."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from roster.extensions import db
from roster.models import Claim, ClaimFile, Hl7Message
from tests.billing.clinic import Clinic
from tests.claims.files import ADDRESS, assert_pyx12_accepts, claims_of, set_up_clinic

BILLERS = 16


def _race(billers, path: str) -> list[tuple[int, str]]:
    barrier = threading.Barrier(len(billers))

    def get(biller):
        barrier.wait(timeout=30)
        response = biller.get(path)
        return response.status_code, response.get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=len(billers)) as pool:
        return list(pool.map(get, billers))


def _judge(app, billers, batch_id: int) -> list[str]:
    x12 = _race(billers, f"/billing/exports/{batch_id}.837")
    assert {status for status, _ in x12} == {200}, [s for s, _ in x12]
    assert len({body for _, body in x12}) == 1  # one file, the same control numbers for everyone
    hl7 = _race(billers, f"/billing/exports/{batch_id}.hl7")
    assert {status for status, _ in hl7} == {200}
    assert len({body.split("\r", 2)[2] for _, body in hl7}) == 1  # same messages (FHS/BHS carry the time)
    with app.app_context():
        count = lambda model: db.session.scalar(  # noqa: E731
            sa.select(sa.func.count()).select_from(model).where(model.export_batch_id == batch_id))
        assert count(ClaimFile) == 1
        assert count(Claim) == len(claims_of(x12[0][1]))
        assert count(Hl7Message) == hl7[0][1].count("MSH|")
    assert_pyx12_accepts(x12[0][1])
    return [c["frequency"] for c in claims_of(x12[0][1])]


def test_sixteen_billers_asking_for_a_new_batch_s_files_at_once_get_one_file(app, api):
    admin = api("admin")
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    mrns = [clinic.patient(**ADDRESS) for _ in range(4)]
    clinic.group_session(mrns, fid, start="2026-02-03T10:00")
    billers = [api("biller") for _ in range(BILLERS)]
    first = clinic.export("2026-02-01", "2026-02-28")["id"]
    assert _judge(app, billers, first) == ["1"] * 4
    clinic.call("patch", f"/patients/{mrns[0]}", {"member_id": "9ZZ0001"})
    clinic.call("patch", f"/patients/{mrns[1]}", {"diagnosis_codes": ["I69.391"]})
    correction = clinic.export("2026-02-01", "2026-02-28")["id"]
    assert sorted(_judge(app, billers, correction)) == ["1", "7", "8"]
