"""search keys on patients and caregivers; pg_trgm indexes on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:40:00

The key is the folded words of the names (accents, case and punctuation
removed: roster.domain.text); existing rows are filled in here. The trigram
GIN indexes exist on PostgreSQL only; SQLite scans the short key column.
"""
from alembic import op
import sqlalchemy as sa

from roster.domain.text import caregiver_search_key, patient_search_key


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (
    ("ix_patient_search_key_trgm", "patient", "search_key"),
    ("ix_caregiver_search_key_trgm", "caregiver", "search_key"),
    ("ix_caregiver_phone_digits_trgm", "caregiver", "phone_digits"),
)


def _fill(table: str, columns: tuple[str, ...], search_key) -> None:
    conn = op.get_bind()
    t = sa.table(table, sa.column("id"), sa.column("search_key"), *(sa.column(c) for c in columns))
    rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).all()
    if rows:
        conn.execute(
            t.update().where(t.c.id == sa.bindparam("row_id")).values(search_key=sa.bindparam("key")),
            [{"row_id": r[0], "key": search_key(*r[1:])} for r in rows],
        )


def upgrade():
    for table in ("patient", "caregiver"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('search_key', sa.String(length=300), nullable=False, server_default=''))
    _fill("patient", ("first_name", "last_name", "mrn"), patient_search_key)
    _fill("caregiver", ("first_name", "last_name"), caregiver_search_key)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column], unique=False, postgresql_using="gin",
                            postgresql_ops={column: "gin_trgm_ops"})


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _ in TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
    for table in ("caregiver", "patient"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('search_key')
