"""the claim preflight of a batch counts its new rows once (preflight_tally)

Filled by the batch page the first time it is shown (services/preflight_summary.py); batches
exported before are counted then too.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 02:40:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('preflight_tally',
    sa.Column('export_batch_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('payer', sa.String(length=80), nullable=True),
    sa.Column('cpt', sa.String(length=5), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('facilitator_id', sa.Integer(), nullable=True),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('row_held', sa.Integer(), nullable=False),
    sa.Column('no_dob', sa.Integer(), nullable=False),
    sa.Column('no_member_id', sa.Integer(), nullable=False),
    sa.Column('no_payer', sa.Integer(), nullable=False),
    sa.Column('no_diagnosis', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['export_batch_id'], ['export_batch.id'],
                            name=op.f('fk_preflight_tally_export_batch_id_export_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('export_batch_id', 'kind', 'key', name=op.f('pk_preflight_tally'))
    )


def downgrade():
    op.drop_table('preflight_tally')
