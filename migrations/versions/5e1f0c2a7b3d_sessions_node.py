"""terminal sessions carry the node whose terminal host runs them

Revision ID: 5e1f0c2a7b3d
Revises: a94e609488f9
Create Date: 2026-12-06 20:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5e1f0c2a7b3d'
down_revision = 'a94e609488f9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('terminal_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('node', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_terminal_sessions_node'), ['node'], unique=False)


def downgrade():
    with op.batch_alter_table('terminal_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_terminal_sessions_node'))
        batch_op.drop_column('node')
