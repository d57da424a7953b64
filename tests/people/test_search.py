"""Search by name whatever the accents, case or word order; indexed on PostgreSQL (EXPLAIN)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.services import search


@pytest.fixture
def people(build):
    jose = build.patient(mrn="A-1001", first_name="José", last_name="Núñez")
    walter = build.patient(mrn="B-2002", first_name="Walter", last_name="O'Brien")
    femi = build.caregiver([jose], first_name="Femi", last_name="Jensen", phone="(312) 555-0142")
    zoe = build.caregiver([walter], first_name="Zoë", last_name="Ødegaard", phone="773 555 9000")
    build.caregiver([], first_name="Femke", last_name="Jansen", phone="555-7777")
    return {"jose": jose, "walter": walter, "femi": femi, "zoe": zoe}


def _names(rows):
    return [f"{r.first_name} {r.last_name}" for r in rows]


@pytest.mark.parametrize("query, found", [
    ("Nunez", ["Femi Jensen"]),  # through the patient, without the accent
    ("NÚÑEZ josé", ["Femi Jensen"]),
    ("Jensen, Femi", ["Femi Jensen"]),  # either name order
    ("femi jensen", ["Femi Jensen"]),
    ("odegaard", ["Zoë Ødegaard"]),
    ("zoe", ["Zoë Ødegaard"]),
    ("obrien", ["Zoë Ødegaard"]),  # the patient O'Brien
    ("a1001", ["Femi Jensen"]),  # MRN without its dash
    ("A-1001", ["Femi Jensen"]),
    ("555-0142", ["Femi Jensen"]),  # phone digits
    ("ensen", ["Femi Jensen"]),
    ("fem", ["Femke Jansen", "Femi Jensen"]),
    ("Jensen, Fred", []),
    # words of one or two letters: no trigram index can look them up, they still must occur
    ("fe", ["Femke Jansen", "Femi Jensen"]),
    ("je fem", ["Femi Jensen"]),  # a short word checked on what the long one found
    ("zo od", ["Zoë Ødegaard"]),  # only short words: walked in name order, then every caregiver
    ("jo nunez", ["Femi Jensen"]),  # through the patient
    ("qx", []),
])
def test_walk_in_search(ctx, people, query, found):
    assert _names(search.search_caregivers(query)) == found


def test_walk_in_search_needs_two_characters(ctx, people):
    assert search.search_caregivers("j") == []
    assert search.search_caregivers(" ,; ") == []


def test_people_pages_search_without_accents_and_in_either_order(client, login, people):
    login("coordinator")
    html = client.get("/people/patients", query_string={"q": "nunez"}).get_data(as_text=True)
    assert "Núñez" in html and "O&#39;Brien" not in html and "O'Brien" not in html
    html = client.get("/people/patients", query_string={"q": "Núñez, José"}).get_data(as_text=True)
    assert "Núñez" in html
    html = client.get("/people/caregivers", query_string={"q": "Jensen, Femi"}).get_data(as_text=True)
    assert "Femi" in html and "Femke" not in html
    html = client.get("/people/caregivers", query_string={"q": "ODEGAARD"}).get_data(as_text=True)
    assert "Ødegaard" in html


def test_renaming_keeps_the_key(ctx, people):
    from roster.models import Caregiver
    from roster.services import people as people_service

    femi = db.session.get(Caregiver, people["femi"].id)
    people_service.update_caregiver(femi, {"last_name": "Müller"})
    db.session.flush()
    assert _names(search.search_caregivers("muller femi")) == ["Femi Müller"]
    assert search.search_caregivers("femi jensen") == []


def test_walk_in_search_runs_a_fixed_number_of_queries(app, client, login, people, count_queries, build):
    from tests.frontdesk.desk import make_scene

    desk = make_scene(build, sets=1)
    login("front_desk")
    url = f"/frontdesk/sessions/{desk.session_id}/search"
    with count_queries() as few:
        client.get(url, query_string={"q": "fem"})
    for i in range(15):
        build.caregiver([people["jose"]], first_name="Femi", last_name=f"Jensen{i}")
    with count_queries() as many:
        client.get(url, query_string={"q": "fem"})
    assert many.count == few.count


def _plan(statement, params=None, *, generic=False, words=False) -> str:
    """The plan of ``statement``; ``generic``: PostgreSQL's generic plan (``search.plan_once``), made without
    the parameters' values, as for a statement psycopg has prepared. ``words``: what the walk-in's words (migration
    0019) can use at a clinic's size, where a test's few dozen would do with reading a whole btree or sorting."""
    compiled = statement.compile(db.engine)
    values = {**compiled.params, **(params or {})}
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(values[k] for k in compiled.positiontup))
            return "\n".join(row[-1] for row in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: make the planner show what it *can* use
        if words:
            conn.exec_driver_sql("SET enable_indexonlyscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
        if not generic:
            return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", values))
        names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", str(compiled))))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", str(compiled))
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE walk_in AS {numbered}")
        literals = ", ".join(str(sa.literal(values[n]).compile(db.engine, compile_kwargs={"literal_binds": True}))
                             for n in names)
        plan = conn.exec_driver_sql(f"EXPLAIN EXECUTE walk_in({literals})")
        text = "\n".join(row[0] for row in plan)
        conn.exec_driver_sql("DEALLOCATE walk_in")
        conn.exec_driver_sql("RESET plan_cache_mode")
        return text


@pytest.mark.postgres_only
def test_search_uses_the_trigram_indexes_on_postgresql(ctx, people):
    """Every branch of the walk-in UNION and the page searches can use its pg_trgm GIN index."""
    walk_in = search.caregiver_ids_matching("Jensen, Femi 555-01", through_patients=True)
    plan = _plan(walk_in)
    for index in ("ix_caregiver_search_key_trgm", "ix_caregiver_phone_digits_trgm"):
        assert index in plan, plan
    assert "Seq Scan" not in plan, plan
    # the patient branch (walk-in through a patient, and the patients page) has its own index
    assert "ix_patient_search_key_trgm" in _plan(search.patient_ids_matching("Núñez, José"))
    assert "ix_caregiver_search_key_trgm" in _plan(search.caregiver_ids_matching("jensen", through_patients=False))
    # the walk-in's ordered first ten: the same three indexes; a word too short for a trigram is a
    # filter (strpos), never part of an index condition (pg_trgm would read the whole index for it)
    # each branch is cut to its own first ten by name before the UNION (3 branches + the final cut), and
    # the caregivers found through a patient are sorted by the names on their links, never looked up one by
    # one. The same with the generic plan the walk-in runs once psycopg has prepared its statement.
    (stmt,), params = search.walk_in_ids("Jensen, Fe 555-01")
    for plan in (_plan(stmt, params), _plan(stmt, params, generic=True)):
        for index in ("ix_caregiver_search_key_trgm", "ix_caregiver_phone_digits_trgm", "ix_patient_search_key_trgm"):
            assert index in plan, plan
        assert "Seq Scan" not in plan and "strpos" in plan, plan
        assert not any("Index Cond" in line and "%fe%" in line for line in plan.splitlines()), plan
        assert plan.count("Limit") == 4 and "pk_caregiver" not in plan and " on caregiver_link" in plan, plan
    # a query of one word (what a desk types first) reads the first ten by name of each word of the caregivers'
    # and their patients' keys that holds it (migration 0019): words by their trigram index, then each word's
    # caregivers in name order from one index alone; no caregiver, patient or link is visited to sort them
    (stmt,), params = search.walk_in_ids("ens")
    for plan in (_plan(stmt, params, words=True), _plan(stmt, params, generic=True, words=True)):
        assert "Bitmap Index Scan on ix_search_word_trgm" in plan, plan
        assert re.search(r"Unique.*\n.*Index Scan using ix_caregiver_word_names", plan), plan  # in order, unsorted
        assert not re.search(r" on (caregiver|patient|caregiver_link)\b", plan) and "Seq Scan" not in plan, plan
    # every search reads a GIN index's whole pending list: it is kept short (migrations 0017, 0019)
    options = db.session.execute(sa.text("SELECT relname, reloptions FROM pg_class WHERE relname LIKE '%trgm'")).all()
    assert len(options) == 4 and all(row[1] == ["gin_pending_list_limit=64"] for row in options), options


@pytest.mark.parametrize("query", ["Jensen, Femi 555-01", "nunez"])
def test_search_reads_the_fts_indexes_on_sqlite(ctx, people, query):
    """SQLite: every branch of the walk-in search looks its words up in an FTS5 trigram table and reaches
    the caregivers by id; no table of people is scanned."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 tables are SQLite's (PostgreSQL: the pg_trgm test above)")
    (stmt,), params = search.walk_in_ids(query)
    plan = _plan(stmt, params)
    assert "SCAN caregiver_fts VIRTUAL TABLE INDEX" in plan and "SCAN patient_fts VIRTUAL TABLE INDEX" in plan, plan
    assert not any(line.startswith(("SCAN caregiver", "SCAN patient", "SCAN caregiver_link")) and "_fts" not in line
                   for line in plan.splitlines()), plan
    assert _names(search.search_caregivers(query)) == ["Femi Jensen"]


def test_the_search_indexes_stay_in_step_with_every_writer(ctx, people, build):
    """Insert (ORM and bulk Core, as bench-data and imports write), rename, new phone, delete: the search
    sees each at once (on SQLite through the FTS5 tables the triggers of migration 0016 keep), and every
    link carries its caregiver's name for the sort (migration 0017's triggers, both databases)."""
    from roster.domain.text import caregiver_search_key
    from roster.models import Caregiver, CaregiverLink

    def link_names():
        return db.session.execute(sa.select(CaregiverLink.caregiver_last_name, CaregiverLink.caregiver_first_name,
                                            Caregiver.last_name, Caregiver.first_name)
                                  .join(Caregiver, Caregiver.id == CaregiverLink.caregiver_id)).all()

    bulk_id = db.session.execute(sa.insert(Caregiver).returning(Caregiver.id), [
        {"first_name": "Bulk", "last_name": "Inserted", "phone": "", "phone_digits": "6085550199",
         "search_key": caregiver_search_key("Bulk", "Inserted")}]).scalar_one()
    db.session.execute(sa.insert(CaregiverLink), [{"caregiver_id": bulk_id, "patient_id": people["walter"].id,
                                                   "relationship": ""}])
    assert _names(search.search_caregivers("inserted bulk")) == ["Bulk Inserted"]
    assert _names(search.search_caregivers("5550199")) == ["Bulk Inserted"]
    zoe = db.session.get(Caregiver, people["zoe"].id)
    zoe.last_name = "Aalto"  # now first by name among O'Brien's caregivers (found through the patient)
    db.session.flush()
    assert _names(search.search_caregivers("obrien")) == ["Zoë Aalto", "Bulk Inserted"]
    rows = link_names()
    assert len(rows) == 3 and all(row[:2] == row[2:] for row in rows), rows
    femi = db.session.get(Caregiver, people["femi"].id)
    femi.phone, femi.phone_digits = "414 555 7000", "4145557000"
    db.session.flush()
    assert _names(search.search_caregivers("4145557")) == ["Femi Jensen"]
    assert search.search_caregivers("3125550142") == []
    from roster.models import Patient

    db.session.get(Patient, people["jose"].id).last_name = "Quiroga"  # found through the patient's new name only
    db.session.flush()
    assert _names(search.search_caregivers("quiroga")) == ["Femi Jensen"] and search.search_caregivers("nunez") == []
    db.session.execute(sa.delete(CaregiverLink).where(CaregiverLink.caregiver_id == bulk_id))
    assert _names(search.search_caregivers("obrien")) == ["Zoë Aalto"]
    _assert_words_in_step()
    db.session.delete(femi)
    db.session.flush()
    assert search.search_caregivers("femi jensen") == [] and search.search_caregivers("quiroga") == []
    _assert_words_in_step()
    if db.engine.dialect.name == "sqlite":  # the copies are exactly the tables' keys
        for table, columns in (("caregiver", "search_key, phone_digits"), ("patient", "search_key")):
            copy = db.session.execute(sa.text(f"SELECT rowid, {columns} FROM {table}_fts ORDER BY rowid")).all()
            assert copy == db.session.execute(sa.text(f"SELECT id, {columns} FROM {table} ORDER BY id")).all()


def _assert_words_in_step() -> None:
    """PostgreSQL: the words of the keys (migration 0019's table, kept by triggers) are exactly what the caregivers,
    their links and their patients give now."""
    if db.engine.dialect.name != "postgresql":
        return
    kept = db.session.execute(sa.text(
        "SELECT caregiver_id, patient_id, word, last_name, first_name FROM caregiver_word ORDER BY 1, 2, 3")).all()
    now = db.session.execute(sa.text(
        "SELECT DISTINCT s.id, s.patient_id, w, s.last_name, s.first_name FROM ("
        " SELECT c.id, 0 AS patient_id, c.search_key, c.last_name, c.first_name FROM caregiver c UNION ALL"
        " SELECT c.id, p.id, p.search_key, c.last_name, c.first_name FROM caregiver c"
        " JOIN caregiver_link l ON l.caregiver_id = c.id JOIN patient p ON p.id = l.patient_id) s,"
        " unnest(string_to_array(s.search_key, ' ')) w WHERE w <> '' ORDER BY 1, 2, 3")).all()
    assert kept == now and len(now) > 5
    words = db.session.scalars(sa.text("SELECT word FROM search_word")).all()
    assert {row[2] for row in now} <= set(words)


def test_a_worker_compiles_the_walk_in_shapes_before_it_serves(ctx, people, build):
    """``warm_walk_in_search`` (`roster/warmup.py`, before a server serves) compiles the statement of each shape a desk
    types: a surname's start, "Surname, First", phone digits are then SQLAlchemy cache hits, never compiled mid-search.
    """
    from sqlalchemy.engine.interfaces import CacheStats

    from roster.services import frontdesk
    from tests.frontdesk.desk import make_scene

    session_id = make_scene(build, sets=1).session_id
    db.session.commit()
    db.engine._compiled_cache.clear()  # as in a worker that has just started
    frontdesk.warm_walk_in_search()
    db.session.rollback()
    session = frontdesk.load_session_and_class(session_id)
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT"):
            seen.append(context.cache_hit)

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        for query in ("jen", "Jensen, Femi", "5550142"):
            assert [hit.caregiver.full_name for hit in frontdesk.walk_in_search(session, query)] == ["Femi Jensen"]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)
    assert seen == [CacheStats.CACHE_HIT] * 3


def test_walk_in_search_is_one_statement(ctx, people, build, count_queries):
    """The first ten, their patients, this session's check-ins and enrolment: one statement, also with
    more matches than shown (a query of only short words may take a second, bounded). On PostgreSQL it is
    preceded by the SET LOCAL that asks for its generic plan (``search.plan_once``), not for short words."""
    from roster.services import frontdesk
    from tests.frontdesk.desk import make_scene

    session_id = make_scene(build, sets=1).session_id
    for i in range(12):
        build.caregiver([people["jose"]], first_name="Femi", last_name=f"Jensen{i}")
    session = frontdesk.load_session_and_class(session_id)
    generic = ["SET LOCAL plan_cache_mode = force_generic_plan"] if db.engine.dialect.name == "postgresql" else []
    with count_queries() as one:
        hits = frontdesk.walk_in_search(session, "jensen")
    assert one.statements[:-1] == generic and one.statements[-1].startswith("SELECT") and len(hits) == 10
    assert [o.patient.full_name for o in hits[0].options] == ["José Núñez"]
    with count_queries() as short:
        frontdesk.walk_in_search(session, "zo od")
    assert short.count <= 2 and not any(s.startswith("SET") for s in short.statements)
    # the search fragment reads its session first: that read asks for the generic plan (no SET of its own)
    postgresql = db.engine.dialect.name == "postgresql"
    for query, generic in (("jensen", postgresql), ("zo od", False)):
        db.session.rollback()
        with count_queries() as fragment:
            found, hits = frontdesk.walk_in_fragment(session_id, query)
        if postgresql:  # what the walk-in statement was planned with (the fragment's transaction is still open)
            mode = db.session.scalar(sa.text("SHOW plan_cache_mode"))
            assert mode == ("force_generic_plan" if generic else "auto"), (query, mode)
        assert not any(s.startswith("SET") for s in fragment.statements), fragment.statements
        assert ("set_config" in fragment.statements[0]) is generic and fragment.count <= (2 if generic else 3)
        assert found == session and hits == frontdesk.walk_in_search(session, query) and hits
