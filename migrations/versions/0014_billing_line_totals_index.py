"""the billing review's counts and totals of a range read one covering index

``ix_billing_line_dos_status`` (date of service, status) becomes
``ix_billing_line_totals`` (date of service, status, code, facilitator, units):
the review's one aggregate over a year's lines is an index-only scan.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 13:40:00

"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_line_dos_status')
        batch_op.create_index('ix_billing_line_totals',
                              ['date_of_service', 'status', 'cpt', 'facilitator_id', 'units'], unique=False)


def downgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_line_totals')
        batch_op.create_index('ix_billing_line_dos_status', ['date_of_service', 'status'], unique=False)
