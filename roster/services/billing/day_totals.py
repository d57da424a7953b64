"""The review's totals of a range read from the sums kept by day (``billing_day_total``, issue 12).

Each day's lines and units by status, code and facilitator (0: none recorded) are kept by the writers
of lines in their transaction: re-evaluation (``reconcile``) adds what it inserts, updates, voids and
deletes with one upsert per flush, its last write (``Moves``, keys in order: two transactions lock
shared sums in the same order; on PostgreSQL a part of the one statement of ``writes``, so the sums a
day's closes share stay locked from the last statement to the commit only). The export's step from ready to exported is not written there: ``record_export``
adds what a batch took to ``billing_export_total`` (rows of its own, so an export never rewrites or
locks the sums closes and re-evaluations update). A range's totals are then the day sums, with each
export's lines moved from ready to exported. ``recount`` sets them from the lines (bulk loads).
tests/fresh.assert_day_totals_fresh compares them with the lines after every race test and scenario.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from roster.domain.statuses import LineStatus
from roster.extensions import db
from roster.models import BillingDayTotal, BillingExportTotal, BillingLine, Facilitator
from roster.services import bulk

class Moves:
    """What a flush does to the day sums: +1 line (and its units) for each line added or moved into a
    key, -1 for each moved out of one or deleted."""

    def __init__(self) -> None:
        self._sums: dict[tuple, list[int]] = {}

    def add(self, line, sign: int) -> None:
        """``line`` (a row or dict with date_of_service, status, cpt, facilitator_id, units) counted
        once more (``sign`` 1) or once less (-1)."""
        line = getattr(line, "_mapping", line)
        key = (line["date_of_service"], line["status"], line["cpt"], line["facilitator_id"] or 0)
        sums = self._sums.setdefault(key, [0, 0])
        sums[0] += sign
        sums[1] += sign * line["units"]

    def move(self, before, after) -> None:
        self.add(before, -1)
        self.add(after, 1)

    def rows(self) -> list[dict]:
        """The moves as rows of the sums' table, keys in order (two transactions lock shared sums in the
        same order); emptied. PostgreSQL writes them as the ``sums`` part of `billing.writes`."""
        rows = [{"date_of_service": d, "status": s, "cpt": c, "facilitator_id": f, "lines": n, "units": u}
                for (d, s, c, f), (n, u) in sorted(self._sums.items()) if (n, u) != (0, 0)]
        self._sums = {}
        return rows

    def apply(self) -> None:
        """Add the moves to the sums (SQLite: a prepared statement per key)."""
        rows = self.rows()
        if rows:
            db.session.connection().execute(_SQLITE_UPSERT, rows)


_KEY = ("date_of_service", "status", "cpt", "facilitator_id")
TABLE = BillingDayTotal.__table__
NAMES = tuple(column.name for column in TABLE.columns)
_ADD = {"lines": BillingDayTotal.lines, "units": BillingDayTotal.units}


def upsert(param: str = "rows") -> sa.Insert:
    """PostgreSQL's upsert of the moves (the rows as one JSON parameter, in key order: locked in that order)."""
    stmt = postgresql.insert(TABLE).from_select(list(NAMES), bulk.select_from_json(TABLE, NAMES, param))
    return stmt.on_conflict_do_update(index_elements=list(_KEY),
                                      set_={name: column + stmt.excluded[name] for name, column in _ADD.items()})


# As text, built once: SQLAlchemy never caches its dialects' ON CONFLICT constructs (they have no cache
# key), so the upsert was compiled again at every re-evaluation.
_SQLITE_UPSERT = sa.text(
    f"INSERT INTO billing_day_total ({', '.join(NAMES)}) VALUES ({', '.join(':' + n for n in NAMES)}) "
    f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET "
    + ", ".join(f"{n} = billing_day_total.{n} + excluded.{n}" for n in _ADD)
).bindparams(*(sa.bindparam(column.name, type_=column.type) for column in TABLE.columns))


def recount() -> None:
    """The sums set afresh from the lines as they stand (exported ones under "exported"): after a bulk
    load of lines (bench data), or to repair them."""
    line, facilitator = BillingLine, sa.func.coalesce(BillingLine.facilitator_id, 0)
    db.session.execute(sa.delete(BillingExportTotal))
    db.session.execute(sa.delete(BillingDayTotal))
    db.session.execute(sa.insert(BillingDayTotal).from_select(
        ["date_of_service", "status", "cpt", "facilitator_id", "lines", "units"],
        sa.select(line.date_of_service, line.status, line.cpt, facilitator, sa.func.count(), sa.func.sum(line.units))
        .group_by(line.date_of_service, line.status, line.cpt, facilitator)))


NARROWINGS = frozenset({"cpt", "facilitator", "no_facilitator"})  # what the sums can be narrowed by


def record_export(batch_id: int) -> None:
    """What the batch took from ready to exported, summed by day, code and facilitator (one statement)."""
    line, facilitator = BillingLine, sa.func.coalesce(BillingLine.facilitator_id, 0)
    db.session.execute(sa.insert(BillingExportTotal).from_select(
        ["export_batch_id", "date_of_service", "cpt", "facilitator_id", "lines", "units"],
        sa.select(line.export_batch_id, line.date_of_service, line.cpt, facilitator, sa.func.count(),
                  sa.func.sum(line.units))
        .where(line.export_batch_id == batch_id, line.status == LineStatus.EXPORTED)
        .group_by(line.export_batch_id, line.date_of_service, line.cpt, facilitator)))


def _where(table, narrowing: tuple) -> list:
    conditions = [table.date_of_service >= sa.bindparam("date_from"), table.date_of_service <= sa.bindparam("date_to")]
    if "cpt" in narrowing:
        conditions.append(table.cpt == sa.bindparam("cpt"))
    if "no_facilitator" in narrowing:
        conditions.append(table.facilitator_id == 0)
    if "facilitator" in narrowing:
        conditions.append(table.facilitator_id == sa.bindparam("facilitator_id"))
    return conditions


@cache
def totals_statement(narrowing: tuple):
    """Rows of (status, cpt, facilitator_id or None, n, units, facilitator's name) for the range
    (parameters ``date_from``, ``date_to`` and the narrowing's), groups of no line left out."""
    kept, taken = BillingDayTotal, BillingExportTotal
    # each table summed on its own first (the integer first: SQLite's sort for the grouping compares
    # fewer strings), then the exports' sums moved from ready to exported
    kept_sums = (sa.select(kept.status, kept.cpt, kept.facilitator_id, sa.func.sum(kept.lines).label("lines"),
                           sa.func.sum(kept.units).label("units"))
                 .where(*_where(kept, narrowing)).group_by(kept.facilitator_id, kept.cpt, kept.status))
    taken_sums = (sa.select(taken.cpt, taken.facilitator_id, sa.func.sum(taken.lines).label("lines"),
                            sa.func.sum(taken.units).label("units"))
                  .where(*_where(taken, narrowing)).group_by(taken.facilitator_id, taken.cpt)
                  .cte("taken_sums"))
    moves = sa.union_all(
        kept_sums,
        *(sa.select(sa.literal(status, sa.String(10)), taken_sums.c.cpt, taken_sums.c.facilitator_id,
                    sign * taken_sums.c.lines, sign * taken_sums.c.units)
          for status, sign in ((LineStatus.READY, -1), (LineStatus.EXPORTED, 1))),
    ).subquery()
    n = sa.func.sum(moves.c.lines)
    agg = (sa.select(moves.c.status, moves.c.cpt, moves.c.facilitator_id, n.label("n"),
                     sa.func.sum(moves.c.units).label("units"))
           .group_by(moves.c.facilitator_id, moves.c.cpt, moves.c.status).having(n != 0).subquery())
    return (
        sa.select(agg.c.status, agg.c.cpt, sa.func.nullif(agg.c.facilitator_id, 0).label("facilitator_id"),
                  agg.c.n, agg.c.units, Facilitator.name)
        .outerjoin(Facilitator, Facilitator.id == agg.c.facilitator_id)
    )
