"""The quiz's tables: sessions, participants, trials, answers (SQLAlchemy 2 declarative models).

Integrity rules live here, in the schema: one answer per trial (a unique constraint, so a double click or a
resubmitted form can never store a second answer), one nickname and one join number per session.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class QuizSession(Base):
    __tablename__ = "quiz_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10))
    n_trials: Mapped[int] = mapped_column(Integer)
    qualification: Mapped[int] = mapped_column(Integer, default=0)
    truncation: Mapped[float] = mapped_column(Float, default=1.0)
    feedback: Mapped[bool] = mapped_column(Boolean, default=False)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # several models ("arms") and uploaded image sets (issue 13); NULL in sessions of one app model
    arms: Mapped[str | None] = mapped_column(Text, nullable=True)        # JSON list of arm descriptions
    protocol: Mapped[str | None] = mapped_column(String(12), nullable=True)  # "hype-inf" (NULL) / "hype-time"
    real_source: Mapped[str | None] = mapped_column(String(12), nullable=True)  # "mnist-5k" (NULL) / "images"
    display_size: Mapped[int | None] = mapped_column(Integer, nullable=True)   # px a side of uploaded sets
    creator: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # who made it (address)
    images_purged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # uploaded images deleted
    reveal: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # show each person their answers at the end


class Participant(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "nickname"), UniqueConstraint("session_id", "number"))
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("quiz_sessions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)   # join order: seeds this participant's trial plan
    nickname: Mapped[str] = mapped_column(String(40))
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    # set when the teacher removes this participant: their answers leave the scores, they cannot answer more
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Trial(Base):
    """One question. pair: a real and a fake side by side, ``real_side`` 0 (left) or 1 (right).
    single: one image, real when ``is_real``. Qualification trials pit a real image against pure noise."""
    __tablename__ = "trials"
    __table_args__ = (UniqueConstraint("participant_id", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    qualification: Mapped[bool] = mapped_column(Boolean, default=False)
    real_index: Mapped[int | None] = mapped_column(Integer, nullable=True)   # image of mnist-5k
    fake_seed: Mapped[int | None] = mapped_column(Integer, nullable=True)    # z seed of the generator
    real_side: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_real: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    arm: Mapped[int | None] = mapped_column(Integer, nullable=True)   # which arm's fake (or staircase) it is


class Answer(Base):
    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id"), unique=True)   # at most one answer per trial
    choice: Mapped[str] = mapped_column(String(10))
    correct: Mapped[bool] = mapped_column(Boolean)
    response_ms: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    exposure_ms: Mapped[float | None] = mapped_column(Float, nullable=True)   # HYPE-time: requested exposure
    achieved_ms: Mapped[float | None] = mapped_column(Float, nullable=True)   # and what the browser achieved


class QuizImage(Base):
    """An uploaded image, already normalised (PNG of the session's size and colour mode). ``image_set`` 0 is
    the real set, k >= 1 the images of arm k - 1. Kept in the database itself so every replica serves it and
    the session survives a restart; deleting the session deletes them."""
    __tablename__ = "quiz_images"
    __table_args__ = (UniqueConstraint("session_id", "image_set", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("quiz_sessions.id"), index=True)
    image_set: Mapped[int] = mapped_column(Integer)
    index: Mapped[int] = mapped_column(Integer)
    png: Mapped[bytes] = mapped_column(LargeBinary)


def add_missing_columns(engine) -> None:
    """Bring a database made by an older version up to these tables: add the nullable columns it lacks
    (SQLite and PostgreSQL both take ``ALTER TABLE ... ADD COLUMN``). Tables are created by create_all."""
    from sqlalchemy import inspect, text

    insp = inspect(engine)
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            if not insp.has_table(table.name):
                continue
            have = {c["name"] for c in insp.get_columns(table.name)}
            for col in table.columns:
                if col.name not in have and col.nullable:
                    kind = col.type.compile(dialect=engine.dialect)
                    conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{col.name}" {kind}'))
