"""a corrected claim identity (S6) travels as a void and a new claim: a batch may hold a void (8)
and an original (1) for one patient's date of service, and a visit's charge messages are numbered
(part) when its lines carry different claim identities

Existing rows keep their meaning: every kept claim has its own frequency within its batch and
visit, and every kept message becomes part 0 of its visit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 12:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint('uq_claim_export_batch_id_patient_id_date_of_service', type_='unique')
        batch_op.create_unique_constraint('uq_claim_batch_visit_frequency',
                                          ['export_batch_id', 'patient_id', 'date_of_service', 'frequency_code'])
    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', sa.Integer(), nullable=False, server_default='0'))
        batch_op.drop_constraint('uq_hl7_message_export_batch_id_patient_id_date_of_service', type_='unique')
        batch_op.create_unique_constraint('uq_hl7_message_batch_visit_part',
                                          ['export_batch_id', 'patient_id', 'date_of_service', 'part'])


def downgrade():
    # Only possible while no visit holds two claims or two messages in one batch.
    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.drop_constraint('uq_hl7_message_batch_visit_part', type_='unique')
        batch_op.create_unique_constraint('uq_hl7_message_export_batch_id_patient_id_date_of_service',
                                          ['export_batch_id', 'patient_id', 'date_of_service'])
        batch_op.drop_column('part')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint('uq_claim_batch_visit_frequency', type_='unique')
        batch_op.create_unique_constraint('uq_claim_export_batch_id_patient_id_date_of_service',
                                          ['export_batch_id', 'patient_id', 'date_of_service'])
