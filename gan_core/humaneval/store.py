"""Quiz storage through SQLAlchemy: sessions, participants, trials, answers.

Default database: a SQLite file under the user's data folder (WAL journal, full sync, so an answer that
was acknowledged survives the process being killed). Any SQLAlchemy URL (e.g. PostgreSQL, so several
server replicas share one database) via ``GAN_STUDIO_QUIZ_DB``.

The tables and their integrity rules (one answer per trial, one nickname per session) are in ``schema``.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import random
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .schema import Answer, Base, Participant, QuizSession, Trial, add_missing_columns, now

MODES = ("pair", "single")          # side by side (2AFC) / one at a time (HYPE_inf)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
CODE_LENGTH = 6
NICKNAME_RE = re.compile(r"^[\w][\w .'-]{0,23}$", re.UNICODE)
MAX_TRIALS = 200
MAX_QUALIFICATION = 10
REAL_POOL = 5000                    # real images are drawn from mnist-5k by index
MAX_PARTICIPANTS = 300              # per session: a stuffed session is refused, not the server's disk filled


class QuizError(ValueError):
    """Bad input or a refused action; the message is safe to show to the user."""


def default_url() -> str:
    url = os.environ.get("GAN_STUDIO_QUIZ_DB")
    if url:
        return url
    folder = Path(os.environ.get("GAN_STUDIO_DATA", Path.home() / ".gan_studio"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'quiz.sqlite3'}"


def _hash_key(key: str) -> str:
    # the key is 32 random bytes, so a fast hash is enough (nothing to brute-force); never stored in clear
    return hashlib.sha256(("gan-studio-quiz:" + key).encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    code: str
    model: str
    mode: str
    n_trials: int
    qualification: int
    truncation: float
    feedback: bool
    seed: int
    created_at: datetime
    expires_at: datetime
    closed: bool

    @property
    def open(self) -> bool:
        return not self.closed and now() < self.expires_at


@dataclass(frozen=True)
class TrialView:
    """What the server needs to draw a trial. Never sent to the browser as such: only its pixels are."""
    index: int
    qualification: bool
    real_index: int | None
    fake_seed: int | None
    real_side: int | None
    is_real: bool | None
    total: int

    @property
    def correct_choice(self) -> str:
        if self.real_side is not None:
            return ("left", "right")[self.real_side]
        return "real" if self.is_real else "fake"


@dataclass(frozen=True)
class AnswerResult:
    correct: bool
    duplicate: bool   # the trial was already answered; the first answer stands


def _info(s: QuizSession) -> SessionInfo:
    return SessionInfo(s.code, s.model, s.mode, s.n_trials, s.qualification, s.truncation, s.feedback, s.seed,
                       s.created_at, s.expires_at, s.closed_at is not None)


def _view(t: Trial, total: int) -> TrialView:
    return TrialView(t.index, t.qualification, t.real_index, t.fake_seed, t.real_side, t.is_real, total)


def validate_nickname(nickname: str) -> str:
    nick = " ".join((nickname or "").split())
    if not nick:
        raise QuizError("Please enter a nickname.")
    if len(nick) > 24:
        raise QuizError("Nicknames are at most 24 characters.")
    if not NICKNAME_RE.match(nick):
        raise QuizError("Nicknames may use letters, digits, spaces and . ' - _ only, starting with a letter or "
                        "digit.")
    return nick


def normalise_code(code: str) -> str:
    return "".join((code or "").split()).upper()


def plan_trials(mode: str, n_trials: int, qualification: int, seed: int) -> list[dict]:
    """The trial plan of one participant: reproducible from ``seed``. Qualification trials come first."""
    rng = random.Random(seed)
    rows = []
    for i in range(qualification + n_trials):
        q = i < qualification
        row = dict(index=i, qualification=q, real_index=rng.randrange(REAL_POOL),
                   fake_seed=None if q else rng.randrange(2**31 - 1))
        if mode == "pair" or q:
            row["real_side"] = rng.randrange(2)
        else:
            row["is_real"] = rng.random() < 0.5
            if row["is_real"]:
                row["fake_seed"] = None
            else:
                row["real_index"] = None
        rows.append(row)
    return rows


class Store:
    """All quiz reads and writes. Safe to share between threads (one per server)."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        kwargs = {}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        # SQLite has one writer at a time and its busy handler sleeps with back-off: queue this process's
        # writers on a lock instead (FIFO, no sleeping). Other databases get no lock: rows lock themselves.
        self._write_lock = threading.Lock() if self.url.startswith("sqlite") else contextlib.nullcontext()
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------------ instructor
    def create_session(self, model: str, mode: str = "pair", n_trials: int = 20, truncation: float = 1.0,
                       feedback: bool = False, qualification: int = 0, seed: int | None = None,
                       hours: float = 12) -> tuple[str, str]:
        """Create a session; returns (join code, instructor key). The key is shown once: only its hash is kept."""
        if mode not in MODES:
            raise QuizError(f"Mode must be one of {', '.join(MODES)}.")
        if not 1 <= n_trials <= MAX_TRIALS:
            raise QuizError(f"Number of trials must be between 1 and {MAX_TRIALS}.")
        if not 0 <= qualification <= MAX_QUALIFICATION:
            raise QuizError(f"Qualification trials must be between 0 and {MAX_QUALIFICATION}.")
        if not 0.0 < truncation <= 2.0:
            raise QuizError("Truncation must be in (0, 2].")
        if not 0 < hours <= 24 * 14:
            raise QuizError("A session lasts between a few minutes and two weeks.")
        key = secrets.token_urlsafe(24)
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._session.begin() as db:
                    db.add(QuizSession(code=code, key_hash=_hash_key(key), model=model, mode=mode,
                                       n_trials=n_trials, qualification=qualification, truncation=truncation,
                                       feedback=feedback, seed=seed, expires_at=now() + timedelta(hours=hours)))
                return code, key
            except IntegrityError:
                continue  # the code was taken: draw another
        raise QuizError("Could not find a free join code; try again.")

    def check_key(self, code: str, key: str) -> SessionInfo:
        """The session when ``key`` is its instructor key. One message for every failure, so a guess learns
        nothing about which codes exist."""
        with self._session() as db:
            s = db.scalar(select(QuizSession).where(QuizSession.code == normalise_code(code)))
            expected = s.key_hash if s is not None else _hash_key(secrets.token_urlsafe(8))
            if not hmac.compare_digest(expected, _hash_key(key or "")) or s is None:
                raise QuizError("That code and instructor key do not open a session.")
            return _info(s)

    def close_session(self, code: str, key: str) -> None:
        self.check_key(code, key)
        with self._session.begin() as db:
            s = db.scalar(select(QuizSession).where(QuizSession.code == normalise_code(code)))
            if s.closed_at is None:
                s.closed_at = now()

    # ------------------------------------------------------------------ participants
    def session(self, code: str) -> SessionInfo:
        """An open session by its join code, or a QuizError saying why not."""
        with self._session() as db:
            s = db.scalar(select(QuizSession).where(QuizSession.code == normalise_code(code)))
            if s is None:
                raise QuizError("No session has that code. Check it with your teacher (codes are 6 letters "
                                "and digits).")
            info = _info(s)
        if info.closed:
            raise QuizError("This session has been closed by the teacher; it accepts no more answers.")
        if not info.open:
            raise QuizError("This session has expired.")
        return info

    def join(self, code: str, nickname: str) -> tuple[str, str]:
        """Join an open session. Returns (participant token, the nickname used): a taken nickname gets a
        number appended ("Ada" -> "Ada 2")."""
        nick = validate_nickname(nickname)
        info = self.session(code)
        for attempt in range(50):
            name = nick if attempt == 0 else f"{nick[:21]} {attempt + 1}"
            token = secrets.token_urlsafe(24)
            try:
                with self._write_lock, self._session.begin() as db:
                    s = db.scalar(select(QuizSession).where(QuizSession.code == info.code))
                    number = (db.scalar(select(func.max(Participant.number))
                                        .where(Participant.session_id == s.id)) or 0) + 1
                    if number > MAX_PARTICIPANTS:
                        raise QuizError(f"This session is full ({MAX_PARTICIPANTS} participants); ask your "
                                        "teacher for a new code.")
                    p = Participant(session_id=s.id, number=number, nickname=name, token=token)
                    db.add(p)
                    db.flush()
                    for row in plan_trials(s.mode, s.n_trials, s.qualification, s.seed * 100_003 + number):
                        db.add(Trial(participant_id=p.id, **row))
                return token, name
            except IntegrityError:
                continue  # nickname (or join number, under a race) taken: try the next
        raise QuizError("Too many people share that nickname; please choose another.")

    def _participant(self, db: Session, token: str) -> tuple[Participant, QuizSession]:
        p = db.scalar(select(Participant).where(Participant.token == (token or "")))
        if p is None:
            raise QuizError("Your place in the quiz was not found; please join again.")
        if p.removed_at is not None:
            raise QuizError("Your teacher removed you from this session; your answers are not counted.")
        return p, db.get(QuizSession, p.session_id)

    def remove_participant(self, code: str, key: str, number: int) -> None:
        """The teacher takes participant ``number`` out: their answers leave the scores and downloads, and
        they can answer no more. Their rows stay in the database (marked), so nothing is silently lost."""
        info = self.check_key(code, key)
        with self._write_lock, self._session.begin() as db:
            p = db.scalar(select(Participant).join(QuizSession, QuizSession.id == Participant.session_id)
                          .where(QuizSession.code == info.code, Participant.number == int(number)))
            if p is None:
                raise QuizError("No such participant in this session.")
            if p.removed_at is None:
                p.removed_at = now()

    def progress(self, token: str) -> tuple[int, int]:
        """(answered, total) for a participant."""
        with self._session() as db:
            p, _ = self._participant(db, token)
            total = db.scalar(select(func.count()).select_from(Trial).where(Trial.participant_id == p.id))
            done = db.scalar(select(func.count()).select_from(Answer).join(Trial, Answer.trial_id == Trial.id)
                             .where(Trial.participant_id == p.id))
            return done, total

    def next_trial(self, token: str) -> TrialView | None:
        """The first unanswered trial, or None when the participant is done."""
        with self._session() as db:
            p, _ = self._participant(db, token)
            total = db.scalar(select(func.count()).select_from(Trial).where(Trial.participant_id == p.id))
            answered = select(Answer.trial_id)
            t = db.scalar(select(Trial).where(Trial.participant_id == p.id, Trial.id.not_in(answered))
                          .order_by(Trial.index).limit(1))
            return None if t is None else _view(t, total)

    def answer(self, token: str, index: int, choice: str, response_ms: int) -> AnswerResult:
        """Record an answer, committed before returning. Answering a trial again changes nothing."""
        with self._write_lock:
            try:
                with self._session.begin() as db:
                    p, s = self._participant(db, token)
                    if s.closed_at is not None or now() >= s.expires_at:
                        raise QuizError("This session is closed; your earlier answers are saved.")
                    t = db.scalar(select(Trial).where(Trial.participant_id == p.id, Trial.index == int(index)))
                    if t is None:
                        raise QuizError("That question does not exist.")
                    valid = ("left", "right") if t.real_side is not None else ("real", "fake")
                    if choice not in valid:
                        raise QuizError(f"Answer with {' or '.join(valid)}.")
                    first = db.scalar(select(Answer).where(Answer.trial_id == t.id))
                    if first is not None:
                        return AnswerResult(first.correct, duplicate=True)
                    correct = choice == _view(t, 0).correct_choice
                    trial_id = t.id
                    db.add(Answer(trial_id=t.id, choice=choice, correct=correct,
                                  response_ms=max(0, min(int(response_ms), 3_600_000))))
                return AnswerResult(correct, duplicate=False)
            except IntegrityError:  # another server replica stored this trial's answer first
                with self._session() as db:
                    first = db.scalar(select(Answer).where(Answer.trial_id == trial_id))
                    return AnswerResult(first.correct, duplicate=True)

    def session_of(self, token: str) -> SessionInfo:
        """The session a participant joined (open or not)."""
        with self._session() as db:
            return _info(self._participant(db, token)[1])

    def nickname(self, token: str) -> str:
        with self._session() as db:
            return self._participant(db, token)[0].nickname

    # ------------------------------------------------------------------ results
    def rows(self, code: str) -> list[dict]:
        """Every answered trial of a session, one dict per answer (the CSV and the scores use these)."""
        q = (select(Participant.nickname, Participant.number, Trial.index, Trial.qualification, Trial.real_index,
                    Trial.fake_seed, Trial.real_side, Trial.is_real, Answer.choice, Answer.correct,
                    Answer.response_ms, Answer.answered_at)
             .join(Trial, Trial.participant_id == Participant.id)
             .join(Answer, Answer.trial_id == Trial.id)
             .join(QuizSession, QuizSession.id == Participant.session_id)
             .where(QuizSession.code == normalise_code(code), Participant.removed_at.is_(None))
             .order_by(Participant.number, Trial.index))
        with self._session() as db:
            return [dict(r._mapping) for r in db.execute(q)]

    def participants(self, code: str) -> list[dict]:
        """Nickname, answered, total and whether the teacher removed them, per participant."""
        answered = (select(Trial.participant_id, func.count(Answer.id).label("answered"))
                    .join(Answer, Answer.trial_id == Trial.id).group_by(Trial.participant_id).subquery())
        totals = (select(Trial.participant_id, func.count(Trial.id).label("total"))
                  .group_by(Trial.participant_id).subquery())
        q = (select(Participant.nickname, Participant.number, func.coalesce(answered.c.answered, 0),
                    totals.c.total, Participant.removed_at)
             .join(QuizSession, QuizSession.id == Participant.session_id)
             .join(totals, totals.c.participant_id == Participant.id)
             .outerjoin(answered, answered.c.participant_id == Participant.id)
             .where(QuizSession.code == normalise_code(code)).order_by(Participant.number))
        with self._session() as db:
            return [{"nickname": n, "number": k, "answered": a, "total": t, "removed": r is not None}
                    for n, k, a, t, r in db.execute(q)]

    def answer_count(self) -> int:
        with self._session() as db:
            return db.scalar(select(func.count()).select_from(Answer))


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")      # readers never block the writer
    cur.execute("PRAGMA synchronous=FULL")      # a committed answer is on disk before we acknowledge it
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
