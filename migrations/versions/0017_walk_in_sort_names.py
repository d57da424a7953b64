"""walk-in search at the year's size: each caregiver link keeps its caregiver's name for the sort; the
trigram indexes keep a short pending list

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 17:50:00

1. `caregiver_link.caregiver_last_name` / `caregiver_first_name`: a copy of the linked caregiver's names,
   filled here and kept by triggers (a link's insert or update takes them from its caregiver; a caregiver's
   rename passes them to its links), so bulk Core inserts, the ORM and raw SQL all keep them true. The
   walk-in search sorts the caregivers found through a patient's name by them, read from
   `ix_caregiver_link_patient_names` without visiting each caregiver (a common start such as "and" finds
   2,400 of them through 240 patients). On PostgreSQL a new link reads its caregiver FOR SHARE, so a rename
   running at the same time either waits for the link or passes the new name to it.
2. PostgreSQL: the pg_trgm GIN indexes keep a pending list of at most 64 kB (`gin_pending_list_limit`,
   4 MB by default): every search reads the whole pending list, and a clinic that adds a few caregivers a
   day would otherwise carry thousands of them there until autovacuum (a bulk load left 9,000: +8 ms a
   search). Whatever is pending now is merged into the index here.

A later batch-mode migration that recreates `caregiver` or `caregiver_link` on SQLite drops these triggers
with the old table: it must create them again (`create_sqlite_triggers`); tests/people/test_search.py
fails if they are missing.
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = ("ix_patient_search_key_trgm", "ix_caregiver_search_key_trgm", "ix_caregiver_phone_digits_trgm")
NAMES = "caregiver_last_name = new.last_name, caregiver_first_name = new.first_name"

POSTGRESQL = (
    """CREATE FUNCTION caregiver_link_names() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT last_name, first_name INTO NEW.caregiver_last_name, NEW.caregiver_first_name
        FROM caregiver WHERE id = NEW.caregiver_id FOR SHARE;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER caregiver_link_names BEFORE INSERT OR UPDATE ON caregiver_link
    FOR EACH ROW EXECUTE FUNCTION caregiver_link_names()""",
    f"""CREATE FUNCTION caregiver_names_to_links() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE caregiver_link SET {NAMES} WHERE caregiver_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER caregiver_names_to_links AFTER UPDATE OF last_name, first_name ON caregiver
    FOR EACH ROW WHEN (OLD.last_name IS DISTINCT FROM NEW.last_name OR OLD.first_name IS DISTINCT FROM NEW.first_name)
    EXECUTE FUNCTION caregiver_names_to_links()""",
)
_FROM_CAREGIVER = ("UPDATE caregiver_link SET (caregiver_last_name, caregiver_first_name) = "
                   "(SELECT last_name, first_name FROM caregiver WHERE caregiver.id = new.caregiver_id) "
                   "WHERE id = new.id;")
SQLITE = {
    "caregiver_link_names_insert": f"AFTER INSERT ON caregiver_link BEGIN {_FROM_CAREGIVER} END",
    "caregiver_link_names_update": f"AFTER UPDATE OF caregiver_id ON caregiver_link BEGIN {_FROM_CAREGIVER} END",
    "caregiver_names_to_links": (f"AFTER UPDATE OF last_name, first_name ON caregiver BEGIN "
                                 f"UPDATE caregiver_link SET {NAMES} WHERE caregiver_id = new.id; END"),
}


def create_sqlite_triggers() -> None:
    for name, body in SQLITE.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade():
    with op.batch_alter_table('caregiver_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('caregiver_last_name', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('caregiver_first_name', sa.String(length=80), server_default='', nullable=False))
    op.execute("UPDATE caregiver_link SET (caregiver_last_name, caregiver_first_name) = "
               "(SELECT last_name, first_name FROM caregiver WHERE caregiver.id = caregiver_link.caregiver_id)")
    with op.batch_alter_table('caregiver_link', schema=None) as batch_op:
        batch_op.create_index('ix_caregiver_link_patient_names',
                              ['patient_id', 'caregiver_last_name', 'caregiver_first_name', 'caregiver_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL:
            op.execute(statement)
        for name in TRIGRAM_INDEXES:
            op.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = 64)")
            op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
    else:
        create_sqlite_triggers()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
        op.execute("DROP TRIGGER caregiver_names_to_links ON caregiver")
        op.execute("DROP TRIGGER caregiver_link_names ON caregiver_link")
        op.execute("DROP FUNCTION caregiver_names_to_links()")
        op.execute("DROP FUNCTION caregiver_link_names()")
    else:
        for name in SQLITE:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('caregiver_link', schema=None) as batch_op:
        batch_op.drop_index('ix_caregiver_link_patient_names')
        batch_op.drop_column('caregiver_first_name')
        batch_op.drop_column('caregiver_last_name')
