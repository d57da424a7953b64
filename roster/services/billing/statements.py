"""Billing's statements, built once per database kind and run as Core on the session's connection.

Re-evaluation runs a dozen small statements for a close and as many for a consent change: building
and keying a statement again each time, and the ORM layer of ``Session.execute``, cost more than
running many of them. On PostgreSQL "one of these ids" is ``= ANY(:ids)`` with one array parameter,
not ``IN (:ids_1, :ids_2, …)``: the statement's text is the same whatever the count, so psycopg
converts it once and prepares it after a few runs (PostgreSQL then skips parsing and planning).
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from roster.extensions import db

KINDS = ("sqlite", "postgresql")

Built = dict[str, sa.Executable]


def one_of(kind: str, column, name: str, negate: bool = False) -> sa.ColumnElement[bool]:
    """``column`` is (``negate``: is not) one of the values of the list parameter ``name``."""
    if kind == "postgresql":
        values = sa.bindparam(name, type_=ARRAY(column.type))
        return column != sa.all_(values) if negate else column == sa.any_(values)
    values = sa.bindparam(name, expanding=True)
    return column.not_in(values) if negate else column.in_(values)


def per_kind(build: Callable[[str], sa.Executable]) -> Built:
    """A statement for each kind of database, ``build(kind)``."""
    return {kind: build(kind) for kind in KINDS}


def run(built: Built, params: dict | list[dict] | None = None) -> sa.CursorResult:
    connection = db.session.connection()
    return connection.execute(built[connection.dialect.name], params)


def kind() -> str:
    return db.session.connection().dialect.name
