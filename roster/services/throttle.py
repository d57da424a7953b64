"""Attempt throttling that holds under parallel requests.

Every attempt is counted *before* the secret is checked, by one atomic
``UPDATE … WHERE unlocked RETURNING`` per bucket (rows are created with
``INSERT … ON CONFLICT DO NOTHING``), so sixteen parallel guesses cannot
read the same count and all slip through: the database serialises them on
the row. The attempt that reaches a bucket's limit sets ``locked_until`` in
the same statement; each further counted failure doubles the delay up to a
cap, and failures older than the bucket's window are forgotten, so no one
holds a lock forever. A success forgives what it was charged.

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


def admit(buckets: dict[str, Limit], now: datetime) -> Attempt:
    """Charge one attempt to every bucket, or refuse it without charging when any is delayed.

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
    db.session.execute(
        _insert().values([{"bucket": name, "failures": 0} for name in names])
        .on_conflict_do_nothing(index_elements=["bucket"])
    )
    charged: list[str] = []
    until = None
    for name in names:
        limit = buckets[name]
        stale = sa.or_(table.c.last_failure_at.is_(None), table.c.last_failure_at < now - limit.window)
        new_count = sa.case((stale, 1), else_=table.c.failures + 1)
        steps = limit.delay_steps()
        new_lock = sa.case(
            (new_count < limit.free, sa.null()),
            *[(new_count == n, now + limit.delay(n)) for n in steps[:-1]],
            else_=now + limit.cap,
        )
        row = db.session.execute(
            table.update()
            .where(table.c.bucket == name,
                   sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now))
            .values(failures=new_count, locked_until=new_lock, last_failure_at=now)
            .returning(table.c.failures, table.c.locked_until)
        ).first()
        if row is None:  # another attempt locked it a moment ago: undo what this one was charged
            _uncharge(charged, buckets)
            until = db.session.scalar(sa.select(table.c.locked_until).where(table.c.bucket == name))
            return Attempt(False, buckets, (until - now) if until else timedelta(0))
        charged.append(name)
        if row.locked_until is not None:
            until = max(until or row.locked_until, row.locked_until)
    if until is None:
        return Attempt(True, buckets)
    return Attempt(True, buckets, wait=until - now, locked_now=True)


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
