"""Search people by name, MRN or phone, whatever the accents, case or word order.

Each record keeps a ``search_key`` (its names folded by ``roster.domain.text``);
a query matches when every query token occurs in the key. Every branch is one
indexable predicate and the branches are joined by UNION, never OR, so each can
use its index:

- PostgreSQL: ``key LIKE '%token%'`` on pg_trgm GIN indexes (migration 0005).
- SQLite: FTS5 tables with the trigram tokenizer (``caregiver_fts``,
  ``patient_fts``, rowid = the record's id; migration 0016 and its triggers keep
  them in step). A quoted token is a phrase of trigrams, i.e. a substring: the
  same match as ``LIKE '%token%'``.

A trigram index cannot look up a token of one or two characters: such tokens are
checked row by row (``strpos``/``instr``) on what the longer tokens found. When
every token is short, the walk-in search first walks the first WINDOW caregivers
by name (a common pair of letters gives ten at once), else scans.

The walk-in search orders by name and cuts to its first ten in SQL (the database
sorts the ids and names the indexes found); only those ten are loaded, with their
patients, in the same statement (``frontdesk.walk_in_search``). On PostgreSQL a
query of one long word (what a desk types first: "and", "jensen") reads the words
of the caregivers' and their patients' keys instead (``caregiver_word``, migration
0019): each matching word's first ten caregivers by name, from one index.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from roster.domain.text import search_tokens
from roster.domain.validators import phone_digits
from roster.extensions import db
from roster.models import Caregiver, CaregiverLink, Patient
from roster.services.paging import Page, paginate

MIN_QUERY = 2
MIN_PHONE_DIGITS = 3
TRIGRAM = 3  # a trigram index can look up a token of at least this many characters
WINDOW = 500  # caregivers walked in name order when no token is long enough for an index

caregiver_fts = sa.table("caregiver_fts", sa.column("rowid", sa.Integer), sa.column("search_key"),
                         sa.column("phone_digits"))
patient_fts = sa.table("patient_fts", sa.column("rowid", sa.Integer), sa.column("search_key"))
_FTS = {Caregiver: caregiver_fts, Patient: patient_fts}
# PostgreSQL (migration 0019, kept by triggers): each distinct word of each caregiver's own key (patient_id 0) and
# of their linked patients' keys, with the caregiver's names, in name order per word; and every such word, looked
# up by pg_trgm
caregiver_word = sa.table("caregiver_word", sa.column("caregiver_id", sa.Integer), sa.column("word"),
                          sa.column("last_name"), sa.column("first_name"))
search_word = sa.table("search_word", sa.column("word"))


def _on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


@dataclass(frozen=True)
class _Shape:
    """What a query's SQL looks like (its values travel as bound parameters, so one shape's statement
    is built once and reused: SQLAlchemy neither rebuilds nor re-keys it per keystroke)."""

    sqlite: bool
    long: int  # tokens an index can look up (>= 3 characters)
    short: int  # tokens checked row by row
    phone: bool  # enough digits to search phone numbers too


def _prepare(query: str) -> tuple[_Shape, dict[str, str]] | None:
    """The shape of the query's SQL and the values of its parameters; None when it has no word."""
    tokens = search_tokens(query)
    if not tokens:
        return None
    sqlite = _on_sqlite()
    long = [t for t in tokens if len(t) >= TRIGRAM]
    short = [t for t in tokens if len(t) < TRIGRAM]
    digits = phone_digits(query)
    phone = len(digits) >= MIN_PHONE_DIGITS
    params = {f"short{i}": token for i, token in enumerate(short)}
    if sqlite:
        # an FTS5 query: each token a quoted phrase of trigrams (a substring). Tokens are folded to
        # [0-9a-z] (``fold``), so quoting them cannot change the query's syntax.
        if long:
            params["match"] = " AND ".join(f'"{token}"' for token in long)
        if phone:
            params["phone"] = f'"{digits}"'
    else:
        params.update({f"long{i}": f"%{token}%" for i, token in enumerate(long)})
        if phone:
            params["phone"] = f"%{digits}%"
    return _Shape(sqlite, len(long), len(short), phone), params


def _where_key(model, shape: _Shape):
    """Every token occurs in ``model.search_key``: the long ones through the index, the short ones checked
    row by row (``instr``/``strpos``: what ``LIKE '%t%'`` does, without asking an index that cannot help)."""
    contains = sa.func.instr if shape.sqlite else sa.func.strpos
    checks = [contains(model.search_key, sa.bindparam(f"short{i}")) > 0 for i in range(shape.short)]
    if shape.long and shape.sqlite:
        fts = _FTS[model]
        checks.insert(0, model.id.in_(sa.select(fts.c.rowid).where(fts.c.search_key.match(sa.bindparam("match")))))
    elif shape.long:
        checks[:0] = [model.search_key.like(sa.bindparam(f"long{i}")) for i in range(shape.long)]
    return sa.and_(*checks)


def _where_phone(shape: _Shape, model=Caregiver):
    if shape.sqlite:
        fts = caregiver_fts
        return model.id.in_(sa.select(fts.c.rowid).where(fts.c.phone_digits.match(sa.bindparam("phone"))))
    return model.phone_digits.like(sa.bindparam("phone"))


def _patient_ids(shape: _Shape) -> sa.Select:
    return sa.select(Patient.id).where(_where_key(Patient, shape))


def patient_ids_matching(query: str) -> sa.Select | None:
    """Patients whose names or MRN hold every token of the query (one indexed predicate)."""
    prepared = _prepare(query)
    if prepared is None:
        return None
    shape, params = prepared
    return _patient_ids(shape).params(params)


def _by_words(limit: int) -> sa.Select:
    """PostgreSQL, a query of one word long enough for an index: the caregivers whose own key or a linked patient's
    key holds it (the UNION's name and patient branches at once), as the first ``limit`` by name of each word of
    those keys that holds it: a token has no space, so it occurs in a key exactly when it occurs in one of its
    words. A few index pages, where the trigram indexes give every match unordered (4,800 rows to visit and sort
    for "and"). A caregiver comes once (DISTINCT: their own key and a patient's, or two words, may hold it); the
    caller cuts the words' lists to the first ``limit`` of all."""
    words = sa.select(search_word.c.word).where(search_word.c.word.like(sa.bindparam("long0")))
    words = words.offset(sa.literal_column("0")).subquery("words")  # looked up by its index, then word by word
    order = (caregiver_word.c.last_name, caregiver_word.c.first_name, caregiver_word.c.caregiver_id.label("id"))
    first = (sa.select(*order).distinct().where(caregiver_word.c.word == words.c.word).order_by(*order)
             .limit(_cut(limit)).lateral("first_by_word"))
    return sa.select(*first.c).select_from(words).join(first, sa.true()).distinct()


def _caregiver_branches(shape: _Shape, columns: tuple, *, through_patients: bool) -> list[sa.Select]:
    """The UNION's branches, each selecting ``columns`` of Caregiver: by name, by phone digits and
    (walk-in) by a linked patient's name or MRN."""
    branches = [sa.select(*columns).where(_where_key(Caregiver, shape))]
    if shape.phone:
        branches.append(sa.select(*columns).where(_where_phone(shape)))
    if through_patients:
        # read from the matching patients' links alone: a link carries its caregiver's names for the sort
        # (ix_caregiver_link_patient_names), so the thousands a common start finds are not each looked up
        on_link = {"id": CaregiverLink.caregiver_id, "last_name": CaregiverLink.caregiver_last_name,
                   "first_name": CaregiverLink.caregiver_first_name}
        branches.append(sa.select(*(on_link[column.key].label(column.key) for column in columns))
                        .where(CaregiverLink.patient_id.in_(_patient_ids(shape))))
    return branches


def _union(branches: list[sa.Select]):
    return sa.union(*branches) if len(branches) > 1 else branches[0]


def caregiver_ids_matching(query: str, *, through_patients: bool) -> sa.Select | None:
    """Caregivers by name, by phone digits and (walk-in) by a linked patient's name or MRN: a UNION."""
    prepared = _prepare(query)
    if prepared is None:
        return None
    shape, params = prepared
    return _union(_caregiver_branches(shape, (Caregiver.id,), through_patients=through_patients)).params(params)


def _name_order(model):
    return (model.last_name, model.first_name, model.id)


def _cut(limit: int):
    """``limit`` written into the SQL, not bound: a generic plan (``plan_once``) then knows it cuts to ten."""
    return sa.literal_column(str(int(limit)))


def _first_by_name(branch: sa.Select, name: str, limit: int) -> sa.Select:
    """A branch's own first ``limit`` by name. The inner OFFSET 0 is a fence: the branch is looked up through its
    index as it is and only its own matches are sorted (a top-N sort). Without it PostgreSQL may answer the ORDER
    BY ... LIMIT by walking the name index and filtering, which reads every caregiver when the matches sort late
    ("zha": 118 ms)."""
    found = branch.offset(sa.literal_column("0")).subquery(f"{name}_found")
    first = sa.select(*found.c).order_by(*found.c).limit(_cut(limit)).subquery(name)
    return sa.select(*first.c)


@lru_cache(maxsize=64)
def _walk_in_ids(shape: _Shape, limit: int) -> sa.Select:
    # Every branch carries the sort columns and is cut to its own first ten by name; the first ten of all are
    # among those (exact), so the UNION removes duplicates from a few rows instead of hashing every match
    # (3,000-4,800 for a common start like "and").
    branches = _caregiver_branches(shape, _name_order(Caregiver), through_patients=True)
    if not shape.sqlite and shape.long == 1 and not shape.short:  # the name and patient branches by their words
        branches = [_by_words(limit), *branches[1:-1]]
    hits = sa.union(*(_first_by_name(branch, f"branch{i}", limit) for i, branch in enumerate(branches))).subquery("hits")
    return sa.select(hits.c.id).order_by(hits.c.last_name, hits.c.first_name, hits.c.id).limit(_cut(limit))


@lru_cache(maxsize=64)
def _walk_in_window_ids(shape: _Shape, limit: int) -> sa.Select:
    """The matches among the first WINDOW caregivers by name, first by name. When every token is short no
    index helps and a two-letter query matches thousands: walking the names in order finds the first ten
    after a few rows. Exact: when there are ``limit`` of them, they are the first ``limit`` of all."""
    window = sa.select(Caregiver).order_by(*_name_order(Caregiver)).limit(WINDOW).subquery("window")
    cg = aliased(Caregiver, window)
    # a count, not EXISTS: PostgreSQL would hash every link of every matching patient for an EXISTS
    # inside an OR; the count looks up this caregiver's links only, for the few rows walked
    linked = (sa.select(sa.func.count()).select_from(CaregiverLink).join(Patient, Patient.id == CaregiverLink.patient_id)
              .where(CaregiverLink.caregiver_id == cg.id, _where_key(Patient, shape)).scalar_subquery()) > 0
    found = [_where_key(cg, shape), linked]
    if shape.phone:
        found.append(_where_phone(shape, cg))
    return sa.select(cg.id).where(sa.or_(*found)).order_by(*_name_order(cg)).limit(_cut(limit))


_GENERIC_PLANS = sa.text("SET LOCAL plan_cache_mode = force_generic_plan")


def plan_once(stmts: list[sa.Select]) -> None:
    """PostgreSQL, for the walk-in statement of a query with a word an index can look up: a generic plan, made
    once per connection when psycopg prepares the statement (after five runs), for the rest of this transaction.
    Left to itself PostgreSQL plans every keystroke again (~1 ms of a 3-5 ms search): a custom plan for a LIKE
    pattern looks cheaper to it than a generic one, yet both have the same shape here (each branch has one
    index it can use, behind its OFFSET 0 fence, the cuts are written into the SQL, the rest are joins by key;
    tests/people/test_search.py checks the generic plan). Queries of only short words (two statements: the
    walk of the first names, then a scan) keep custom plans: a generic plan of the scan is slower."""
    if generic_plan(stmts):
        db.session.execute(_GENERIC_PLANS)


def generic_plan(stmts: list[sa.Select]) -> bool:
    """Whether ``plan_once`` asks for a generic plan for these walk-in statements (a caller that reads something
    first may ask for it in that read instead: ``frontdesk.sessions.GENERIC_PLANS``)."""
    return len(stmts) == 1 and not _on_sqlite()


def walk_in_ids(query: str, limit: int = 10) -> tuple[list[sa.Select], dict] | None:
    """Statements for the ids of the first ``limit`` caregivers by name for the walk-in search, ordered
    and cut in SQL (the same objects for every query of one shape), and their parameters; None when
    the query is too short to search. Run them in order: the first that finds ``limit`` caregivers (or
    the last) is the answer. Usually one; two when every token is too short for an index."""
    if len((query or "").strip()) < MIN_QUERY:
        return None
    prepared = _prepare(query)
    if prepared is None:
        return None
    shape, params = prepared
    stmts = [_walk_in_ids(shape, limit)]
    if not shape.long:
        stmts.insert(0, _walk_in_window_ids(shape, limit))
    return stmts, {**params, "limit": limit}


def search_caregivers(query: str, limit: int = 10) -> list[Caregiver]:
    """Walk-in search: caregiver name, phone digits, patient name or MRN, first by name (links loaded)."""
    found = walk_in_ids(query, limit)
    if found is None:
        return []
    stmts, params = found
    for ids in stmts:
        stmt = (
            sa.select(Caregiver)
            .where(Caregiver.id.in_(ids))
            .options(selectinload(Caregiver.links).selectinload(CaregiverLink.patient))
            .order_by(*_name_order(Caregiver))
        )
        caregivers = list(db.session.scalars(stmt, params))
        if len(caregivers) >= limit:
            break
    return caregivers


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
