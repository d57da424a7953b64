"""PostgreSQL: the walk-in search finds a one-word query's first caregivers by name from the words of the keys

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 21:00:00

A common start such as "and" matches 2,400 caregivers by their own names and 2,430 more through 243 patients:
the pg_trgm indexes find them but cannot give their names, so the search visited every one (a caregiver's row,
or a patient's row and their links' index) only to sort them and keep ten. Here, on PostgreSQL only (SQLite has
its FTS5 tables, migration 0016; nothing is made there):

- `caregiver_word` (caregiver_id, patient_id, word, last_name, first_name): one row per distinct word of each
  caregiver's own `search_key` (patient_id 0) and of the key of each patient they are linked to (patient_id),
  with the caregiver's names, read in name order through `ix_caregiver_word_names` (word, last_name,
  first_name, caregiver_id);
- `search_word` (word): every word that ever was in such a key, looked up by pg_trgm (`ix_search_word_trgm`);
  never cleaned (a word nobody has any more finds nobody).

A token (no space) occurs in a key exactly when it occurs in one of the key's words: the search takes the
words holding the token, then each word's first ten caregivers by name (a few index pages).

Filled here from the existing rows (`caregiver_words_rebuild()`, which a bulk load may call too) and kept by
triggers, so bulk Core inserts, the ORM and raw SQL all keep it
true: a caregiver's insert (the statement's new rows at once) or change of key or names; a link's insert
(its patient read FOR SHARE, so a rename of that patient at the same time waits or is seen), delete or move;
a patient's change of key (its linked caregivers, then its links, read FOR SHARE first: a rename of one of
those caregivers, a link deleted at the same time, wait or are seen; the order caregiver, then link is the
one a caregiver's rename takes). A deleted caregiver's rows go with it (ON DELETE CASCADE, also TRUNCATE ...
CASCADE).
"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _add(source: str) -> str:
    """SQL adding the words of ``source`` (caregiver_id, patient_id, search_key, last_name, first_name): to the
    dictionary first, in word order (two writers adding new words at once wait for each other in one order)."""
    words = (f"FROM ({source}) AS s CROSS JOIN LATERAL unnest(string_to_array(s.search_key, ' ')) AS w(word) "
             f"WHERE w.word <> ''")
    return (f"INSERT INTO search_word (word) SELECT DISTINCT w.word {words} "
            f"AND NOT EXISTS (SELECT 1 FROM search_word AS known WHERE known.word = w.word) ORDER BY 1 "
            f"ON CONFLICT DO NOTHING; "
            f"INSERT INTO caregiver_word (caregiver_id, patient_id, word, last_name, first_name) "
            f"SELECT DISTINCT s.caregiver_id, s.patient_id, w.word, s.last_name, s.first_name {words};")


def _own(rows: str) -> str:
    return f"SELECT id AS caregiver_id, 0 AS patient_id, search_key, last_name, first_name FROM {rows}"


def _linked(links: str) -> str:
    return (f"SELECT l.caregiver_id, l.patient_id, p.search_key, l.caregiver_last_name AS last_name, "
            f"l.caregiver_first_name AS first_name FROM {links} AS l JOIN patient AS p ON p.id = l.patient_id")


_NEW_CAREGIVER = "(SELECT NEW.id AS id, NEW.search_key AS search_key, NEW.last_name AS last_name, NEW.first_name AS first_name) AS new_row"
_NEW_LINK = ("(SELECT NEW.caregiver_id AS caregiver_id, NEW.patient_id AS patient_id, "
             "NEW.caregiver_last_name AS caregiver_last_name, NEW.caregiver_first_name AS caregiver_first_name)")

TRIGGERS = {  # name -> (table, when, body)
    "caregiver_words_insert": (
        "caregiver", "AFTER INSERT ON caregiver REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
        _add(_own("new_rows"))),
    "caregiver_words_update": (
        "caregiver", "AFTER UPDATE OF search_key, last_name, first_name ON caregiver FOR EACH ROW "
        "WHEN (OLD.search_key IS DISTINCT FROM NEW.search_key OR OLD.last_name IS DISTINCT FROM NEW.last_name "
        "OR OLD.first_name IS DISTINCT FROM NEW.first_name)",
        "DELETE FROM caregiver_word WHERE caregiver_id = NEW.id AND patient_id = 0; "
        "UPDATE caregiver_word SET last_name = NEW.last_name, first_name = NEW.first_name "
        "WHERE caregiver_id = NEW.id AND patient_id <> 0; " + _add(_own(_NEW_CAREGIVER))),
    "link_words_insert": (
        "caregiver_link", "AFTER INSERT ON caregiver_link REFERENCING NEW TABLE AS new_links FOR EACH STATEMENT",
        "PERFORM 1 FROM patient WHERE id IN (SELECT patient_id FROM new_links) ORDER BY id FOR SHARE; "
        + _add(_linked("new_links"))),
    "link_words_delete": (
        "caregiver_link", "AFTER DELETE ON caregiver_link REFERENCING OLD TABLE AS old_links FOR EACH STATEMENT",
        "DELETE FROM caregiver_word AS w USING old_links AS o "
        "WHERE w.caregiver_id = o.caregiver_id AND w.patient_id = o.patient_id;"),
    "link_words_move": (
        "caregiver_link", "AFTER UPDATE OF caregiver_id, patient_id ON caregiver_link FOR EACH ROW "
        "WHEN (OLD.caregiver_id IS DISTINCT FROM NEW.caregiver_id OR OLD.patient_id IS DISTINCT FROM NEW.patient_id)",
        "DELETE FROM caregiver_word WHERE caregiver_id = OLD.caregiver_id AND patient_id = OLD.patient_id; "
        "PERFORM 1 FROM patient WHERE id = NEW.patient_id FOR SHARE; " + _add(_linked(_NEW_LINK))),
    "patient_words_update": (
        "patient", "AFTER UPDATE OF search_key ON patient FOR EACH ROW "
        "WHEN (OLD.search_key IS DISTINCT FROM NEW.search_key)",
        "PERFORM 1 FROM caregiver WHERE id IN (SELECT caregiver_id FROM caregiver_link WHERE patient_id = NEW.id) "
        "ORDER BY id FOR SHARE; "
        "PERFORM 1 FROM caregiver_link WHERE patient_id = NEW.id ORDER BY id FOR SHARE; "
        "DELETE FROM caregiver_word AS w USING caregiver_link AS l "
        "WHERE l.patient_id = NEW.id AND w.caregiver_id = l.caregiver_id AND w.patient_id = NEW.id; "
        + _add(_linked("(SELECT * FROM caregiver_link WHERE patient_id = NEW.id)"))),
}

TABLES = (
    "CREATE TABLE search_word (word VARCHAR(300) NOT NULL, CONSTRAINT pk_search_word PRIMARY KEY (word))",
    "CREATE INDEX ix_search_word_trgm ON search_word USING gin (word gin_trgm_ops) WITH (gin_pending_list_limit = 64)",
    "CREATE TABLE caregiver_word (caregiver_id INTEGER NOT NULL, patient_id INTEGER NOT NULL, "
    "word VARCHAR(300) NOT NULL, last_name VARCHAR(80) NOT NULL, first_name VARCHAR(80) NOT NULL, "
    "CONSTRAINT pk_caregiver_word PRIMARY KEY (caregiver_id, patient_id, word), "
    "CONSTRAINT fk_caregiver_word_caregiver_id_caregiver FOREIGN KEY (caregiver_id) REFERENCES caregiver (id) "
    "ON DELETE CASCADE)",
)


# every word again from the tables, in two statements: the fill here, and a bulk load's (`roster bench-data` loads
# caregivers and links with the two insert triggers disabled, then calls it: a trigger a row would double its time)
REBUILD = ("CREATE FUNCTION caregiver_words_rebuild() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
           f"DELETE FROM caregiver_word; {_add(_own('caregiver'))} {_add(_linked('caregiver_link'))} END $$")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in TABLES:
        op.execute(statement)
    op.execute(REBUILD)
    op.execute("SELECT caregiver_words_rebuild()")
    op.execute("CREATE INDEX ix_caregiver_word_names ON caregiver_word (word, last_name, first_name, caregiver_id)")
    for name, (_table, when, body) in TRIGGERS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {name}()")
    op.execute("ANALYZE search_word")
    op.execute("ANALYZE caregiver_word")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, _when, _body) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION caregiver_words_rebuild()")
    op.execute("DROP TABLE caregiver_word")
    op.execute("DROP TABLE search_word")
