"""The audit trail: who, when, what, before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from flask_login import current_user
from sqlalchemy.orm import selectinload

from roster.extensions import db
from roster.models import AuditEvent
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


def apply_changes(obj, changes: dict[str, Any], fields: tuple[str, ...], action: str, entity_type: str) -> bool:
    """Set the attributes and, when anything really changed, audit before and after. Returns whether it did."""
    before = snapshot(obj, fields)
    for key, value in changes.items():
        setattr(obj, key, value)
    after = snapshot(obj, fields)
    if before == after:
        return False
    db.session.flush()
    record(action, entity_type, obj.id, before=before, after=after)
    return True


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

CHANGE_VALUE_MAX = 120


@dataclass(frozen=True)
class Change:
    """One key of a before/after picture that changed, each side as compact JSON ("" when absent)."""

    key: str
    before: str
    after: str


@dataclass(frozen=True)
class TrailEntry:
    event: AuditEvent
    changes: list[Change]


def _compact(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= CHANGE_VALUE_MAX else text[:CHANGE_VALUE_MAX - 1] + "…"


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """The keys whose values differ between two pictures, in key order."""
    before, after = before or {}, after or {}
    missing = object()
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            out.append(Change(key, "" if old is missing else _compact(old), "" if new is missing else _compact(new)))
    return out


def _trail_filter(session_id: int | None, entity_type: str | None):
    conditions = []
    if session_id is not None:
        conditions.append(AuditEvent.session_id == session_id)
    if entity_type:
        conditions.append(AuditEvent.entity_type == entity_type)
    return sa.and_(sa.true(), *conditions)


@dataclass(frozen=True)
class TrailPage:
    entries: list[TrailEntry]
    page: int
    pages: int


def trail(session_id: int | None, entity_type: str | None, page: int | None, per_page: int) -> TrailPage:
    """One page of the audit trail, newest first (three queries whatever its size)."""
    where = _trail_filter(session_id, entity_type)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(where))
    events = paginate(
        sa.select(AuditEvent).where(where).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()),
        page, per_page, options=(selectinload(AuditEvent.actor),), total=total,
    )
    return TrailPage([TrailEntry(e, changes(e.before, e.after)) for e in events.items], events.page, events.pages)


def entity_types() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)))
