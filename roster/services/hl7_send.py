"""Sending a batch's charge messages to the interface engine over MLLP.

Each message is taken for sending by one atomic UPDATE (pending ->
sending), and that is committed before a byte leaves: two billers pressing
"Send" at once never send a message twice, and an acknowledged message is
never taken again. The sender waits for each ACK; a connection that fails
is retried with back-off under the same control id (the engine can tell a
repeat by MSH-10); an engine that stays unreachable leaves the message
pending with the reason. ``AA``/``CA`` mark it acknowledged; ``AE``/``AR``
(or ``CE``/``CR``) rejected, with the engine's error text. A message left in
"sending" by a sender that died mid-send is taken again by the next send once
it is older than ``STALE_SENDING`` (same control id).

This is the one place that commits more than once per request, on purpose:
each message's state must be durable the moment the engine has it. The
caller passes ``commit``.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

import sqlalchemy as sa

from roster.domain.statuses import MessageStatus
from roster.extensions import db
from roster.models import Hl7Message, utcnow
from roster.services import ServiceError, audit, clinic

START, END = b"\x0b", b"\x1c\r"
MLLP_TIMEOUT = 10.0  # seconds a connection or an answer is waited for
STALE_SENDING = timedelta(minutes=5)  # far beyond three tries with their waits: the sender is gone
ACCEPTED = ("AA", "CA")
REJECTED = ("AE", "AR", "CE", "CR")


class Transport(Protocol):
    def __call__(self, message: str) -> str: ...


@dataclass
class SendReport:
    acknowledged: int = 0
    rejected: int = 0
    unreachable: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def mllp_transport(host: str, port: int, timeout: float = MLLP_TIMEOUT) -> Transport:
    """Send one framed message and wait for the framed acknowledgement."""

    def send(message: str) -> str:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            conn.sendall(START + message.encode("utf-8") + END)
            data = b""
            while END not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    raise ConnectionError("the interface engine closed the connection without an acknowledgement")
                data += chunk
        return data[data.find(START) + 1:data.find(END)].decode("utf-8", "replace")

    return send


def engine_transport() -> Transport:
    s = clinic.get_settings()
    if not s.hl7_host or not s.hl7_port:
        raise ServiceError("Set the interface engine's host and port in the billing settings first.",
                           {"hl7_host": "Not set."})
    return mllp_transport(s.hl7_host, s.hl7_port)


def parse_ack(ack: str) -> tuple[str, str, str]:
    """(MSA-1 code, MSA-2 control id, the engine's error text) of an ACK."""
    code = control = ""
    texts: list[str] = []
    for segment in ack.replace("\n", "\r").split("\r"):
        fields = segment.split("|")
        if fields[0] == "MSA":
            code = fields[1] if len(fields) > 1 else ""
            control = fields[2] if len(fields) > 2 else ""
            if len(fields) > 3 and fields[3]:
                texts.append(fields[3])
        elif fields[0] == "ERR":
            for index in (8, 7):  # ERR-8 user message, ERR-7 diagnostic information
                if len(fields) > index and fields[index]:
                    texts.append(fields[index])
            if len(fields) > 3 and fields[3]:  # ERR-3 error code and its text
                texts.append(fields[3].split("^")[1] if "^" in fields[3] else fields[3])
    return code, control, "; ".join(dict.fromkeys(t for t in texts if t))


def _sendable(stale_before: datetime):
    """Pending, or left in "sending" since before ``stale_before``: its sender died mid-send (a killed
    process, a lost machine); no live sender holds a message that long (three tries of at most
    ``MLLP_TIMEOUT`` seconds each)."""
    return sa.or_(Hl7Message.status == MessageStatus.PENDING,
                  sa.and_(Hl7Message.status == MessageStatus.SENDING, Hl7Message.sent_at < stale_before))


def _take(message_id: int, stale_before: datetime) -> tuple[str, str] | None:
    """(control id, content) of the message when this sender got it (pending -> sending), else None."""
    taken = db.session.execute(
        sa.update(Hl7Message).where(Hl7Message.id == message_id, _sendable(stale_before))
        .values(status=MessageStatus.SENDING, attempts=Hl7Message.attempts + 1, sent_at=utcnow())
        .returning(Hl7Message.control_id, Hl7Message.content).execution_options(synchronize_session=False)
    ).first()
    return (taken.control_id, taken.content) if taken is not None else None


def _settle(message_id: int, control_id: str, status: str, error: str | None) -> None:
    values = {"status": status, "error": error}
    if status == MessageStatus.ACKNOWLEDGED:
        values["acknowledged_at"] = utcnow()
    db.session.execute(sa.update(Hl7Message).where(Hl7Message.id == message_id).values(**values)
                       .execution_options(synchronize_session=False))
    audit.record(f"hl7.{status}", "hl7_message", message_id,
                 after={"control_id": control_id, "status": status, "error": error})


def send_pending(batch_id: int, transport: Transport, commit: Callable[[], None], *,
                 retries: int = 3, backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep,
                 stale_after: timedelta = STALE_SENDING) -> SendReport:
    """Send every pending message of the batch, one at a time, waiting for each ACK. A message left
    in "sending" longer than ``stale_after`` (its sender was killed mid-send) is sent again under the
    same control id, so the engine can tell a repeat by MSH-10.

    No database transaction is open while the engine is being waited for (on
    SQLite a transaction holds the write lock)."""
    report = SendReport()
    stale_before = utcnow() - stale_after
    found = db.session.execute(sa.select(Hl7Message.id, Hl7Message.status).where(
        Hl7Message.export_batch_id == batch_id, _sendable(stale_before)).order_by(Hl7Message.id)).all()
    commit()
    for message_id, status in found:
        taken = _take(message_id, stale_before)
        if taken is not None and status == MessageStatus.SENDING:
            audit.record("hl7.stale_send", "hl7_message", message_id, before={"status": status},
                         after={"control_id": taken[0], "status": MessageStatus.SENDING,
                                "note": "sent again: its sender stopped mid-send more than "
                                        f"{int(stale_after.total_seconds())} s ago"})
        commit()
        if taken is None:
            report.skipped += 1  # another sender has it, or it is settled
            continue
        control_id, content = taken
        ack, failure = None, ""
        for attempt in range(retries):
            try:
                ack = transport(content)
                break
            except (OSError, UnicodeError) as exc:
                failure = f"interface engine unreachable: {exc}"
                if attempt + 1 < retries:
                    sleep(backoff * 2 ** attempt)
        if ack is None:
            _settle(message_id, control_id, MessageStatus.PENDING, failure)
            report.unreachable += 1
            report.errors.append(failure)
            commit()
            break  # the engine is down: the rest wait for the next send
        code, acked, why = parse_ack(ack)
        if acked != control_id:
            _settle(message_id, control_id, MessageStatus.PENDING,
                    f"the acknowledgement names another message ({acked or 'none'})")
            report.unreachable += 1
        elif code in ACCEPTED:
            _settle(message_id, control_id, MessageStatus.ACKNOWLEDGED, None)
            report.acknowledged += 1
        else:
            _settle(message_id, control_id, MessageStatus.REJECTED, why or f"rejected ({code or 'no MSA'})")
            report.rejected += 1
        commit()
    db.session.expire_all()
    return report


def status_counts(batch_ids: list[int]) -> dict[int, dict[str, int]]:
    """Messages by status for each batch (one query)."""
    out: dict[int, dict[str, int]] = {b: {} for b in batch_ids}
    if not batch_ids:
        return out
    for batch_id, status, n in db.session.execute(
        sa.select(Hl7Message.export_batch_id, Hl7Message.status, sa.func.count())
        .where(Hl7Message.export_batch_id.in_(batch_ids)).group_by(Hl7Message.export_batch_id, Hl7Message.status)
    ):
        out[batch_id][status] = n
    return out
