"""commands: each command run in a terminal (command history)

Revision ID: 7d2c9e4b1a60
Revises: 5c0e7a1d2b94
Create Date: 2026-12-06 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2c9e4b1a60'
down_revision = '5c0e7a1d2b94'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commands',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=32), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('command', sa.Text(), nullable=False),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('cwd', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('time', sa.Float(), nullable=True),
    sa.Column('capture', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.create_index('ix_commands_workspace_at', ['workspace_id', 'at'], unique=False)
        batch_op.create_index('ix_commands_session_at', ['session_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('commands', schema=None) as batch_op:
        batch_op.drop_index('ix_commands_session_at')
        batch_op.drop_index('ix_commands_workspace_at')
    op.drop_table('commands')
