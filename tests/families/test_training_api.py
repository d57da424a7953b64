"""Classes name their code family and facilitators take PSY and CSW, through the API (R17-R21)."""

from __future__ import annotations

CLASS = {
    "title": "Behavior skills", "needs": ["dementia"], "capacity": 10, "room": "Room 2",
    "facilitator_id": None, "timezone": "America/Chicago", "modality": "in_person",
    "place_of_service": "11", "sessions": [{"starts_at": "2026-03-03T10:00", "duration_minutes": 75}],
}


def test_a_class_names_its_family_and_defaults_to_functional(api):
    client = api("coordinator")
    plain = client.post("/classes", json=CLASS).get_json()["id"]
    assert client.get(f"/classes/{plain}").get_json()["training"] == "functional"
    behavior = client.post("/classes", json=CLASS | {"training": "behavior", "room": "Room 3"}).get_json()["id"]
    assert client.get(f"/classes/{behavior}").get_json()["training"] == "behavior"
    response = client.patch(f"/classes/{behavior}", json={"training": "direct_care"})
    assert response.status_code == 200
    assert client.get(f"/classes/{behavior}").get_json()["training"] == "direct_care"


def test_an_unknown_family_is_422_and_writes_nothing(api):
    client = api("coordinator")
    response = client.post("/classes", json=CLASS | {"training": "yoga"})
    assert response.status_code == 422
    assert "training" in response.get_json()["error"]["fields"]
    cid = client.post("/classes", json=CLASS | {"room": "Room 4"}).get_json()["id"]
    response = client.patch(f"/classes/{cid}", json={"training": "Behavior", "title": "Renamed"})
    assert response.status_code == 422
    got = client.get(f"/classes/{cid}").get_json()
    assert (got["training"], got["title"]) == ("functional", "Behavior skills")


def test_psychologists_and_social_workers_are_facilitators(api):
    client = api("admin")
    for discipline in ("PSY", "CSW"):
        response = client.post("/facilitators", json={
            "name": f"Dr. Ng, {discipline}", "npi": "1234567893", "discipline": discipline})
        assert response.status_code == 201, response.get_json()
    response = client.post("/facilitators", json={"name": "X", "npi": "1234567893", "discipline": "LCSW"})
    assert response.status_code == 422


def test_the_openapi_document_names_the_families_and_disciplines(api):
    spec = api("admin").get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert schemas["Class"]["properties"]["training"]["enum"] == ["functional", "direct_care", "behavior"]
    assert {"PSY", "CSW"} <= set(schemas["Facilitator"]["properties"]["discipline"]["enum"])
