"""a billing line outside an export batch has no entry in the batch indexes

``ix_billing_line_export_batch_id`` and ``ix_billing_line_void_batch_id`` become partial
(``WHERE … IS NOT NULL``): a line written at close, and an export's claim (a new version of every
line it takes, entered in each index), write one or two index entries fewer. Every reader looks a
batch up by its id, which implies the column IS NOT NULL, so each can still use its index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28 04:50:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_COLUMNS = ('export_batch_id', 'void_batch_id')


def upgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        for column in _COLUMNS:
            batch_op.drop_index(f'ix_billing_line_{column}')
            batch_op.create_index(f'ix_billing_line_{column}', [column], unique=False,
                                  sqlite_where=sa.text(f'{column} IS NOT NULL'),
                                  postgresql_where=sa.text(f'{column} IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        for column in _COLUMNS:
            batch_op.drop_index(f'ix_billing_line_{column}')
            batch_op.create_index(f'ix_billing_line_{column}', [column], unique=False)
