"""the billing review finds a range's findings by their date of service, kept on each finding

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 23:40:00

A finding keeps the date of service its session was evaluated for (the date of its line, for a
finding on a line), written with it by re-evaluation; the review's findings by patient and its
session findings without a line read a range's findings through `ix_finding_date_of_service`,
instead of looking up every finding's line (~3,000 a year) or placing sessions by their zone.

Existing findings are filled: on a line, the line's date of service; otherwise the session's local
date (actual start, else scheduled start) in the zone it was held in (else its class's), as
re-evaluation computes it. Findings exist only for held sessions, whose times and zone change only
by closing or re-opening, which re-evaluate them.
"""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def _aware(moment):
    if isinstance(moment, str):  # SQLite: stored as UTC text
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def upgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('date_of_service', sa.Date(), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE finding SET date_of_service = (SELECT date_of_service FROM billing_line "
        "WHERE billing_line.id = finding.line_id) WHERE line_id IS NOT NULL"
    ))
    rows = bind.execute(sa.text(
        "SELECT finding.id, class_session.actual_start, class_session.starts_at, "
        "COALESCE(class_session.held_timezone, group_class.timezone) "
        "FROM finding JOIN class_session ON class_session.id = finding.session_id "
        "JOIN group_class ON group_class.id = class_session.class_id "
        "WHERE finding.date_of_service IS NULL"
    )).all()
    if rows:
        zones: dict[str, ZoneInfo] = {}
        bind.execute(sa.text("UPDATE finding SET date_of_service = :dos WHERE id = :id"), [
            {"id": finding_id,
             "dos": _aware(actual or scheduled).astimezone(zones.setdefault(tz, ZoneInfo(tz))).date()}
            for finding_id, actual, scheduled, tz in rows
        ])

    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.alter_column('date_of_service', existing_type=sa.Date(), nullable=False)
        batch_op.create_index(batch_op.f('ix_finding_date_of_service'), ['date_of_service'], unique=False)


def downgrade():
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_date_of_service'))
        batch_op.drop_column('date_of_service')
