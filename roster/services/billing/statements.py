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


class Together:
    """Several reads of different shapes as ONE statement (one round trip): the UNION ALL of the parts,
    each row its part's number, then every part's columns, NULL (typed as the column) but its own
    part's. ``apart`` gives each part's rows back (in no particular order)."""

    def __init__(self, parts: Callable[[str], list]) -> None:
        self.built: Built = {}
        for kind in KINDS:
            froms = [p if isinstance(p, sa.CTE) else p.subquery(f"part_{i}") for i, p in enumerate(parts(kind))]
            blanks = [[sa.cast(sa.null(), column.type) for column in f.c] for f in froms]
            self.built[kind] = sa.union_all(*(
                sa.select(sa.literal_column(str(i), sa.Integer()).label("part"),
                          *(c for j, f in enumerate(froms) for c in (f.c if j == i else blanks[j])))
                .select_from(froms[i]) for i in range(len(froms))))
            self._spans = []
            start = 1
            for f in froms:
                self._spans.append((start, start + len(f.c)))
                start += len(f.c)

    def apart(self, params: dict) -> list[list[tuple]]:
        out: list[list[tuple]] = [[] for _ in self._spans]
        spans = self._spans
        for row in run(self.built, params).tuples().all():
            start, end = spans[row[0]]
            out[row[0]].append(row[start:end])
        return out
