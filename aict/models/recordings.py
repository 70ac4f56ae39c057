from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aict.extensions import db
from aict.models.base import utcnow


class RecordingChunk(db.Model):
    """A batch of a session's output as binary records (see aict.recordings.recorder), in `seq` order.

    `codec` says how `data` is stored (aict.recordings.codec; NULL: as is, the rows written before
    compression). `output_offset` is how many bytes of output the terminal had printed before this
    row's first one (NULL on rows from before it was kept): a reader finds the output left out of a
    flood's recording between two rows (aict.recordings.recorder, RECORDING_MAX_BYTES)."""

    __tablename__ = "recording_chunks"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    codec: Mapped[str | None] = mapped_column(String(8))
    output_offset: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
