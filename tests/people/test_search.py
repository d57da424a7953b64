"""Search by name whatever the accents, case or word order; indexed on PostgreSQL (EXPLAIN)."""

from __future__ import annotations

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


def _plan(statement) -> str:
    compiled = statement.compile(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: make the planner show what it *can* use
        return "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))


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
