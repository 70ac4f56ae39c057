"""recording_chunks codec and output_offset: compressed rows, and where a flood's recording left output out

Revision ID: 7d2c4e9a1f60
Revises: 7d2c9e4b1a60
Create Date: 2026-12-06 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2c4e9a1f60'
down_revision = '7d2c9e4b1a60'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs (nullable, no default): no copy of a table that may hold gigabytes.
    # Existing rows keep NULL: stored as is, and no gaps to find in them.
    op.add_column('recording_chunks', sa.Column('codec', sa.String(length=8), nullable=True))
    op.add_column('recording_chunks', sa.Column('output_offset', sa.BigInteger(), nullable=True))


def downgrade():
    # The code before this revision reads rows as they are: decompress the compressed ones first.
    import zstandard

    connection = op.get_bind()
    chunks = sa.table('recording_chunks', sa.column('id', sa.Integer), sa.column('data', sa.LargeBinary),
                      sa.column('codec', sa.String))
    decompressor = zstandard.ZstdDecompressor()
    while True:
        rows = connection.execute(sa.select(chunks.c.id, chunks.c.data).where(chunks.c.codec == 'zstd')
                                  .limit(100)).all()
        if not rows:
            break
        for row_id, data in rows:
            connection.execute(sa.update(chunks).where(chunks.c.id == row_id)
                               .values(data=decompressor.decompress(data), codec=None))
    with op.batch_alter_table('recording_chunks', schema=None) as batch_op:
        batch_op.drop_column('output_offset')
        batch_op.drop_column('codec')
