"""GET /api/v1/billing/lines and /billing/exports are paged with limit/offset (and say so in OpenAPI)."""

from __future__ import annotations

import pytest

from tests.billing.clinic import VALID_NPI, Clinic


@pytest.fixture
def clinic(api) -> Clinic:
    return Clinic(api("admin"))


def _get(clinic: Clinic, path: str):
    response = clinic.api.get(path)
    return response.status_code, response.get_json()


def test_lines_come_in_windows_that_add_up_to_the_whole_range(clinic):
    fid = clinic.facilitator(VALID_NPI)
    clinic.group_session([clinic.patient() for _ in range(3)], fid, start="2026-02-03T10:00")
    clinic.group_session([clinic.patient() for _ in range(2)], fid, start="2026-02-10T10:00")
    rng = "from=2026-02-01&to=2026-02-28"

    status, everything = _get(clinic, f"/billing/lines?{rng}")
    assert status == 200 and len(everything["lines"]) == 5 and everything["next_offset"] is None
    ids = [line["id"] for line in everything["lines"]]

    _, first = _get(clinic, f"/billing/lines?{rng}&limit=2")
    _, second = _get(clinic, f"/billing/lines?{rng}&limit=2&offset={first['next_offset']}")
    _, third = _get(clinic, f"/billing/lines?{rng}&limit=2&offset={second['next_offset']}")
    assert (first["next_offset"], second["next_offset"], third["next_offset"]) == (2, 4, None)
    assert [line["id"] for page in (first, second, third) for line in page["lines"]] == ids
    _, exact = _get(clinic, f"/billing/lines?{rng}&limit=5")
    assert len(exact["lines"]) == 5 and exact["next_offset"] is None
    _, past = _get(clinic, f"/billing/lines?{rng}&offset=50")
    assert past == {"lines": [], "next_offset": None}


def test_export_history_is_newest_first_in_windows(clinic):
    made = [clinic.export(f"2026-0{m}-01", f"2026-0{m}-28")["id"] for m in (1, 2, 3)]
    status, everything = _get(clinic, "/billing/exports")
    assert status == 200 and everything["next_offset"] is None
    assert [e["id"] for e in everything["exports"]] == made[::-1]
    assert set(everything["exports"][0]) == {"id", "from", "to", "rows", "created_at"}
    _, first = _get(clinic, "/billing/exports?limit=2")
    _, rest = _get(clinic, f"/billing/exports?limit=2&offset={first['next_offset']}")
    assert [e["id"] for e in first["exports"]] == made[:0:-1] and first["next_offset"] == 2
    assert [e["id"] for e in rest["exports"]] == made[:1] and rest["next_offset"] is None


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"), ("limit=-1", "limit"),
    ("offset=-1", "offset"), ("offset=x", "offset"), ("offset=99999999999", "offset"),
])
def test_a_bad_window_is_a_422_naming_the_parameter(clinic, query, field):
    for path in ("/billing/lines?from=2026-02-01&to=2026-02-28&", "/billing/exports?"):
        status, answer = _get(clinic, path + query)
        assert status == 422 and field in answer["error"]["fields"], answer


def test_openapi_documents_the_windows(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, default in (("/billing/lines", 1000), ("/billing/exports", 100)):
        op = paths[path]["get"]
        params = {p["name"]: p["schema"] for p in op["parameters"]}
        assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 1000, "default": default}
        assert params["offset"]["minimum"] == 0
        answer = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert "next_offset" in answer["required"]
