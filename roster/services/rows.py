"""One row by its id, or ``NotFound`` ("No caregiver 12."): the look-up every page and API call starts with;
and a new row from clean values, flushed and audited."""

from __future__ import annotations

from typing import Callable, TypeVar

import sqlalchemy as sa

from roster.extensions import db
from roster.services import NotFound, audit

T = TypeVar("T")

# the word a not-found message uses where it is not the table's name
NOUNS = {"group_class": "class", "class_session": "session"}


def one(model: type[T], ident: int, *options, fields: dict[str, str] | None = None) -> T:
    """The ``model`` row with id ``ident``, with the loader ``options`` applied (one SELECT); without options
    from the session's identity map when it is already there. ``fields`` go with the NotFound."""
    if options:
        row = db.session.scalar(sa.select(model).options(*options).where(model.id == ident))
    else:
        row = db.session.get(model, ident)
    if row is None:
        table = model.__tablename__
        raise NotFound(f"No {NOUNS.get(table, table.replace('_', ' '))} {ident}.", fields)
    return row


def create(model: type[T], values: dict, action: str, audited: Callable[[T], dict]) -> T:
    """A new ``model`` row from clean ``values``, flushed (so it has its id) and audited as ``action``
    with ``audited(row)`` as what it is after."""
    row = model(**values)
    db.session.add(row)
    db.session.flush()
    audit.record(action, model.__tablename__, row.id, after=audited(row))
    return row
