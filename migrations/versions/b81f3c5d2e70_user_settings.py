"""user_settings: each user's page settings (theme, font, scrollback, cursor), kept on the server

Revision ID: b81f3c5d2e70
Revises: 7d2c4e9a1f60
Create Date: 2026-12-07 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b81f3c5d2e70'
down_revision = '7d2c4e9a1f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_settings',
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    op.drop_table('user_settings')
