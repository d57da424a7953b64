"""Attempt throttling that holds under parallel requests.

Every attempt is counted *before* the secret is checked, by one atomic
``INSERT … ON CONFLICT DO UPDATE … WHERE unlocked RETURNING`` over all its
buckets, so sixteen parallel guesses cannot read the same count and all slip
through: the database serialises them on the rows. The attempt that reaches
a bucket's limit sets ``locked_until`` in the same statement; each further
counted failure doubles the delay up to a cap, and failures older than the
bucket's window are forgotten, so no one holds a lock forever. A success
forgives what it was charged.

Buckets for a password: the e-mail from this client address (tight), the
e-mail from anywhere, the client address for any e-mail, and everyone
(loose). The code step of two-factor sign-in has its own bucket per user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from roster.extensions import db
from roster.models import LoginThrottle

STALE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """``free`` failures within ``window``; then a delay of ``base`` doubling up to ``cap``."""

    free: int
    window: timedelta
    base: timedelta
    cap: timedelta

    def delay(self, failures: int) -> timedelta | None:
        if failures < self.free:
            return None
        steps = min(failures - self.free, 20)
        return min(self.base * (2 ** steps), self.cap)

    def delay_steps(self) -> list[int]:
        """The failure counts at which the delay still grows (beyond the last one it stays at the cap)."""
        counts = [self.free]
        while self.delay(counts[-1]) < self.cap and len(counts) < 20:
            counts.append(counts[-1] + 1)
        return counts


DEFAULT_LIMITS: dict[str, Limit] = {
    "pair": Limit(5, timedelta(minutes=15), timedelta(minutes=1), timedelta(minutes=15)),
    "email": Limit(20, timedelta(minutes=15), timedelta(seconds=30), timedelta(minutes=5)),
    "addr": Limit(30, timedelta(minutes=15), timedelta(minutes=1), timedelta(minutes=15)),
    "global": Limit(300, timedelta(minutes=15), timedelta(seconds=5), timedelta(minutes=1)),
    "code": Limit(5, timedelta(minutes=15), timedelta(minutes=1), timedelta(minutes=15)),
}


@dataclass
class Attempt:
    """What ``admit`` decided: admitted, or refused with how long to wait."""

    admitted: bool
    buckets: dict[str, Limit]
    wait: timedelta = timedelta(0)
    locked_now: bool = False  # this attempt was the one that reached a limit


def password_buckets(email: str, addr: str, limits: dict[str, Limit]) -> dict[str, Limit]:
    addr = (addr or "unknown")[:60]
    return {
        f"pair:{email}|{addr}"[:320]: limits["pair"],
        f"email:{email}"[:320]: limits["email"],
        f"addr:{addr}": limits["addr"],
        "global": limits["global"],
    }


def code_buckets(user_id: int, limits: dict[str, Limit]) -> dict[str, Limit]:
    return {f"code:{user_id}": limits["code"]}


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LoginThrottle)


def _charge_values(name: str, limit: Limit, now: datetime) -> dict:
    """A bucket's row as a first failure makes it (what the upsert inserts when the row is new)."""
    first_delay = limit.delay(1)
    return {"bucket": name, "failures": 1, "last_failure_at": now,
            "locked_until": None if first_delay is None else now + first_delay}


def _charged(table: sa.Table, limit: Limit, now: datetime) -> tuple:
    """One more failure on an existing row: its new count (a stale count starts again) and delay."""
    stale = sa.or_(table.c.last_failure_at.is_(None), table.c.last_failure_at < now - limit.window)
    new_count = sa.case((stale, 1), else_=table.c.failures + 1)
    steps = limit.delay_steps()
    new_lock = sa.case(
        (new_count < limit.free, sa.null()),
        *[(new_count == n, now + limit.delay(n)) for n in steps[:-1]],
        else_=now + limit.cap,
    )
    return new_count, new_lock


def admit(buckets: dict[str, Limit], now: datetime) -> Attempt:
    """Charge one attempt to every bucket, or refuse it without charging when any is delayed.

    All buckets are charged by one ``INSERT … ON CONFLICT DO UPDATE … WHERE unlocked RETURNING``:
    its rows are taken in the order written (sorted, so parallel attempts lock them the same way
    round) and the shared ones (this address, everyone) are held for one statement, not one round
    trip per bucket: sixteen desks signing in at once queued behind each other's locks otherwise.
    A bucket delayed meanwhile is locked but not updated, so it is missing from what comes back.
    The caller commits at once (before checking the secret) so the rows are not
    held while a password hash is computed.
    """
    table = LoginThrottle.__table__
    names = sorted(buckets)  # a fixed order: parallel attempts lock rows the same way round
    waiting = db.session.execute(
        sa.select(table.c.bucket, table.c.locked_until)
        .where(table.c.bucket.in_(names), table.c.locked_until > now)
    ).all()
    if waiting:
        return Attempt(False, buckets, max(row.locked_until for row in waiting) - now)
    counts, locks = [], []
    for name in names:
        new_count, new_lock = _charged(table, buckets[name], now)
        counts.append((table.c.bucket == name, new_count))
        locks.append((table.c.bucket == name, new_lock))
    insert = _insert().values([_charge_values(name, buckets[name], now) for name in names])
    rows = db.session.execute(
        insert.on_conflict_do_update(
            index_elements=["bucket"],
            set_={"failures": sa.case(*counts), "locked_until": sa.case(*locks), "last_failure_at": now},
            where=sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
        ).returning(table.c.bucket, table.c.failures, table.c.locked_until)
    ).all()
    charged = {row.bucket for row in rows}
    missed = [name for name in names if name not in charged]
    if missed:  # another attempt locked one a moment ago: undo what this one was charged
        _uncharge(sorted(charged), buckets)
        until = db.session.scalar(sa.select(sa.func.max(table.c.locked_until)).where(table.c.bucket.in_(missed)))
        return Attempt(False, buckets, (until - now) if until else timedelta(0))
    locked = [row.locked_until for row in rows if row.locked_until is not None]
    if not locked:
        return Attempt(True, buckets)
    return Attempt(True, buckets, wait=max(locked) - now, locked_now=True)


def forgive(attempt: Attempt, clear: tuple[str, ...] = ("pair:", "email:", "code:")) -> None:
    """A success: clear the buckets about this account; take the charge back from the shared ones."""
    table = LoginThrottle.__table__
    names = sorted(attempt.buckets)
    cleared = [n for n in names if n.startswith(clear)]
    if cleared:
        db.session.execute(table.delete().where(table.c.bucket.in_(cleared)))
    _uncharge([n for n in names if n not in cleared], attempt.buckets)


def _uncharge(names: list[str], buckets: dict[str, Limit]) -> None:
    table = LoginThrottle.__table__
    for name in names:
        db.session.execute(
            table.update().where(table.c.bucket == name, table.c.failures > 0).values(
                failures=table.c.failures - 1,
                locked_until=sa.case((table.c.failures - 1 < buckets[name].free, sa.null()),
                                     else_=table.c.locked_until),
            )
        )


def lift(prefixes: list[str]) -> int:
    """An administrator unlocks: forget the failures of these buckets (e.g. ``email:<address>``)."""
    table = LoginThrottle.__table__
    conditions = [table.c.bucket.startswith(p, autoescape=True) for p in prefixes]
    return db.session.execute(table.delete().where(sa.or_(*conditions))).rowcount


def is_delayed(prefixes: list[str], now: datetime) -> bool:
    table = LoginThrottle.__table__
    conditions = [table.c.bucket.startswith(p, autoescape=True) for p in prefixes]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(table).where(sa.or_(*conditions), table.c.locked_until > now)
    ) > 0


def clean_stale(now: datetime) -> int:
    """Drop rows whose failures are long forgotten and whose delay has passed."""
    table = LoginThrottle.__table__
    return db.session.execute(
        table.delete().where(table.c.last_failure_at < now - STALE_AFTER,
                             sa.or_(table.c.locked_until.is_(None), table.c.locked_until < now))
    ).rowcount
