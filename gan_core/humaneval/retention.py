"""Bounded quiz storage: how many sessions one creator and the whole server may have open, how many bytes of
uploaded images the database keeps, deleting the images of sessions that ended, and what the database holds.
A mixin of ``Store`` (it uses the store's engine, sessions and write lock)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from gan_core.humaneval.records import QuizError
from gan_core.humaneval.schema import QuizImage, QuizSession, now

# Bounded storage: a student with a browser cannot fill the teacher's disk with sessions and images.
MAX_OPEN_PER_CREATOR = 5            # sessions open at once per creator (client address)
MAX_OPEN_SESSIONS = 200             # sessions open at once on this database
MAX_IMAGE_BYTES = int(float(os.environ.get("GAN_STUDIO_QUIZ_IMAGES_MB", "2000")) * 1_000_000)  # all sessions
KEEP_HOURS = 24.0                   # a session's uploaded images are deleted this long after it ends


class Retention:
    """Storage limits and clean-up for ``Store``."""

    def _check_room(self, creator: str | None, new_bytes: int) -> None:
        t = now()
        with self._session() as db:
            open_ = (QuizSession.closed_at.is_(None)) & (QuizSession.expires_at > t)
            if creator is not None:
                mine = db.scalar(select(func.count()).select_from(QuizSession).where(
                    open_ & (QuizSession.creator == str(creator)[:64])))
                if mine >= MAX_OPEN_PER_CREATOR:
                    raise QuizError(f"You already have {mine} sessions open, the most one person may; close one on "
                                    "its dashboard (or let it expire) first.")
            total = db.scalar(select(func.count()).select_from(QuizSession).where(open_))
            if total >= MAX_OPEN_SESSIONS:
                raise QuizError(f"This server already has {total} sessions open, its limit; ask your teacher to "
                                "close old ones.")
            stored = db.scalar(select(func.coalesce(func.sum(func.length(QuizImage.png)), 0))) or 0
        if new_bytes and stored + new_bytes > MAX_IMAGE_BYTES:
            raise QuizError(f"The database holds {stored / 1e6:,.0f} MB of session images; these "
                            f"{new_bytes / 1e6:,.0f} MB more would pass its limit of {MAX_IMAGE_BYTES / 1e6:,.0f} MB "
                            "(GAN_STUDIO_QUIZ_IMAGES_MB). Delete old sessions, or wait until ended ones are cleared.")

    def purge_ended(self, keep_hours: float = KEEP_HOURS) -> int:
        """Delete the uploaded images of sessions that ended (expired or closed) more than ``keep_hours`` ago;
        their answers and scores stay. Returns how many sessions were cleared."""
        from sqlalchemy import delete, or_

        cutoff = now() - timedelta(hours=keep_hours)
        with self._write_lock, self._session.begin() as db:
            ids = db.scalars(select(QuizSession.id).where(
                QuizSession.images_purged_at.is_(None), QuizSession.display_size.is_not(None),
                or_(QuizSession.expires_at < cutoff, QuizSession.closed_at < cutoff))).all()
            if ids:
                db.execute(delete(QuizImage).where(QuizImage.session_id.in_(ids)))
                for qs in db.scalars(select(QuizSession).where(QuizSession.id.in_(ids))):
                    qs.images_purged_at = now()
        return len(ids)

    def storage(self) -> dict:
        """What the quiz database holds: sessions (open and in all), stored image bytes, and its size on disk
        (SQLite's file, PostgreSQL's pg_database_size) when it can be read."""
        from sqlalchemy import text

        t = now()
        with self._session() as db:
            sessions = db.scalar(select(func.count()).select_from(QuizSession))
            open_ = db.scalar(select(func.count()).select_from(QuizSession).where(
                QuizSession.closed_at.is_(None), QuizSession.expires_at > t))
            images = db.scalar(select(func.coalesce(func.sum(func.length(QuizImage.png)), 0))) or 0
            size = None
            try:
                if self.engine.dialect.name == "sqlite" and self.engine.url.database:
                    p = Path(self.engine.url.database)
                    size = sum(f.stat().st_size for f in (p, Path(f"{p}-wal")) if f.is_file())
                elif self.engine.dialect.name == "postgresql":
                    size = int(db.scalar(text("SELECT pg_database_size(current_database())")))
            except Exception:  # size is a courtesy figure: never an error on the dashboard
                size = None
        return {"sessions": int(sessions), "open": int(open_), "image_bytes": int(images), "database_bytes": size,
                "image_limit_bytes": MAX_IMAGE_BYTES}
