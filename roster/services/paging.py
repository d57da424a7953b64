"""One pager for every numbered list: count, clamp the page number, fetch one page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Mapping, TypeVar

import sqlalchemy as sa

from roster.extensions import db
from roster.services import ServiceError
from roster.services.validation import whole_number

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int  # 1-based, within 1..pages
    pages: int  # at least 1, also for an empty list
    total: int  # counted no further than PAGES_AHEAD pages past this one (see ``more``)
    more: bool = False  # the list goes on past ``pages``


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def clamp(page: int | None, pages: int) -> int:
    """A page number from a URL, kept within 1..pages (a stale or made-up number shows the nearest page)."""
    return min(max(page or 1, 1), pages)


def paginate(
    stmt: sa.Select, page: int | None, per_page: int, *, options: tuple = (), total: int | None = None
) -> Page:
    """One page of ``stmt`` (ordered by the caller) in two queries: the count and the page.

    The count stops ``PAGES_AHEAD`` pages past this one (``capped_count``; ``more`` says the list goes
    on); ``options`` (loader options) apply to the page only; pass ``total`` when it is known to spare
    the count.
    """
    more = False
    if total is None:
        total, more = capped_count(stmt, page, per_page)
    pages = page_count(total, per_page)
    page = clamp(page, pages)
    items = db.session.scalars(stmt.options(*options).limit(per_page).offset((page - 1) * per_page)).all()
    return Page(list(items), page, pages, total, more)


PAGES_AHEAD = 10  # a capped count reads this many pages past the one shown


def capped_count(stmt: sa.Select, page: int | None, per_page: int) -> tuple[int, bool]:
    """How many rows ``stmt`` has, counted no further than ``PAGES_AHEAD`` pages past ``page``, and whether
    there are more than that.

    For a list that grows with time (the audit trail: ~150,000 events a year) an exact count reads every
    row on every page view; people page a few pages at a time and narrow by date or person to go far.
    """
    cap = (max(page or 1, 1) + PAGES_AHEAD) * per_page
    n = db.session.scalar(sa.select(sa.func.count()).select_from(
        stmt.order_by(None).with_only_columns(sa.literal(1), maintain_column_froms=True).limit(cap + 1).subquery())) or 0
    return min(n, cap), n > cap


# --------------------------------------------------------------------------- API lists: limit and offset


@dataclass(frozen=True)
class Window(Generic[T]):
    items: list[T]
    next_offset: int | None  # where the next window starts; None when this one reaches the end


def limit_offset(args: Mapping[str, str], *, default: int, maximum: int) -> tuple[int, int]:
    """``limit`` (1..maximum, ``default`` when absent) and ``offset`` (0 when absent) from a query string."""
    errors: dict[str, str] = {}
    raw_limit, raw_offset = args.get("limit"), args.get("offset")
    limit = default if raw_limit in (None, "") else whole_number(raw_limit, "limit", errors, "Limit", 1, maximum)
    offset = 0 if raw_offset in (None, "") else whole_number(raw_offset, "offset", errors, "Offset", 0, 2**31 - 1)
    if errors:
        raise ServiceError("Limit and offset must be whole numbers in range.", errors)
    return limit, offset


def window(fetch: Callable[[int, int], list[T]], limit: int, offset: int) -> Window[T]:
    """``limit`` items from ``offset`` of an ordered list; ``fetch(n, offset)`` reads n items (one query)."""
    rows = fetch(limit + 1, offset)
    return Window(rows[:limit], offset + limit if len(rows) > limit else None)
