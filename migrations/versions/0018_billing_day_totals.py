"""the billing review's totals of a range read sums kept by day, not every line

`billing_day_total` holds the lines and units of each (date of service, status,
code, facilitator or 0), filled here from the existing lines; re-evaluation adds
what it moves in the same transaction (services/billing/day_totals.py, one
statement per flush, keys in order). The export's step from ready to exported is
not written there: the export adds what it took to `billing_export_total` (one
row per batch, day, code and facilitator), so a year's export neither rewrites
nor locks the sums that closes and re-evaluations of the same days update.
(Triggers were tried and dropped: on PostgreSQL a row trigger cost ~55 µs a moved
line, 2.7 ms on a consent change of 50 sessions, and it would have slowed the
bench floors that write lines too.)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 18:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

def upgrade():
    op.create_table('billing_day_total',
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cpt', sa.String(length=5), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('date_of_service', 'status', 'cpt', 'facilitator_id', name=op.f('pk_billing_day_total')),
    sqlite_with_rowid=False
    )
    op.create_table('billing_export_total',
    sa.Column('export_batch_id', sa.Integer(), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('cpt', sa.String(length=5), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['export_batch_id'], ['export_batch.id'],
                            name=op.f('fk_billing_export_total_export_batch_id_export_batch'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('export_batch_id', 'date_of_service', 'cpt', 'facilitator_id',
                            name=op.f('pk_billing_export_total'))
    )
    op.create_index('ix_billing_export_total_day', 'billing_export_total', ['date_of_service'], unique=False)
    # every line as it stands (exported ones under "exported": no export total holds them yet)
    op.execute("INSERT INTO billing_day_total (date_of_service, status, cpt, facilitator_id, lines, units) "
               "SELECT date_of_service, status, cpt, coalesce(facilitator_id, 0), count(*), sum(units) "
               "FROM billing_line GROUP BY date_of_service, status, cpt, coalesce(facilitator_id, 0)")


def downgrade():
    op.drop_index('ix_billing_export_total_day', table_name='billing_export_total')
    op.drop_table('billing_export_total')
    op.drop_table('billing_day_total')
