"""Column types and mixins every model module shares."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class UTCDateTime(sa.types.TypeDecorator):
    """An aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class PostalAddressMixin:
    """A US street address as a claim carries it (837P N3/N4, HL7 PID-11): blank until it is known."""

    address_line1: Mapped[str] = mapped_column(sa.String(55), default="")
    address_city: Mapped[str] = mapped_column(sa.String(30), default="")
    address_state: Mapped[str] = mapped_column(sa.String(2), default="")
    address_zip: Mapped[str] = mapped_column(sa.String(10), default="")


def cascade_fk(table: str):
    """An indexed foreign key to ``table.id`` for a row that goes with its parent (ON DELETE CASCADE)."""
    return mapped_column(sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), index=True)


class PerCodeMixin:
    """A clinic table with one row per CPT code (R21's unit caps, the fees); the model adds the value."""

    id: Mapped[int] = mapped_column(primary_key=True)
    cpt: Mapped[str] = mapped_column(sa.String(5), unique=True)


def positive(column: str, name: str):
    """A whole-number column that must be above zero (its CHECK constraint named ``name``)."""
    return mapped_column(sa.CheckConstraint(f"{column} > 0", name=name))


def unique_pair(**parents: str) -> type:
    """A mixin for a row that ties two parent rows, once per pair: ``id`` and the two foreign keys
    named ``column="table"`` (``cascade_fk``: indexed, the row goes with either parent), unique together
    in that order."""
    (first, first_table), (second, second_table) = parents.items()
    return type("UniquePair", (), {
        "__annotations__": {"id": Mapped[int], first: Mapped[int], second: Mapped[int]},
        "__table_args__": (sa.UniqueConstraint(first, second),),
        "id": mapped_column(primary_key=True),
        first: cascade_fk(first_table),
        second: cascade_fk(second_table),
    })
