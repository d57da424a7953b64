"""The audit trail: who, when, what, before and after."""

from __future__ import annotations

from typing import Any

from flask import g, has_app_context, has_request_context
from flask_login import current_user

from roster.extensions import db
from roster.models import AuditEvent


def _actor() -> tuple[int | None, str]:
    user = None
    if has_request_context():
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
