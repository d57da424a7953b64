"""Sending a batch's DFT^P03 messages over MLLP to an interface engine (a listener this test starts).

The listener acknowledges every message (AA) except one whose patient lives
at a ZIP code the engine does not know: that one it rejects (AE) with a
reason. The rejected message shows as rejected with the engine's words; the
biller fixes the address and re-sends; nothing is ever sent twice.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from roster.extensions import db
from roster.models import AuditEvent, Hl7Message
from roster.services import hl7_send
from tests.claims.files import ADDRESS, hl7apy_validates, set_up_clinic
from tests.test_scenarios import SCENARIOS, Driver

BAD_ZIP = "60699"


class Engine(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), EngineHandler)
        self.received: list[str] = []  # every message, as it arrived
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]


class EngineHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while True:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
            while b"\x1c\r" in data:
                frame, data = data.split(b"\x1c\r", 1)
                message = frame.lstrip(b"\x0b").decode()
                with self.server.lock:
                    self.server.received.append(message)
                hl7apy_validates(message)
                control = message.split("\r")[0].split("|")[9]
                if f"^IL^{BAD_ZIP}" in message:
                    ack = (f"MSH|^~\\&|ENGINE|HOSP|ROSTER|CLINIC|20260204||ACK^P03^ACK|A{control}|P|2.5.1\r"
                           f"MSA|AE|{control}|Unknown ZIP code\r"
                           f"ERR|||207^Application internal error^HL70357|E||||PID-11 ZIP {BAD_ZIP} is not in our service area\r")
                else:
                    ack = (f"MSH|^~\\&|ENGINE|HOSP|ROSTER|CLINIC|20260204||ACK^P03^ACK|A{control}|P|2.5.1\r"
                           f"MSA|AA|{control}\r")
                self.request.sendall(b"\x0b" + ack.encode() + b"\x1c\r")


@pytest.fixture
def engine():
    server = Engine()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _exported_story(admin) -> int:
    """Story 01 (three patients in a group session), exported; the second patient has the bad ZIP."""
    set_up_clinic(admin)
    driver = Driver(admin)
    for step in json.loads(next(p for p in SCENARIOS if p.stem.startswith("01-")).read_text())["steps"]:
        driver.run(step)
        if step["do"] == "patient":
            driver.call("patch", f"/patients/{step['body']['mrn']}", ADDRESS)
    driver.call("patch", "/patients/A1002", {"address_zip": BAD_ZIP})
    return driver.call("post", "/billing/exports", {"from": "2026-01-01", "to": "2026-12-31"}).get_json()["id"]


def _controls(engine) -> list[str]:
    return [m.split("\r")[0].split("|")[9] for m in engine.received]


def test_a_rejected_message_is_shown_fixed_and_resent_and_nothing_goes_twice(app, api, engine, client, login):
    admin = api("admin")
    batch_id = _exported_story(admin)
    assert admin.patch("/billing/settings", json={"hl7_host": "127.0.0.1", "hl7_port": engine.port}).status_code == 200
    biller = api("biller")

    sent = biller.post(f"/billing/exports/{batch_id}/hl7-send").get_json()
    assert (sent["acknowledged"], sent["rejected"]) == (2, 1)
    by_mrn = {m["patient_mrn"]: m for m in sent["messages"]}
    assert by_mrn["A1002"]["status"] == "rejected"
    assert "Unknown ZIP code" in by_mrn["A1002"]["error"] and "not in our service area" in by_mrn["A1002"]["error"]
    assert {by_mrn["A1001"]["status"], by_mrn["A1003"]["status"]} == {"acknowledged"}
    assert len(engine.received) == 3

    login("biller")
    page = client.get(f"/billing/exports/{batch_id}").get_data(as_text=True)
    assert "rejected" in page and "PID-11 ZIP 60699 is not in our service area" in page
    exports = client.get("/billing/exports").get_data(as_text=True)
    assert "2 acknowledged" in exports and "1 rejected" in exports

    # Sending again sends nothing: the acknowledged are done, the rejected waits for a fix.
    again = biller.post(f"/billing/exports/{batch_id}/hl7-send").get_json()
    assert (again["acknowledged"], again["rejected"]) == (0, 0) and len(engine.received) == 3
    # An acknowledged message cannot be re-sent.
    assert biller.post(f"/billing/hl7-messages/{by_mrn['A1001']['id']}/resend").status_code == 409

    assert biller.patch("/patients/A1002", json={"address_zip": "60613"}).status_code == 200
    resent = client.post(f"/billing/exports/{batch_id}/messages/{by_mrn['A1002']['id']}/resend")
    assert resent.status_code == 302
    after = {m["patient_mrn"]: m for m in biller.get(f"/billing/exports/{batch_id}/hl7-messages").get_json()["messages"]}
    assert after["A1002"]["status"] == "acknowledged" and after["A1002"]["error"] is None
    assert after["A1002"]["control_id"] != by_mrn["A1002"]["control_id"]
    controls = _controls(engine)
    assert len(controls) == 4 and len(set(controls)) == 4  # no control id twice
    visits = [m.split("\r")[2].split("|")[3] for m in engine.received]
    assert sorted(visits).count("A1002^^^ROSTER^MR") == 2 and len(set(visits)) == 3
    assert [m for m in engine.received if "^IL^60613" in m and "A1002" in m.split("\r")[2]]

    # The HL7 batch file carries the messages as they stand now (the corrected one).
    batch_file = biller.get(f"/billing/exports/{batch_id}.hl7").get_data(as_text=True)
    assert after["A1002"]["control_id"] in batch_file and by_mrn["A1002"]["control_id"] not in batch_file


def test_an_unreachable_engine_is_retried_with_back_off_and_leaves_the_message_pending(app, api):
    admin = api("admin")
    batch_id = _exported_story(admin)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert admin.patch("/billing/settings", json={"hl7_host": "127.0.0.1", "hl7_port": port}).status_code == 200
    assert admin.get(f"/billing/exports/{batch_id}.hl7").status_code == 200  # makes the messages
    waits: list[float] = []
    with app.app_context():
        report = hl7_send.send_pending(batch_id, hl7_send.engine_transport(), db.session.commit, sleep=waits.append)
        assert report.unreachable == 1 and report.acknowledged == 0
        assert waits == [0.5, 1.0]  # three tries, doubling waits
        statuses = sorted((m.status, m.attempts, bool(m.error)) for m in db.session.scalars(sa.select(Hl7Message)))
    assert statuses == [("pending", 0, False), ("pending", 0, False), ("pending", 1, True)]


def test_the_engine_must_be_set_before_sending(api):
    admin = api("admin")
    batch_id = _exported_story(admin)
    response = api("biller").post(f"/billing/exports/{batch_id}/hl7-send")
    assert response.status_code == 422 and "host and port" in response.get_json()["error"]["message"]


def test_a_message_left_sending_by_a_killed_sender_is_sent_again_once_stale(app, api, engine, client, login):
    """A process killed mid-send leaves its message in "sending". A later send takes it again (same
    control id, so the engine can tell a repeat) once it is older than STALE_SENDING; a message another
    sender took a moment ago is left to that sender."""
    admin = api("admin")
    batch_id = _exported_story(admin)
    admin.patch("/patients/A1002", json={"address_zip": "60613"})
    assert admin.patch("/billing/settings", json={"hl7_host": "127.0.0.1", "hl7_port": engine.port}).status_code == 200
    assert admin.get(f"/billing/exports/{batch_id}.hl7").status_code == 200  # makes the messages
    now = hl7_send.utcnow()
    with app.app_context():
        crashed, busy, fresh = db.session.scalars(sa.select(Hl7Message).order_by(Hl7Message.id)).all()
        crashed.status, crashed.attempts = "sending", 1
        crashed.sent_at = now - hl7_send.STALE_SENDING - timedelta(seconds=1)
        busy.status, busy.attempts, busy.sent_at = "sending", 1, now - timedelta(seconds=20)
        ids = {"crashed": (crashed.id, crashed.control_id), "busy": (busy.id, busy.control_id),
               "fresh": (fresh.id, fresh.control_id)}
        db.session.commit()

    sent = api("biller").post(f"/billing/exports/{batch_id}/hl7-send").get_json()
    assert sent["acknowledged"] == 2
    status = {m["id"]: (m["status"], m["attempts"], m["control_id"]) for m in sent["messages"]}
    assert status[ids["crashed"][0]] == ("acknowledged", 2, ids["crashed"][1])  # same control id, second try
    assert status[ids["busy"][0]] == ("sending", 1, ids["busy"][1])  # a live sender may still have it
    assert status[ids["fresh"][0]] == ("acknowledged", 1, ids["fresh"][1])
    assert sorted(_controls(engine)) == sorted([ids["crashed"][1], ids["fresh"][1]])
    with app.app_context():
        trail = db.session.scalars(sa.select(AuditEvent.entity_id).where(AuditEvent.action == "hl7.stale_send")).all()
    assert trail == [ids["crashed"][0]]
    login("biller")
    page = client.get(f"/billing/exports/{batch_id}").get_data(as_text=True)
    assert "no answer yet" in page and "goes again with the next send" in page

    # Nothing is sent twice: the acknowledged stay done; the busy one goes once it too is stale.
    assert api("biller").post(f"/billing/exports/{batch_id}/hl7-send").get_json()["acknowledged"] == 0
    assert len(engine.received) == 2
    with app.app_context():
        db.session.execute(sa.update(Hl7Message).where(Hl7Message.id == ids["busy"][0])
                           .values(sent_at=now - hl7_send.STALE_SENDING - timedelta(minutes=1)))
        db.session.commit()
    assert api("biller").post(f"/billing/exports/{batch_id}/hl7-send").get_json()["acknowledged"] == 1
    assert sorted(_controls(engine)) == sorted(c for _, c in ids.values())
