"""The audit trail: who, when, what, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy.orm import selectinload

from roster.extensions import db
from roster.models import AuditEvent, utcnow
from roster.services import bulk
from roster.services.paging import paginate


def _actor() -> tuple[int | None, str]:
    user = None
    if has_app_context() and g.get("job_user") is not None:  # a background job acts for who queued it
        user = g.job_user
    elif has_request_context():
        user = getattr(g, "api_user", None) or current_user
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.email
    if has_app_context():
        return None, g.get("cli_actor", "system")
    return None, "system"


def record(
    action: str,
    entity_type: str,
    entity_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    session_id: int | None = None,
) -> AuditEvent:
    actor_id, label = _actor()
    event = AuditEvent(
        actor_id=actor_id,
        actor_label=label,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        session_id=session_id,
        before=before,
        after=after,
    )
    db.session.add(event)
    return event


def record_all(events: list[dict[str, Any]]) -> None:
    """Many events in one statement (re-evaluating many sessions audits every line it touches).

    Each event is a dict of ``record``'s arguments (``action``, ``entity_type``, ``entity_id`` and
    optionally ``before``, ``after``, ``session_id``); the actor is the same for all."""
    if not events:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":  # one statement, the rows as one JSON parameter (bulk.py)
        connection.execute(_INSERT_EVENTS, bulk.rows_param(AuditEvent.__table__, event_rows(events), EVENT_COLUMNS))
    else:
        connection.execute(sa.insert(AuditEvent.__table__), event_rows(events, at=False))


EVENT_COLUMNS = ("at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "session_id", "before", "after")


def event_rows(events: list[dict[str, Any]], at: bool = True) -> list[dict[str, Any]]:
    """The rows of these events (``record_all``'s dicts) with their actor, and (``at``) each its time."""
    actor_id, label = _actor()
    blank = {"actor_id": actor_id, "actor_label": label, "before": None, "after": None, "session_id": None}
    if not at:
        return [blank | event for event in events]
    return [blank | event | {"at": utcnow()} for event in events]


_INSERT_EVENTS = bulk.insert_from_json(AuditEvent.__table__, EVENT_COLUMNS)


def apply_changes(obj, changes: dict[str, Any], fields: tuple[str, ...], action: str, entity_type: str) -> bool:
    """Set the attributes and, when anything really changed, audit before and after. Returns whether it did."""
    event = change_event(obj, changes, fields, action, entity_type)
    if event is not None:
        record(**event)
    return event is not None


def change_event(obj, changes: dict[str, Any], fields: tuple[str, ...], action: str,
                 entity_type: str) -> dict[str, Any] | None:
    """`apply_changes` without writing the audit record: the record (a dict for `record_all`, or for
    `billing.facts_changed` to write with its own), or None when nothing really changed."""
    before = snapshot(obj, fields)
    for key, value in changes.items():
        setattr(obj, key, value)
    after = snapshot(obj, fields)
    if before == after:
        return None
    db.session.flush()
    return {"action": action, "entity_type": entity_type, "entity_id": obj.id, "before": before, "after": after}


def snapshot(obj, fields: tuple[str, ...]) -> dict[str, Any]:
    """A JSON-safe picture of some attributes of a model, for before/after."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, (list, tuple)):
            value = list(value)
        out[name] = value
    return out


# --------------------------------------------------------------------------- reading

MISSING: Any = object()  # the side of a before/after picture that lacks a key


class Change(NamedTuple):
    """What changed, before and after: a picture's key and its values (``changed``), or, in the trail
    people read (``billing/audit_view.py``), the key's label and the values in words."""

    name: str
    before: Any
    after: Any


def changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The keys whose values differ between two pictures, in key order, each with its old and new
    value (``MISSING`` on the side that lacks the key)."""
    before, after = before or {}, after or {}
    sides = (Change(key, before.get(key, MISSING), after.get(key, MISSING)) for key in sorted(set(before) | set(after)))
    return [c for c in sides if c.before != c.after]


@dataclass(frozen=True)
class TrailFilter:
    """What the trail is narrowed to; None means any."""

    session_id: int | None = None
    entity_type: str | None = None
    actor_id: int | None = None
    patient_id: int | None = None
    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive


def _trail_filter(f: TrailFilter):
    conditions = []
    if f.session_id is not None:
        conditions.append(AuditEvent.session_id == f.session_id)
    if f.entity_type:
        conditions.append(AuditEvent.entity_type == f.entity_type)
    if f.actor_id is not None:
        conditions.append(AuditEvent.actor_id == f.actor_id)
    if f.patient_id is not None:  # the patient's own record, or any change that names them
        conditions.append(sa.or_(
            sa.and_(AuditEvent.entity_type == "patient", AuditEvent.entity_id == f.patient_id),
            AuditEvent.after["patient_id"].as_integer() == f.patient_id,
            AuditEvent.before["patient_id"].as_integer() == f.patient_id,
        ))
    if f.since is not None:
        conditions.append(AuditEvent.at >= f.since)
    if f.until is not None:
        conditions.append(AuditEvent.at < f.until)
    return sa.and_(sa.true(), *conditions)


@dataclass(frozen=True)
class TrailPage:
    entries: list[AuditEvent]
    page: int
    pages: int
    more: bool = False  # the trail goes on past ``pages`` (it is counted only a few pages ahead)


def trail(session_id: int | None, entity_type: str | None, page: int | None, per_page: int,
          narrow: TrailFilter | None = None) -> TrailPage:
    """One page of the audit trail, newest first (three queries whatever its size; the count stops
    a few pages past this one)."""
    narrow = narrow or TrailFilter()
    where = _trail_filter(TrailFilter(session_id, entity_type, narrow.actor_id, narrow.patient_id,
                                      narrow.since, narrow.until))
    events = paginate(sa.select(AuditEvent).where(where).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()),
                      page, per_page, options=(selectinload(AuditEvent.actor),))
    return TrailPage(list(events.items), events.page, events.pages, events.more)


def entity_types() -> list[str]:
    """The kinds of record in the trail, in order: one index probe per kind (a loose index scan of
    ``ix_audit_event_entity``), not a DISTINCT over every event."""
    kinds = sa.select(sa.func.min(AuditEvent.entity_type).label("kind")).cte("kinds", recursive=True)
    following = (sa.select(AuditEvent.entity_type).where(AuditEvent.entity_type > kinds.c.kind)
                 .order_by(AuditEvent.entity_type).limit(1).scalar_subquery())
    kinds = kinds.union_all(sa.select(following).where(kinds.c.kind.is_not(None)))
    return list(db.session.scalars(sa.select(kinds.c.kind).where(kinds.c.kind.is_not(None)).order_by(kinds.c.kind)))


def actors() -> list[tuple[int, str]]:
    """(user id, name) of everyone who appears in the trail, by name."""
    from roster.models import User

    rows = db.session.execute(
        sa.select(User.id, User.name, User.email)
        .where(sa.exists().where(AuditEvent.actor_id == User.id))  # one index probe per account
        .order_by(User.name, User.email)
    ).all()
    return [(uid, name or email) for uid, name, email in rows]


# kind of id -> model, for showing names instead of numbers (one query per kind present on a page)
def names_for(ids_by_kind: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    from roster.models import Caregiver, ClassSession, Facilitator, GroupClass, Patient, User

    out: dict[tuple[str, int], str] = {}
    for kind, ids in ids_by_kind.items():
        ids = {i for i in ids if isinstance(i, int)}
        if not ids:
            continue
        if kind in ("patient", "caregiver"):
            model = Patient if kind == "patient" else Caregiver
            for row in db.session.execute(sa.select(model.id, model.first_name, model.last_name,
                                                    *( [Patient.mrn] if kind == "patient" else []))
                                          .where(model.id.in_(ids))):
                label = f"{row[1]} {row[2]}" + (f" ({row[3]})" if kind == "patient" else "")
                out[(kind, row[0])] = label
        elif kind == "facilitator":
            out.update({(kind, i): n for i, n in db.session.execute(
                sa.select(Facilitator.id, Facilitator.name).where(Facilitator.id.in_(ids)))})
        elif kind == "class":
            out.update({(kind, i): t for i, t in db.session.execute(
                sa.select(GroupClass.id, GroupClass.title).where(GroupClass.id.in_(ids)))})
        elif kind == "session":
            for i, title, starts in db.session.execute(
                    sa.select(ClassSession.id, GroupClass.title, ClassSession.starts_at)
                    .join(GroupClass, GroupClass.id == ClassSession.class_id).where(ClassSession.id.in_(ids))):
                out[(kind, i)] = (title, starts)
        elif kind == "user":
            out.update({(kind, i): n or e for i, n, e in db.session.execute(
                sa.select(User.id, User.name, User.email).where(User.id.in_(ids)))})
    return out
