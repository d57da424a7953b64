"""The database away: pages and API answer 503 with Retry-After, and the app recovers by itself.

Runs on the PostgreSQL pass of `make test`: scripts/run-tests.sh tells where the
throwaway cluster lives (ROSTER_TEST_PG_DIR, ROSTER_TEST_PG_PORT), and this test
stops that server mid-run and starts it again.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.postgres_only

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pgcluster.sh"


def _cluster(command: str) -> None:
    folder, port = os.environ.get("ROSTER_TEST_PG_DIR"), os.environ.get("ROSTER_TEST_PG_PORT")
    if not folder or not port:
        pytest.fail("ROSTER_TEST_PG_DIR and ROSTER_TEST_PG_PORT name the test cluster (scripts/run-tests.sh sets them)")
    subprocess.run([str(SCRIPT), command, folder, port], check=True, timeout=120)


def test_pages_and_api_answer_503_while_the_database_is_away_and_recover(app, build, client):
    coordinator = build.user("coordinator")
    assert client.post("/login", data={"email": coordinator.email, "password": DEMO_PASSWORD}).status_code == 302
    api = build.api_client("coordinator")
    group_class = build.group_class()
    assert client.get("/schedule/classes").status_code == 200
    assert api.get(f"/classes/{group_class.id}").status_code == 200

    _cluster("pause")
    try:
        page = client.get("/schedule/classes")
        answer = api.get(f"/classes/{group_class.id}")
        write = api.post("/facilitators", json={"name": "Away Test", "npi": "1234567893", "discipline": "PT"})
        sign_in = app.test_client().post("/login", data={"email": coordinator.email, "password": DEMO_PASSWORD})
    finally:
        _cluster("resume")

    for response in (page, answer, write, sign_in):
        assert response.status_code == 503, response.get_data(as_text=True)[:1000]
        assert int(response.headers["Retry-After"]) > 0
    assert "cannot reach its database" in page.get_data(as_text=True)
    assert "Temporarily unavailable" in sign_in.get_data(as_text=True)
    assert answer.get_json()["error"]["code"] == "unavailable"
    assert "cannot reach its database" in answer.get_json()["error"]["message"]

    # back: the very first request of each kind succeeds (pool pre-ping replaces the dead connections)
    assert client.get("/schedule/classes").status_code == 200
    assert api.get(f"/classes/{group_class.id}").status_code == 200
    assert api.post("/facilitators", json={"name": "Back Test", "npi": "1234567893",
                                           "discipline": "PT"}).status_code == 201


def test_after_a_restart_nobody_saw_the_first_requests_succeed(app, build, client):
    """The pool holds connections the restarted server has closed; no request failed in between to
    tell the pool. Each is replaced at checkout (the server's goodbye is waiting on its socket), not
    found dead by the first request that uses it."""
    coordinator = build.user("coordinator")
    assert client.post("/login", data={"email": coordinator.email, "password": DEMO_PASSWORD}).status_code == 302
    api = build.api_client("coordinator")
    assert client.get("/schedule/classes").status_code == 200
    assert api.get("/facilitators").status_code == 200
    _cluster("pause")
    _cluster("resume")
    assert client.get("/schedule/classes").status_code == 200
    assert api.get("/facilitators").status_code == 200
