"""The claim preflight of a batch or a range as things to fix, counted by the database in one statement.

The line-by-line preflight (``claims.preflight_batch``) reads every line through the ORM: 10 s and
200,000 problems for a year's batch. A page needs only what holds lines back and how many: one
statement reads each line's facts as plain columns (the roster row kept at export, the patient's
address and sex as they are now, the fixed charge), applies the rules on a patient's record in SQL,
and returns one row per payer name, code and rendering NPI and one page of patients. The rules on
payers, fees and NPIs (a few dozen distinct values) run in Python, in the domain
(``domain/preflight_summary``). tests/claims/test_preflight_summary.py holds the SQL and the
line-by-line rules to the same counts on every rule, on both databases.

An exported line is never edited, so its kept row's identity, codes and NPI are the line's own
columns; the kept JSON row is read only for lines older than those columns (their ``patient_*``,
``payer`` and ``member_id`` are blank).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from roster.domain import claim_preflight as pf
from roster.domain import preflight_summary as ps
from roster.extensions import db
from roster.services import clinic
from roster.services.claim_facts import clinic_facts
from roster.services.paging import clamp, page_count

PATIENTS_PER_PAGE = 50

_JSON = {
    "sqlite": {"get": "json_extract(bl.exported_row, '$.{0}')", "is_row": "json_type(bl.exported_row) = 'object'",
               "type": "json_type", "length": "json_array_length"},
    "postgresql": {"get": "(bl.exported_row ->> '{0}')", "is_row": "json_typeof(bl.exported_row) = 'object'",
                   "type": "json_typeof", "length": "json_array_length"},
}


def _kept(dialect: str, column: str, patient_column: str, batch: bool) -> str:
    """A batch row's (or a ready line's) ``column`` as the roster row has it: the line's own, else the kept
    row's (older lines), else the patient's (a line without a kept row reads as it is now)."""
    if not batch:
        return f"coalesce(bl.{column}, p.{patient_column})"
    j = _JSON[dialect]
    return (f"CASE WHEN bl.{column} IS NOT NULL THEN bl.{column}"
            f" WHEN {j['is_row']} THEN {j['get'].format(column)} ELSE p.{patient_column} END")


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _facts_sql(dialect: str, batch: bool, excluded: bool) -> str:
    """Each line's facts, a rule on a patient's record already applied (1: the line has that problem)."""
    j = _JSON[dialect]
    kept_dob = _flag(f"coalesce({j['get'].format('patient_dob')}, '') = ''")
    no_dob = (f"CASE WHEN bl.patient_dob IS NOT NULL THEN 0 WHEN {j['is_row']} THEN {kept_dob}"
              f" ELSE {_flag('p.dob IS NULL')} END" if batch else _flag("coalesce(bl.patient_dob, p.dob) IS NULL"))
    flags = {
        "no_address": _flag(" OR ".join(f"coalesce(p.{c}, '') = ''" for c in
                                        ("address_line1", "address_city", "address_state", "address_zip"))),
        "no_sex": "CASE WHEN p.sex IN ('F', 'M', 'U') THEN 0 ELSE 1 END",
        "no_dob": no_dob,
        "no_member_id": _flag(f"coalesce({_kept(dialect, 'member_id', 'member_id', batch)}, '') = ''"),
        "no_diagnosis": (f"CASE WHEN {j['type']}(bl.diagnosis_codes) = 'array'"
                         f" THEN {_flag(j['length'] + '(bl.diagnosis_codes) = 0')} ELSE 1 END"),
    }
    where = ("(bl.export_batch_id = :batch_id OR bl.void_batch_id = :batch_id)"
             + (" AND bl.id NOT IN :excluded" if excluded else "")) if batch else (
        "bl.status = 'ready' AND bl.date_of_service >= :date_from AND bl.date_of_service <= :date_to")
    charge = ("LEFT OUTER JOIN line_charge lc ON lc.billing_line_id = bl.id", _flag("lc.billing_line_id IS NOT NULL")
              ) if batch else ("", "0")
    return (
        "SELECT bl.patient_id AS patient_id, "
        + ", ".join(f"{sql} AS {name}" for name, sql in flags.items())
        + f", coalesce({_kept(dialect, 'payer', 'payer', batch)}, '') AS payer, bl.cpt AS cpt,"
        f" {charge[1]} AS fixed, bl.rendering_npi AS npi, bl.facilitator_id AS facilitator_id"
        f" FROM billing_line bl JOIN patient p ON p.id = bl.patient_id {charge[0]} WHERE {where}"
    )


_CODES = ("no_address", "no_sex", "no_dob", "no_member_id", "no_payer", "no_diagnosis")
_HELD = "no_address = 1 OR no_sex = 1 OR no_dob = 1 OR no_member_id = 1 OR payer = '' OR no_diagnosis = 1"


def _statement(dialect: str, batch: bool, excluded: bool) -> str:
    """One statement: every kind of row the summary needs (``kind`` says which), over the facts grouped once."""
    sums = ", ".join(f"sum(n * {c}) AS {c}" if c != "no_payer" else "sum(CASE WHEN payer = '' THEN n ELSE 0 END)"
                     " AS no_payer" for c in _CODES)
    none = ", ".join(f"NULL AS {c}" for c in _CODES)
    return (
        f"WITH f AS ({_facts_sql(dialect, batch, excluded)}),"
        " g AS (SELECT patient_id, no_address, no_sex, no_dob, no_member_id, no_diagnosis, payer, cpt, fixed, npi,"
        " facilitator_id, count(*) AS n FROM f GROUP BY patient_id, no_address, no_sex, no_dob, no_member_id,"
        " no_diagnosis, payer, cpt, fixed, npi, facilitator_id),"
        f" held AS (SELECT patient_id, sum(n) AS lines, {sums} FROM g WHERE {_HELD} GROUP BY patient_id)"
        " SELECT * FROM (SELECT 'patient' AS kind, p.mrn AS name, p.first_name || ' ' || p.last_name AS label,"
        f" h.patient_id AS ref, h.lines AS lines, {', '.join('h.' + c for c in _CODES)}"
        " FROM held h JOIN patient p ON p.id = h.patient_id"
        " ORDER BY h.lines DESC, p.last_name, p.first_name, p.mrn LIMIT :limit OFFSET :offset) AS page"
        f" UNION ALL SELECT 'patients', NULL, NULL, count(*), sum(lines), {', '.join(f'sum({c})' for c in _CODES)}"
        " FROM held"
        f" UNION ALL SELECT 'all', NULL, NULL, NULL, sum(n), {none} FROM g"
        f" UNION ALL SELECT 'payer', payer, NULL, NULL, sum(n), {none} FROM g WHERE payer <> '' GROUP BY payer"
        f" UNION ALL SELECT 'code', cpt, NULL, NULL, sum(n), {none} FROM g WHERE fixed = 0 GROUP BY cpt"
        f" UNION ALL SELECT 'npi', g.npi, fa.name, g.facilitator_id, sum(g.n), {none} FROM g"
        " LEFT OUTER JOIN facilitator fa ON fa.id = g.facilitator_id GROUP BY g.npi, g.facilitator_id, fa.name"
    )


def _summarize(rows, purpose: str, page: int) -> ps.Summary:
    payers, fees = clinic.payers_by_key(), clinic.fee_schedule()
    patients, payer_names, codes, renderings = [], [], [], []
    lines, total, patient_codes = 0, 0, {}
    for r in rows:
        if r.kind == "patient":
            patients.append(ps.PatientTally(r.ref, r.label, r.name, int(r.lines), {
                code: int(getattr(r, code.lower()) or 0) for code in pf.PATIENT_MESSAGES}))
        elif r.kind == "patients":
            total = int(r.ref or 0)
            patient_codes = {code: int(getattr(r, code.lower()) or 0) for code in pf.PATIENT_MESSAGES}
        elif r.kind == "all":
            lines = int(r.lines or 0)
        elif r.kind == "payer":
            payer = payers.get(clinic.name_key(r.name))
            facts = None if payer is None else pf.PayerFacts(payer.id, payer.name, payer.payer_id,
                                                             payer.claim_filing_indicator)
            payer_names.append((r.name, facts, int(r.lines)))
        elif r.kind == "code":
            codes.append((r.name, r.name in fees, int(r.lines)))
        else:
            renderings.append((r.name, r.ref, r.label, int(r.lines)))
    settings = ps.settings_fixes(clinic_facts(clinic.get_settings()), purpose, lines, payer_names, codes, renderings)
    pages = page_count(total, PATIENTS_PER_PAGE)
    return ps.Summary(lines, ps.problem_count(settings, patient_codes), tuple(settings),
                      tuple(ps.patient_fix(t) for t in patients), total, clamp(page, pages), pages,
                      PATIENTS_PER_PAGE)


def _run(batch: bool, params: dict, excluded: list[int], purpose: str, page: int | None) -> ps.Summary:
    conn = db.session.connection()
    pages_seen = max(page or 1, 1)
    stmt = sa.text(_statement(conn.dialect.name, batch, bool(excluded)))
    if excluded:
        stmt = stmt.bindparams(sa.bindparam("excluded", excluded, expanding=True))
    rows = conn.execute(stmt, {**params, "limit": PATIENTS_PER_PAGE,
                               "offset": (pages_seen - 1) * PATIENTS_PER_PAGE}).all()
    summary = _summarize(rows, purpose, pages_seen)
    if summary.patient_page != pages_seen and summary.patient_total:  # past the last page: show the last
        return _run(batch, params, excluded, purpose, summary.patient_page)
    return summary


def batch_summary(batch_id: int, purpose: str = pf.X12, page: int | None = None) -> ps.Summary:
    """What keeps a batch's rows off a valid claim file (void rows already on a kept claim need nothing)."""
    from roster.services.claims import _claimed_line_ids

    excluded = sorted(_claimed_line_ids(batch_id)) if purpose == pf.X12 else []
    return _run(True, {"batch_id": batch_id}, excluded, purpose, page)


def range_summary(date_from: date, date_to: date, purpose: str = pf.X12, page: int | None = None) -> ps.Summary:
    """What keeps the ready lines of a range off a valid claim file."""
    return _run(False, {"date_from": date_from, "date_to": date_to}, [], purpose, page)
