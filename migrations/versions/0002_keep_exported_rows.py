"""keep each exported line's roster row

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exported_row', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.drop_column('exported_row')
