"""SQLite: FTS5 trigram indexes of the search keys (PostgreSQL has its pg_trgm indexes since 0005)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 15:40:00

`caregiver_fts` (search_key, phone_digits) and `patient_fts` (search_key) hold a
copy of the keys, rowid = the record's id, filled here from the existing rows and
kept in step by triggers on insert, update of the key columns and delete (so bulk
Core inserts, the ORM and raw SQL all keep them true). roster.services.search
reads them; the migration does nothing on PostgreSQL.

A later batch-mode migration that recreates `caregiver` or `patient` on SQLite
drops these triggers with the old table: it must create them again (`create_sqlite_search_index`);
tests/people/test_search.py fails if they are missing.
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

INDEXED = {  # table -> the columns its FTS table copies
    "caregiver": ("search_key", "phone_digits"),
    "patient": ("search_key",),
}


def create_sqlite_search_index(table: str) -> None:
    """The FTS5 table of ``table``, filled from its rows, and the three triggers that keep it in step."""
    columns = INDEXED[table]
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    op.execute(f"CREATE VIRTUAL TABLE {table}_fts USING fts5({cols}, tokenize='trigram')")
    op.execute(f"INSERT INTO {table}_fts (rowid, {cols}) SELECT id, {cols} FROM {table}")
    op.execute(f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF id, {cols} ON {table} BEGIN "
               f"DELETE FROM {table}_fts WHERE rowid = old.id; "
               f"INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
               f"DELETE FROM {table}_fts WHERE rowid = old.id; END")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in INDEXED:
        create_sqlite_search_index(table)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in INDEXED:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{trigger}")
        op.execute(f"DROP TABLE IF EXISTS {table}_fts")
