"""check_in: no index of its own on session_id (the unique (session_id, caregiver_id, patient_id) serves it)

Every check-in wrote one index entry more than it needed: a look-up by session (a session's check-ins, the
cascade from class_session) uses the unique constraint's index, whose first column is session_id.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28 05:30:00

"""
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_session_id'))


def downgrade():
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_session_id'), ['session_id'], unique=False)
