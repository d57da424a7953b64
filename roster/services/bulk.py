"""Many rows written in one statement on PostgreSQL: the rows as ONE JSON parameter (``json_to_recordset``).

The statement's text is the same whatever the number of rows, so psycopg converts it once and
prepares it, and its one parameter is a string made by ``json.dumps`` (psycopg's escaping of every
element of a text array cost more than the write). The alternatives cost more: an UPDATE or INSERT
per row through executemany is about a round trip each (17 ms for a patient's 49 lines under load);
a multi-row VALUES list has a new text every time, which psycopg parses again (2.5 ms for 49 audit
records). Rows keep their order (each carries its position). A JSON column's value travels nested
in the rows, as ``json`` (its text is what SQLAlchemy would have written: ``json.dumps`` of the value,
kept as it is by ``json``); None, which arrives as SQL NULL, is written as JSON null, as SQLAlchemy
writes it (a value dumped on its own, then escaped again inside the rows' text, cost more). SQLite,
in-process, runs one prepared statement per row cheaply: callers keep executemany there.
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

_POSITION = "_position"


def _is_json(column: sa.Column) -> bool:
    return isinstance(column.type, sa.JSON)


def _recordset(table: sa.Table, names: tuple[str, ...], name: str, param: str, extra: tuple = ()):
    """The rows' recordset: ``names`` typed as ``table``'s columns, then ``extra`` ((name, type) pairs)."""
    columns = [sa.column(_POSITION, sa.Integer())] + [
        sa.column(n, _NESTED if _is_json(table.c[n]) else table.c[n].type) for n in names] + [
        sa.column(n, type_) for n, type_ in extra]
    rows = sa.func.json_to_recordset(sa.cast(sa.bindparam(param, type_=sa.Text()), sa.JSON))
    return rows.table_valued(*columns).render_derived(name=name, with_types=True)


_NESTED = sa.JSON()  # rendered ``JSON``: the nested value's own text
_JSON_NULL = sa.cast(sa.literal_column("'null'"), sa.JSON)


def _value(table: sa.Table, rows, name: str):
    return sa.func.coalesce(rows.c[name], _JSON_NULL) if _is_json(table.c[name]) else rows.c[name]


def select_from_json(table: sa.Table, names: tuple[str, ...], param: str = "rows") -> sa.Select:
    """``SELECT names FROM json_to_recordset(:rows)``, in the rows' order (``param``: the parameter's name)."""
    rows = _recordset(table, names, "added", param)
    return sa.select(*(_value(table, rows, n) for n in names)).order_by(rows.c[_POSITION])


def insert_from_json(table: sa.Table, names: tuple[str, ...], param: str = "rows") -> sa.Insert:
    """``INSERT INTO table (names) SELECT … FROM json_to_recordset(:rows)``, in the rows' order."""
    return sa.insert(table).from_select(list(names), select_from_json(table, names, param))


def update_from_json(table: sa.Table, key: str, names: tuple[str, ...], param: str = "rows") -> sa.Update:
    """``UPDATE table SET names FROM json_to_recordset(:rows) WHERE table.key = row's key``."""
    rows = _recordset(table, (key,) + names, "changed", param)
    return sa.update(table).where(table.c[key] == rows.c[key]).values({n: _value(table, rows, n) for n in names})


def rows_param(table: sa.Table, rows: list[dict], names: tuple[str, ...], renamed: dict[str, str] | None = None) -> dict:
    """The ``rows`` parameter of these statements (``renamed``: the statement's column -> the rows' key)."""
    return {"rows": rows_json(table, rows, names, renamed)}


def rows_json(table: sa.Table, rows: list[dict], names: tuple[str, ...], renamed: dict[str, str] | None = None) -> str:
    """These rows as the one JSON text such a statement's parameter carries."""
    keys = [(n, (renamed or {}).get(n, n)) for n in names]
    out = [{_POSITION: position, **{n: row[key] for n, key in keys}} for position, row in enumerate(rows)]
    return json.dumps(out, default=_iso)


def _iso(value):
    if isinstance(value, date):  # dates and (aware) datetimes
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
