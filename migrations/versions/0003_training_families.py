"""classes name their caregiver-training code family; PSY and CSW facilitators

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

OLD_DISCIPLINES = "discipline IN ('PT', 'PTA', 'OT', 'OTA', 'SLP', 'MD', 'DO', 'NP', 'PA', 'CNS')"
NEW_DISCIPLINES = ("discipline IN ('PT', 'PTA', 'OT', 'OTA', 'SLP', 'MD', 'DO', 'NP', 'PA', 'CNS', "
                   "'PSY', 'CSW')")
TRAININGS = "training IN ('functional', 'direct_care', 'behavior')"


def upgrade():
    # Every existing class bills the functional codes (97550/97551/97552), as before.
    with op.batch_alter_table('group_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training', sa.String(length=12), nullable=False,
                                      server_default='functional'))
        batch_op.create_check_constraint('training', TRAININGS)
    with op.batch_alter_table('facilitator', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_facilitator_discipline'), type_='check')
        batch_op.create_check_constraint('discipline', NEW_DISCIPLINES)


def downgrade():
    with op.batch_alter_table('facilitator', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_facilitator_discipline'), type_='check')
        batch_op.create_check_constraint('discipline', OLD_DISCIPLINES)
    with op.batch_alter_table('group_class', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_group_class_training'), type_='check')
        batch_op.drop_column('training')
