"""held sessions keep the code family they were held with (S8 for R17-R21)

Existing held sessions take their class's current family (what they were billed with until now).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 11:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('class_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_training', sa.String(length=12), nullable=True))
    op.get_bind().execute(sa.text(
        "UPDATE class_session SET held_training = "
        "(SELECT training FROM group_class WHERE group_class.id = class_session.class_id) WHERE status = 'held'"
    ))


def downgrade():
    with op.batch_alter_table('class_session', schema=None) as batch_op:
        batch_op.drop_column('held_training')
