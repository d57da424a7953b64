"""Search people by name, MRN or phone, whatever the accents, case or word order.

Each record keeps a ``search_key`` (its names folded by ``roster.domain.text``);
a query matches when every query token occurs in the key. Every branch is one
indexable predicate and the branches are joined by UNION, never OR, so each can
use its index:

- PostgreSQL: ``key LIKE '%token%'`` on pg_trgm GIN indexes (migration 0005).
  A trigram index cannot look up a token of one or two characters, so such
  tokens are checked with ``strpos`` on the rows the longer tokens found (or,
  when every token is short, on a scan: a two-letter query matches thousands).
- SQLite: FTS5 tables with the trigram tokenizer (``caregiver_fts``,
  ``patient_fts``, rowid = the record's id; migration 0016 and its triggers keep
  them in step). A quoted token is a phrase of trigrams, i.e. a substring: the
  same match as ``LIKE '%token%'``. Short tokens are checked with ``instr``.

The walk-in search orders by name and cuts to its first ten in SQL, so it reads
the ten caregivers it shows, never every match.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from roster.domain.text import search_tokens
from roster.domain.validators import phone_digits
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Patient
from roster.services.paging import Page, paginate

MIN_QUERY = 2
MIN_PHONE_DIGITS = 3
TRIGRAM = 3  # a trigram index can look up a token of at least this many characters

caregiver_fts = sa.table("caregiver_fts", sa.column("rowid", sa.Integer), sa.column("search_key"),
                         sa.column("phone_digits"))
patient_fts = sa.table("patient_fts", sa.column("rowid", sa.Integer), sa.column("search_key"))
_FTS = {Caregiver: caregiver_fts, Patient: patient_fts}


def _on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _split(tokens: list[str]) -> tuple[list[str], list[str]]:
    return [t for t in tokens if len(t) >= TRIGRAM], [t for t in tokens if len(t) < TRIGRAM]


def _contains(column, token: str):
    """``token`` occurs in ``column``, checked row by row (no index can look up a short token)."""
    return (sa.func.instr(column, token) if _on_sqlite() else sa.func.strpos(column, token)) > 0


def _fts_ids(model, column: str, tokens: list[str]) -> sa.Select:
    """SQLite: ids whose ``column`` holds every token (each ≥ 3 characters), from the FTS5 trigram index.
    Tokens are folded to [0-9a-z] (``fold``), so quoting them cannot change the query's syntax."""
    fts = _FTS[model]
    return sa.select(fts.c.rowid).where(fts.c[column].match(" AND ".join(f'"{token}"' for token in tokens)))


def _where_key(model, tokens: list[str]):
    """Every token occurs in ``model.search_key``: the long ones through the index, the short ones checked."""
    long, short = _split(tokens)
    checks = [_contains(model.search_key, token) for token in short]
    if long:
        if _on_sqlite():
            checks.insert(0, model.id.in_(_fts_ids(model, "search_key", long)))
        else:
            checks[:0] = [model.search_key.like(f"%{token}%") for token in long]
    return sa.and_(*checks)


def _where_phone(digits: str):
    if _on_sqlite():
        return Caregiver.id.in_(_fts_ids(Caregiver, "phone_digits", [digits]))
    return Caregiver.phone_digits.like(f"%{digits}%")


def patient_ids_matching(query: str) -> sa.Select | None:
    """Patients whose names or MRN hold every token of the query (one indexed predicate)."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    return sa.select(Patient.id).where(_where_key(Patient, tokens))


def _caregiver_branches(query: str, columns: tuple, *, through_patients: bool) -> list[sa.Select] | None:
    """The UNION's branches, each selecting ``columns`` of Caregiver: by name, by phone digits and
    (walk-in) by a linked patient's name or MRN."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    branches = [sa.select(*columns).where(_where_key(Caregiver, tokens))]
    digits = phone_digits(query)
    if len(digits) >= MIN_PHONE_DIGITS:
        branches.append(sa.select(*columns).where(_where_phone(digits)))
    if through_patients:
        branches.append(
            sa.select(*columns)
            .join(CaregiverLink, CaregiverLink.caregiver_id == Caregiver.id)
            .where(CaregiverLink.patient_id.in_(patient_ids_matching(query)))
        )
    return branches


def caregiver_ids_matching(query: str, *, through_patients: bool) -> sa.Select | None:
    """Caregivers by name, by phone digits and (walk-in) by a linked patient's name or MRN: a UNION."""
    branches = _caregiver_branches(query, (Caregiver.id,), through_patients=through_patients)
    if branches is None:
        return None
    return sa.union(*branches) if len(branches) > 1 else branches[0]


def _name_order(model):
    return (model.last_name, model.first_name, model.id)


def walk_in_ids(query: str, limit: int = 10) -> sa.Select | None:
    """The ids of the first ``limit`` caregivers by name for the walk-in search, ordered and cut in SQL.

    Every branch carries the sort columns, so the database sorts the matches it found through the
    indexes and reads no other caregiver. None when the query is too short to search."""
    if len((query or "").strip()) < MIN_QUERY:
        return None
    branches = _caregiver_branches(query, _name_order(Caregiver), through_patients=True)
    if branches is None:
        return None
    hits = (sa.union(*branches) if len(branches) > 1 else branches[0]).subquery("hits")
    return sa.select(hits.c.id).order_by(hits.c.last_name, hits.c.first_name, hits.c.id).limit(limit)


def search_caregivers(query: str, limit: int = 10) -> list[Caregiver]:
    """Walk-in search: caregiver name, phone digits, patient name or MRN, first by name (links loaded)."""
    ids = walk_in_ids(query, limit)
    if ids is None:
        return []
    stmt = (
        sa.select(Caregiver)
        .where(Caregiver.id.in_(ids))
        .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
        .order_by(*_name_order(Caregiver))
    )
    return list(db.session.scalars(stmt))


def patient_page(query: str, page: int | None, per_page: int) -> Page[Patient]:
    """One page of patients (all, or those matching the query by name or MRN); the page number is clamped."""
    stmt = sa.select(Patient)
    ids = patient_ids_matching(query)
    if ids is not None:
        stmt = stmt.where(Patient.id.in_(ids))
    return paginate(stmt.order_by(*_name_order(Patient)), page, per_page)


def caregiver_page(query: str, page: int | None, per_page: int) -> Page[Caregiver]:
    """One page of caregivers (all, or those matching by name or phone) with their patients."""
    stmt = sa.select(Caregiver)
    ids = caregiver_ids_matching(query, through_patients=False)
    if ids is not None:
        stmt = stmt.where(Caregiver.id.in_(ids))
    return paginate(stmt.order_by(*_name_order(Caregiver)), page, per_page,
                    options=(selectinload(Caregiver.links).selectinload(CaregiverLink.patient),))
