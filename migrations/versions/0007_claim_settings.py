"""claim settings: billing provider, payer list, fee schedule, patient address and sex,
claims, claim files and HL7 charge messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:24:01.570773

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinic_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_name', sa.String(length=60), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('tax_id', sa.String(length=9), nullable=False),
    sa.Column('taxonomy', sa.String(length=10), nullable=False),
    sa.Column('address_line1', sa.String(length=55), nullable=False),
    sa.Column('address_city', sa.String(length=30), nullable=False),
    sa.Column('address_state', sa.String(length=2), nullable=False),
    sa.Column('address_zip', sa.String(length=10), nullable=False),
    sa.Column('contact_name', sa.String(length=60), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('submitter_id', sa.String(length=15), nullable=False),
    sa.Column('receiver_id', sa.String(length=15), nullable=False),
    sa.Column('receiver_name', sa.String(length=60), nullable=False),
    sa.Column('x12_usage', sa.String(length=1), nullable=False),
    sa.Column('hl7_host', sa.String(length=255), nullable=False),
    sa.Column('hl7_port', sa.Integer(), nullable=True),
    sa.Column('hl7_receiving_application', sa.String(length=40), nullable=False),
    sa.Column('hl7_receiving_facility', sa.String(length=40), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("x12_usage IN ('T', 'P')", name=op.f('ck_clinic_settings_x12_usage')),
    sa.CheckConstraint('hl7_port IS NULL OR (hl7_port > 0 AND hl7_port < 65536)', name=op.f('ck_clinic_settings_hl7_port')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_settings'))
    )
    op.create_table('control_counter',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_control_counter'))
    )
    op.create_table('fee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cpt', sa.String(length=5), nullable=False),
    sa.Column('charge_cents', sa.Integer(), nullable=False),
    sa.CheckConstraint('charge_cents > 0', name=op.f('ck_fee_charge_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee')),
    sa.UniqueConstraint('cpt', name=op.f('uq_fee_cpt'))
    )
    op.create_table('payer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_key', sa.String(length=80), nullable=False),
    sa.Column('payer_id', sa.String(length=80), nullable=False),
    sa.Column('claim_filing_indicator', sa.String(length=2), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer')),
    sa.UniqueConstraint('name_key', name=op.f('uq_payer_name_key'))
    )
    op.create_table('line_charge',
    sa.Column('billing_line_id', sa.Integer(), nullable=False),
    sa.Column('charge_cents', sa.Integer(), nullable=False),
    sa.CheckConstraint('charge_cents >= 0', name=op.f('ck_line_charge_charge_not_negative')),
    sa.ForeignKeyConstraint(['billing_line_id'], ['billing_line.id'], name=op.f('fk_line_charge_billing_line_id_billing_line'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('billing_line_id', name=op.f('pk_line_charge'))
    )
    op.create_table('claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_batch_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('frequency_code', sa.String(length=1), nullable=False),
    sa.Column('control_number', sa.String(length=20), nullable=False),
    sa.Column('original_claim_id', sa.Integer(), nullable=True),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("frequency_code IN ('1', '7', '8')", name=op.f('ck_claim_frequency_code')),
    sa.ForeignKeyConstraint(['export_batch_id'], ['export_batch.id'], name=op.f('fk_claim_export_batch_id_export_batch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['original_claim_id'], ['claim.id'], name=op.f('fk_claim_original_claim_id_claim'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_claim_patient_id_patient'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim')),
    sa.UniqueConstraint('control_number', name=op.f('uq_claim_control_number')),
    sa.UniqueConstraint('export_batch_id', 'patient_id', 'date_of_service', name=op.f('uq_claim_export_batch_id_patient_id_date_of_service'))
    )
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.create_index('ix_claim_patient_dos', ['patient_id', 'date_of_service'], unique=False)

    op.create_table('claim_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_batch_id', sa.Integer(), nullable=False),
    sa.Column('interchange_number', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_claim_file_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['export_batch_id'], ['export_batch.id'], name=op.f('fk_claim_file_export_batch_id_export_batch'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_file')),
    sa.UniqueConstraint('export_batch_id', name=op.f('uq_claim_file_export_batch_id')),
    sa.UniqueConstraint('interchange_number', name=op.f('uq_claim_file_interchange_number'))
    )
    op.create_table('hl7_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('export_batch_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('date_of_service', sa.Date(), nullable=False),
    sa.Column('control_id', sa.String(length=20), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('line_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'acknowledged', 'rejected')", name=op.f('ck_hl7_message_status')),
    sa.ForeignKeyConstraint(['export_batch_id'], ['export_batch.id'], name=op.f('fk_hl7_message_export_batch_id_export_batch'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_hl7_message_patient_id_patient'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hl7_message')),
    sa.UniqueConstraint('control_id', name=op.f('uq_hl7_message_control_id')),
    sa.UniqueConstraint('export_batch_id', 'patient_id', 'date_of_service', name=op.f('uq_hl7_message_export_batch_id_patient_id_date_of_service'))
    )
    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hl7_message_export_batch_id'), ['export_batch_id'], unique=False)

    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sex', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('address_line1', sa.String(length=55), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('address_city', sa.String(length=30), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('address_state', sa.String(length=2), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('address_zip', sa.String(length=10), nullable=False, server_default=''))
        batch_op.create_check_constraint(op.f('ck_patient_sex'), "sex IS NULL OR sex IN ('F', 'M', 'U')")

    # The payer names patients already carry start the clinic's payer list (payer ids to be filled in).
    op.execute(
        "INSERT INTO payer (name, name_key, payer_id, claim_filing_indicator, created_at) "
        "SELECT MIN(TRIM(payer)), LOWER(TRIM(payer)), '', '', CURRENT_TIMESTAMP FROM patient "
        "WHERE TRIM(payer) <> '' GROUP BY LOWER(TRIM(payer))"
    )



def downgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_patient_sex'), type_='check')
        batch_op.drop_column('address_zip')
        batch_op.drop_column('address_state')
        batch_op.drop_column('address_city')
        batch_op.drop_column('address_line1')
        batch_op.drop_column('sex')

    with op.batch_alter_table('hl7_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hl7_message_export_batch_id'))

    op.drop_table('hl7_message')
    op.drop_table('claim_file')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_patient_dos')

    op.drop_table('claim')
    op.drop_table('line_charge')
    op.drop_table('payer')
    op.drop_table('fee')
    op.drop_table('control_counter')
    op.drop_table('clinic_settings')
