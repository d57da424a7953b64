"""unit caps per code per patient per date of service (R21)

No cap is set for an existing clinic (what billing did until now).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 12:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('unit_cap',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cpt', sa.String(length=5), nullable=False),
    sa.Column('max_units', sa.Integer(), nullable=False),
    sa.CheckConstraint('max_units > 0', name=op.f('ck_unit_cap_max_units_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_cap')),
    sa.UniqueConstraint('cpt', name=op.f('uq_unit_cap_cpt'))
    )


def downgrade():
    op.drop_table('unit_cap')
