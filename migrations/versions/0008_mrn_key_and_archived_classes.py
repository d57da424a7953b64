"""MRNs unique without regard to case (patient.mrn_key); classes can be archived

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:20:00

Existing patients get mrn_key = upper(mrn). Should two existing MRNs differ only in
case, the later one's key gets "~<id>" so the data is carried over (and the pair is
shown as separate patients until someone merges them); new ones are refused.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mrn_key', sa.String(length=60), nullable=True))
    conn = op.get_bind()
    patient = sa.table('patient', sa.column('id', sa.Integer), sa.column('mrn', sa.String),
                       sa.column('mrn_key', sa.String))
    seen: set[str] = set()
    for pid, mrn in conn.execute(sa.select(patient.c.id, patient.c.mrn).order_by(patient.c.id)).all():
        key = (mrn or '').strip().upper()
        if key in seen:
            key = f'{key}~{pid}'
        seen.add(key)
        conn.execute(sa.update(patient).where(patient.c.id == pid).values(mrn_key=key))
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.alter_column('mrn_key', existing_type=sa.String(length=60), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_patient_mrn_key'), ['mrn_key'])
    with op.batch_alter_table('group_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('group_class', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_patient_mrn_key'), type_='unique')
        batch_op.drop_column('mrn_key')
