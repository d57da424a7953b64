"""Billing's statements, built once per database kind and run as Core on the session's connection.

Re-evaluation runs a dozen small statements for a close and as many for a consent change: building
and keying a statement again each time, and the ORM layer of ``Session.execute``, cost more than
running many of them. On PostgreSQL "one of these ids" is ``= ANY(:ids)`` with one array parameter,
not ``IN (:ids_1, :ids_2, …)``: the statement's text is the same whatever the count, so psycopg
converts it once and prepares it after a few runs (PostgreSQL then skips parsing and planning).
"""

from __future__ import annotations

from operator import itemgetter
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


class RawArray(sa.TypeDecorator):
    """An array column (of ``item_type``) read as psycopg reads it, a list of its items, without SQLAlchemy's
    processing of every row's value: read with others in one statement (`Together`), it ran for every row
    of every part."""

    impl = ARRAY
    cache_ok = True

    def result_processor(self, dialect, coltype):
        return None


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
    each row its part's number, then its part's columns. Columns of one type share slots across parts
    (a part's k-th column of a type goes to that type's k-th slot; the others' rows have NULL there,
    typed as the slot), so a row is about as wide as the widest part, not all parts together.
    ``apart`` gives each part's rows back (in no particular order). ``options``: the statement's execution options."""

    def __init__(self, parts: Callable[[str], list], kinds: tuple[str, ...] = KINDS, **options) -> None:
        self.built: Built = {}
        self._pick: dict[str, list[Callable[[tuple], tuple]]] = {}  # per kind: each part's columns of a row
        for kind in kinds:
            froms = [p if isinstance(p, sa.CTE) else p.subquery(f"part_{i}") for i, p in enumerate(parts(kind))]
            slots: dict[type | tuple, list] = {}  # key -> the slot types, in order
            places = []  # per part, per column: (type, k)
            for f in froms:
                counts: dict[type | tuple, int] = {}
                place = []
                for column in f.c:
                    key = _slot_key(column.type)
                    k = counts[key] = counts.get(key, -1) + 1
                    if k == len(slots.setdefault(key, [])):
                        slots[key].append(column.type)
                    place.append((key, k))
                places.append(place)
            order = [(key, k) for key, types in slots.items() for k in range(len(types))]
            position = {slot: 1 + n for n, slot in enumerate(order)}
            selects = []
            for i, f in enumerate(froms):
                mine = dict(zip(places[i], f.c))
                selects.append(sa.select(sa.literal_column(str(i), sa.Integer()).label("part"), *(
                    mine[slot] if slot in mine else sa.cast(sa.null(), slots[slot[0]][slot[1]])
                    for slot in order)).select_from(f))
            self.built[kind] = sa.union_all(*selects).execution_options(**options)
            self._pick[kind] = [_picker([position[slot] for slot in place]) for place in places]

    def apart(self, params: dict) -> list[list[tuple]]:
        pick = self._pick[kind()]
        out: list[list[tuple]] = [[] for _ in pick]
        for row in run(self.built, params).tuples().all():
            out[row[0]].append(pick[row[0]](row))
        return out


def _slot_key(type_: sa.types.TypeEngine) -> type | tuple:
    """Columns of one key share slots: their type's class (an array's, with its items')."""
    item = getattr(getattr(type_, "impl", type_), "item_type", None)
    return type(type_) if item is None else (type(type_), type(item))


def _picker(positions: list[int]) -> Callable[[tuple], tuple]:
    get = itemgetter(*positions)
    return get if len(positions) > 1 else (lambda row: (get(row),))
