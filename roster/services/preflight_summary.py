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
from roster.models import PreflightTally
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


def _facts_sql(dialect: str, source: str) -> str:
    """Each line's facts as its roster row has them, a rule on the row already applied (1: the line has that
    problem). ``source``: ``new`` (a batch's new rows), ``void`` (its void rows, those already on a kept claim
    left out), ``ready`` (a range's ready lines)."""
    j, batch = _JSON[dialect], source != "ready"
    kept_dob = _flag(f"coalesce({j['get'].format('patient_dob')}, '') = ''")
    no_dob = (f"CASE WHEN bl.patient_dob IS NOT NULL THEN 0 WHEN {j['is_row']} THEN {kept_dob}"
              f" ELSE {_flag('p.dob IS NULL')} END" if batch else _flag("coalesce(bl.patient_dob, p.dob) IS NULL"))
    no_member_id = _flag(f"coalesce({_kept(dialect, 'member_id', 'member_id', batch)}, '') = ''")
    where = {
        "new": "bl.export_batch_id = :batch_id AND (bl.void_batch_id IS NULL OR bl.void_batch_id <> :batch_id)",
        "void": "bl.void_batch_id = :batch_id",
        "voids": "bl.void_batch_id = :batch_id AND bl.id NOT IN :excluded",
        "ready": "bl.status = 'ready' AND bl.date_of_service >= :date_from AND bl.date_of_service <= :date_to",
    }[source]
    return (
        f"SELECT bl.patient_id AS patient_id, {no_dob} AS no_dob,"
        f" {no_member_id} AS no_member_id,"
        f" CASE WHEN {j['type']}(bl.diagnosis_codes) = 'array'"
        f" THEN {_flag(j['length'] + '(bl.diagnosis_codes) = 0')} ELSE 1 END AS no_diagnosis,"
        f" coalesce({_kept(dialect, 'payer', 'payer', batch)}, '') AS payer, bl.cpt AS cpt, bl.rendering_npi AS npi,"
        f" bl.facilitator_id AS facilitator_id FROM billing_line bl JOIN patient p ON p.id = bl.patient_id WHERE {where}"
    )


TALLY_COLUMNS = ("kind", "key", "patient_id", "payer", "cpt", "npi", "facilitator_id", "lines", "row_held", "no_dob",
                 "no_member_id", "no_payer", "no_diagnosis")
_ZEROS = "0, 0, 0, 0, 0"


def _tally_sql(dialect: str, source: str) -> str:
    """The lines of ``source`` counted as ``preflight_tally`` keeps them (TALLY_COLUMNS)."""
    held = "no_dob = 1 OR no_member_id = 1 OR payer = '' OR no_diagnosis = 1"
    return (
        f"SELECT * FROM (WITH f AS ({_facts_sql(dialect, source)})"
        " SELECT 'patient' AS kind, CAST(patient_id AS TEXT) AS key, patient_id, CAST(NULL AS TEXT) AS payer,"
        " CAST(NULL AS TEXT) AS cpt, CAST(NULL AS TEXT) AS npi, CAST(NULL AS INTEGER) AS facilitator_id,"
        f" count(*) AS lines, sum({_flag(held)}) AS row_held,"
        " sum(no_dob) AS no_dob, sum(no_member_id) AS no_member_id, sum(CASE WHEN payer = '' THEN 1 ELSE 0 END)"
        " AS no_payer, sum(no_diagnosis) AS no_diagnosis FROM f GROUP BY patient_id"
        f" UNION ALL SELECT 'payer', payer, NULL, payer, NULL, NULL, NULL, count(*), {_ZEROS} FROM f"
        " WHERE payer <> '' GROUP BY payer"
        f" UNION ALL SELECT 'code', cpt, NULL, NULL, cpt, NULL, NULL, count(*), {_ZEROS} FROM f GROUP BY cpt"
        " UNION ALL SELECT 'npi', coalesce(npi, '') || '|' || coalesce(CAST(facilitator_id AS TEXT), ''), NULL, NULL,"
        f" NULL, npi, facilitator_id, count(*), {_ZEROS} FROM f GROUP BY npi, facilitator_id"
        f" UNION ALL SELECT 'all', '', NULL, NULL, NULL, NULL, NULL, count(*), {_ZEROS} FROM f) AS {source}_tally"
    )


def _keep_tally_sql(dialect: str) -> str:
    columns = ", ".join(TALLY_COLUMNS)
    return (f"INSERT INTO preflight_tally (export_batch_id, {columns}) SELECT :batch_id, {columns}"
            f" FROM ({_tally_sql(dialect, 'new')}) AS t WHERE true ON CONFLICT DO NOTHING")


_KEPT = f"SELECT {', '.join(TALLY_COLUMNS)} FROM preflight_tally WHERE export_batch_id = :batch_id"
_CODES = ("no_address", "no_sex", "no_dob", "no_member_id", "no_payer", "no_diagnosis")


def _statement(dialect: str, source: str, excluded: bool = False) -> str:
    """One statement: every kind of row the summary needs (``kind`` says which). ``source``: ``kept`` (a batch:
    its new rows as counted in preflight_tally, its void rows counted now) or ``ready`` (a range)."""
    sums = ("sum(lines) AS lines, sum(row_held) AS row_held, sum(no_dob) AS no_dob, sum(no_member_id) AS no_member_id,"
            " sum(no_payer) AS no_payer, sum(no_diagnosis) AS no_diagnosis")
    if source == "ready":
        ctes, fixed = f"t AS ({_tally_sql(dialect, 'ready')})", "0"
        patients = f"SELECT patient_id, {sums} FROM t WHERE kind = 'patient' GROUP BY patient_id"
    else:
        ctes = (f"tv AS ({_tally_sql(dialect, 'voids' if excluded else 'void')}),"
                f" t AS ({_KEPT} AND kind <> 'patient' UNION ALL SELECT * FROM tv WHERE kind <> 'patient')")
        # the kept rows (one a patient) read straight from the table, the few void rows added to them: no
        # grouping of ten thousand rows, and statistics that give PostgreSQL a hash join with patients
        both = ", ".join(f"k.{c} + coalesce(v.{c}, 0) AS {c}" for c in
                         ("lines", "row_held", "no_dob", "no_member_id", "no_payer", "no_diagnosis"))
        patients = (
            f"SELECT k.patient_id, {both} FROM preflight_tally k LEFT OUTER JOIN tv v ON v.kind = 'patient'"
            " AND v.patient_id = k.patient_id WHERE k.export_batch_id = :batch_id AND k.kind = 'patient'"
            " UNION ALL SELECT patient_id, lines, row_held, no_dob, no_member_id, no_payer, no_diagnosis FROM tv v"
            " WHERE v.kind = 'patient' AND NOT EXISTS (SELECT 1 FROM preflight_tally k WHERE"
            " k.export_batch_id = :batch_id AND k.kind = 'patient' AND k.key = CAST(v.patient_id AS TEXT))")
        # a line whose charge was fixed on a claim needs no fee (asked only of a code without one; CROSS JOIN:
        # SQLite goes from the fixed charges, not through the batch's lines, PostgreSQL picks by its statistics)
        fixed = ("CASE WHEN EXISTS (SELECT 1 FROM fee WHERE fee.cpt = t.cpt) THEN 0 ELSE (SELECT count(*)"
                 " FROM line_charge lc CROSS JOIN billing_line bl WHERE bl.id = lc.billing_line_id AND bl.cpt = t.cpt AND"
                 " (bl.export_batch_id = :batch_id OR bl.void_batch_id = :batch_id)"
                 + (" AND NOT (bl.void_batch_id = :batch_id AND bl.id IN :excluded)" if excluded else "") + ") END")
    address = " OR ".join(f"coalesce(p.{c}, '') = ''" for c in
                          ("address_line1", "address_city", "address_state", "address_zip"))
    none = ", ".join(f"NULL AS {c}" for c in _CODES)
    return (
        f"WITH {ctes},"
        f" pt AS ({patients}),"
        " pp AS (SELECT pt.*, p.mrn, p.first_name, p.last_name,"
        f" {_flag(address)} AS a, CASE WHEN p.sex IN ('F', 'M', 'U') THEN 0 ELSE 1 END AS s"
        " FROM pt JOIN patient p ON p.id = pt.patient_id),"
        " h AS (SELECT patient_id, mrn, first_name, last_name, CASE WHEN a = 1 OR s = 1 THEN lines ELSE row_held END"
        " AS held, a * lines AS no_address, s * lines AS no_sex, no_dob, no_member_id, no_payer, no_diagnosis FROM pp)"
        " SELECT 'patient' AS kind, mrn AS name, first_name || ' ' || last_name AS label,"
        f" patient_id AS ref, held AS lines, {', '.join(_CODES)} FROM (SELECT * FROM h WHERE held > 0"
        " ORDER BY held DESC, last_name, first_name, mrn LIMIT :limit OFFSET :offset) AS page"
        f" UNION ALL SELECT 'patients', NULL, NULL, count(*), sum(held), {', '.join(f'sum({c})' for c in _CODES)}"
        " FROM h WHERE held > 0"
        f" UNION ALL SELECT 'all', NULL, NULL, NULL, sum(lines), {none} FROM t WHERE kind = 'all'"
        f" UNION ALL SELECT 'payer', payer, NULL, NULL, sum(lines), {none} FROM t WHERE kind = 'payer' GROUP BY payer"
        f" UNION ALL SELECT 'code', t.cpt, NULL, NULL, sum(t.lines) - {fixed}, {none} FROM t WHERE t.kind = 'code'"
        " GROUP BY t.cpt"
        f" UNION ALL SELECT 'npi', t.npi, fa.name, t.facilitator_id, sum(t.lines), {none} FROM t"
        " LEFT OUTER JOIN facilitator fa ON fa.id = t.facilitator_id WHERE t.kind = 'npi'"
        " GROUP BY t.npi, t.facilitator_id, fa.name"
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


def _run(source: str, params: dict, excluded: list[int], purpose: str, page: int | None) -> ps.Summary:
    conn = db.session.connection()
    pages_seen = max(page or 1, 1)
    stmt = sa.text(_statement(conn.dialect.name, source, bool(excluded)))
    if excluded:
        stmt = stmt.bindparams(sa.bindparam("excluded", excluded, expanding=True))
    rows = conn.execute(stmt, {**params, "limit": PATIENTS_PER_PAGE,
                               "offset": (pages_seen - 1) * PATIENTS_PER_PAGE}).all()
    summary = _summarize(rows, purpose, pages_seen)
    if summary.patient_page != pages_seen and summary.patient_total:  # past the last page: show the last
        return _run(source, params, excluded, purpose, summary.patient_page)
    return summary


def keep_tally(batch_id: int) -> None:
    """Count the batch's new rows once and keep the counts (one statement; a second caller at the same
    moment adds nothing)."""
    conn = db.session.connection()
    conn.execute(sa.text(_keep_tally_sql(conn.dialect.name)), {"batch_id": batch_id})


def batch_summary(batch_id: int, purpose: str = pf.X12, page: int | None = None) -> ps.Summary:
    """What keeps a batch's rows off a valid claim file (void rows already on a kept claim need nothing).
    The first call counts the batch's new rows and keeps the counts; later calls read them."""
    from roster.services.claims import _claimed_line_ids

    if db.session.scalar(sa.select(PreflightTally.lines).where(
            PreflightTally.export_batch_id == batch_id, PreflightTally.kind == "all")) is None:
        keep_tally(batch_id)
    excluded = sorted(_claimed_line_ids(batch_id)) if purpose == pf.X12 else []
    return _run("kept", {"batch_id": batch_id}, excluded, purpose, page)


def range_summary(date_from: date, date_to: date, purpose: str = pf.X12, page: int | None = None) -> ps.Summary:
    """What keeps the ready lines of a range off a valid claim file."""
    return _run("ready", {"date_from": date_from, "date_to": date_to}, [], purpose, page)
