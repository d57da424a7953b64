"""held sessions keep their class facts (S8), check-ins their relationship (S9), lines the claim identity (S6)

Existing data is carried over: held sessions take their class's current modality,
place of service, time zone and needs (what they were billed with until now);
check-ins take the relationship of their caregiver link; lines take their
patient's current claim identity (exported lines: the one in their exported row).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 09:50:00

"""
import json
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('class_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_modality', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('held_place_of_service', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('held_timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('held_needs', sa.JSON(), nullable=True))
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relationship', sa.String(length=40), nullable=False, server_default=''))
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_mrn', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('patient_last_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('patient_first_name', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('patient_dob', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('payer', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('member_id', sa.String(length=40), nullable=True))

    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE class_session SET "
        "held_modality = (SELECT modality FROM group_class WHERE group_class.id = class_session.class_id), "
        "held_place_of_service = (SELECT place_of_service FROM group_class WHERE group_class.id = class_session.class_id), "
        "held_timezone = (SELECT timezone FROM group_class WHERE group_class.id = class_session.class_id), "
        "held_needs = (SELECT needs FROM group_class WHERE group_class.id = class_session.class_id) "
        "WHERE status = 'held'"
    ))
    bind.execute(sa.text(
        "UPDATE check_in SET relationship = COALESCE((SELECT l.relationship FROM caregiver_link l "
        "WHERE l.caregiver_id = check_in.caregiver_id AND l.patient_id = check_in.patient_id), '')"
    ))
    bind.execute(sa.text(
        "UPDATE billing_line SET "
        "patient_mrn = (SELECT mrn FROM patient WHERE patient.id = billing_line.patient_id), "
        "patient_last_name = (SELECT last_name FROM patient WHERE patient.id = billing_line.patient_id), "
        "patient_first_name = (SELECT first_name FROM patient WHERE patient.id = billing_line.patient_id), "
        "patient_dob = (SELECT dob FROM patient WHERE patient.id = billing_line.patient_id), "
        "payer = (SELECT payer FROM patient WHERE patient.id = billing_line.patient_id), "
        "member_id = (SELECT member_id FROM patient WHERE patient.id = billing_line.patient_id)"
    ))
    # An exported line was sent with the identity in its exported row: keep that one, so a
    # correction made since then still voids and replaces it.
    rows = bind.execute(sa.text(
        "SELECT id, exported_row FROM billing_line WHERE exported_row IS NOT NULL"
    )).all()
    for line_id, row in rows:
        row = json.loads(row) if isinstance(row, str) else row
        bind.execute(sa.text(
            "UPDATE billing_line SET patient_mrn = :mrn, patient_last_name = :last, "
            "patient_first_name = :first, patient_dob = :dob, payer = :payer, member_id = :member "
            "WHERE id = :id"
        ), {"id": line_id, "mrn": row.get("patient_mrn"), "last": row.get("patient_last_name"),
            "first": row.get("patient_first_name"), "dob": date.fromisoformat(row["patient_dob"]) if row.get("patient_dob") else None,
            "payer": row.get("payer"), "member": row.get("member_id")})


def downgrade():
    with op.batch_alter_table('billing_line', schema=None) as batch_op:
        for name in ('member_id', 'payer', 'patient_dob', 'patient_first_name', 'patient_last_name', 'patient_mrn'):
            batch_op.drop_column(name)
    with op.batch_alter_table('check_in', schema=None) as batch_op:
        batch_op.drop_column('relationship')
    with op.batch_alter_table('class_session', schema=None) as batch_op:
        for name in ('held_needs', 'held_timezone', 'held_place_of_service', 'held_modality'):
            batch_op.drop_column(name)
