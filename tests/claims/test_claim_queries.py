"""The claim pages and downloads run the same number of SQL statements for 2 or 8 patient visits:
the preflight (page and API), the batch page, the first (making) and a later (kept) .837 and .hl7
download, the charge-message list, and a correcting batch of voids, replacements and identity
corrections (void + new claim)."""

from __future__ import annotations

import sqlalchemy as sa

from roster.extensions import db
from roster.models import BillingLine, Claim
from roster.services import claims as claim_service
from tests.billing.clinic import Clinic
from tests.claims.files import ADDRESS, assert_pyx12_accepts, claims_of, set_up_clinic


def _month(clinic: Clinic, fid: int, month: int, sessions: int) -> list[str]:
    """``sessions`` held sessions of two patients each in 2026-``month``; returns the patients' MRNs."""
    mrns = []
    for day in range(2, 2 + sessions):
        pair = [clinic.patient(**ADDRESS), clinic.patient(**ADDRESS)]
        clinic.group_session(pair, fid, start=f"2026-{month:02d}-{day:02d}T10:00")
        mrns.extend(pair)
    return mrns


def _downloads(client, api, batch_id: int, counts: dict, prefix: str, count_queries) -> str:
    def measure(name, path, status=200):
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == status, (path, response.status_code)
        counts[f"{prefix} {name}"] = counter.count
        return response.get_data(as_text=True)

    measure("batch page", f"/billing/exports/{batch_id}")
    x12 = measure("837 made", f"/billing/exports/{batch_id}.837")
    assert measure("837 kept", f"/billing/exports/{batch_id}.837") == x12
    measure("hl7 made", f"/billing/exports/{batch_id}.hl7")
    measure("hl7 kept", f"/billing/exports/{batch_id}.hl7")
    measure("batch page with messages", f"/billing/exports/{batch_id}")
    with count_queries() as counter:
        assert api.get(f"/billing/exports/{batch_id}/hl7-messages").status_code == 200
    counts[f"{prefix} hl7-messages api"] = counter.count
    return x12


def _measure(client, clinic: Clinic, month: int, mrns: list[str], count_queries) -> tuple[dict, list[str]]:
    counts: dict[str, int] = {}
    period = f"from=2026-{month:02d}-01&to=2026-{month:02d}-28"
    with count_queries() as page:
        assert client.get(f"/billing/preflight?{period}").status_code == 200
    counts["preflight page"] = page.count
    with count_queries() as api_preflight:
        assert clinic.api.get(f"/billing/preflight?{period}").get_json() == {"problems": []}
    counts["preflight api"] = api_preflight.count
    first = clinic.export(f"2026-{month:02d}-01", f"2026-{month:02d}-28")["id"]
    x12 = _downloads(client, clinic.api, first, counts, "first", count_queries)
    assert_pyx12_accepts(x12)
    for number, mrn in enumerate(mrns):  # every visit corrected: a member id or a diagnosis
        body = {"member_id": f"9ZZ{mrn}"} if number % 2 else {"diagnosis_codes": ["I69.391"]}
        clinic.call("patch", f"/patients/{mrn}", body)
    second = clinic.export(f"2026-{month:02d}-01", f"2026-{month:02d}-28")["id"]
    x12 = _downloads(client, clinic.api, second, counts, "correction", count_queries)
    assert_pyx12_accepts(x12)
    return counts, [c["frequency"] for c in claims_of(x12)]


def test_claim_pages_and_downloads_run_a_bounded_number_of_queries(api, client, login, count_queries):
    admin = api("admin")
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    login("biller")
    few, few_frequencies = _measure(client, clinic, 2, _month(clinic, fid, 2, 1), count_queries)
    many, many_frequencies = _measure(client, clinic, 3, _month(clinic, fid, 3, 4), count_queries)

    # 2 visits: one replacement (diagnosis) and one member id correction (void + new); 8 visits: 4 and 4
    assert sorted(few_frequencies) == ["1", "7", "8"]
    assert sorted(many_frequencies) == ["1"] * 4 + ["7"] * 4 + ["8"] * 4
    assert few == many, {k: (few[k], many[k]) for k in few if few[k] != many[k]}
    ceilings = {"preflight": 10, "batch page": 15, "837 made": 40, "837 kept": 6, "hl7 made": 30, "hl7 kept": 8,
                "hl7-messages api": 6}
    for name, count in few.items():
        ceiling = next(v for k, v in ceilings.items() if name.endswith(k) or name.startswith(k)
                       or f" {k}" in name)
        assert count <= ceiling, (name, count, ceiling)


def test_the_void_preflight_reads_only_the_claims_its_void_rows_refer_to(app, api):
    admin = api("admin")
    set_up_clinic(admin)
    clinic = Clinic(admin)
    fid = clinic.facilitator()
    kept, corrected = _month(clinic, fid, 2, 1)
    batch = clinic.export("2026-02-01", "2026-02-28")["id"]
    assert admin.get(f"/billing/exports/{batch}.837").status_code == 200
    clinic.call("patch", f"/patients/{corrected}", {"diagnosis_codes": ["I69.391"]})
    correction = clinic.export("2026-02-01", "2026-02-28")["id"]
    with app.app_context():
        voided = db.session.scalar(sa.select(BillingLine.id).where(BillingLine.void_batch_id == correction))
        kept_line = db.session.scalar(sa.select(BillingLine.id).where(
            BillingLine.export_batch_id == batch, BillingLine.id != voided))
        assert len(db.session.scalars(sa.select(Claim.id)).all()) == 2  # both patients' claims are kept
        # only the claim the void row refers to is read: the other patient's claim (kept_line) is not
        assert claim_service._claimed_line_ids(correction) == {voided}
        assert kept_line not in claim_service._claimed_line_ids(batch)
