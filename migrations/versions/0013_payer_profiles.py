"""payer profiles: telehealth and verbal consent dates, families covered (rule book R17-R21)

Payers already on the list keep Medicare's answers (how billing treated them until now).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 13:00:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telehealth_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('verbal_consent_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('families', sa.JSON(), nullable=True))
    payer = sa.table('payer', sa.column('telehealth_from', sa.Date()), sa.column('verbal_consent_from', sa.Date()),
                     sa.column('families', sa.JSON()))
    op.execute(payer.update().values(telehealth_from=date(2025, 1, 1), verbal_consent_from=date(2025, 1, 1),
                                     families=['functional', 'direct_care', 'behavior']))
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.alter_column('families', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_column('families')
        batch_op.drop_column('verbal_consent_from')
        batch_op.drop_column('telehealth_from')
