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
import json
import math
import os
import secrets
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gan_core.humaneval import staircase
from gan_core.humaneval.retention import Retention
from gan_core.humaneval.schema import Answer, Base, Participant, QuizImage, QuizSession, Trial, add_missing_columns, now

# The plain records a page sees (SessionInfo, TrialView, ...) are in ``records``; trial plans in ``plans``.
from gan_core.humaneval.plans import REAL_POOL, check_arms, plan_arm_trials, plan_trials
from gan_core.humaneval.records import (AnswerResult, QuizError, SessionInfo, TrialView, session_info, trial_view,
                                        normalise_code, validate_nickname)

MODES = ("pair", "single")          # side by side (2AFC) / one at a time (HYPE_inf)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in class
CODE_LENGTH = 6
MAX_TRIALS = 200
MAX_QUALIFICATION = 10
MAX_PARTICIPANTS = 300              # per session: a stuffed session is refused, not the server's disk filled
PROTOCOLS = ("hype-inf", "hype-time")


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


class Store(Retention):
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
                       hours: float = 12, arms: list[dict] | None = None, protocol: str = "hype-inf",
                       images: dict[int, list[bytes]] | None = None, display_size: int | None = None,
                       creator: str | None = None, reveal: bool = False) -> tuple[str, str]:
        """Create a session; returns (join code, instructor key). The key is shown once: only its hash is kept.

        arms: 2 to 6 models to compare, each {"name", "kind": "model" (an app model, "model": its name or
            folder) or "images" (an uploaded set)}; None for a session of the one ``model``.
        protocol: "hype-inf" (no time limit) or "hype-time" (one image at a time, shown for a staircase
            exposure, then masked).
        images: already normalised PNGs (``imagesets.normalise``): key 0 the real set, k >= 1 the set of arm
            k - 1. The session and all its images are written in one transaction: never half-made.
        display_size: the side in px of every image shown (required with images).
        reveal: a participant who has answered every trial is shown which images were real, with their answers.
        creator: who asks (the client's address): at most MAX_OPEN_PER_CREATOR open sessions each, at most
            MAX_OPEN_SESSIONS in all, and at most MAX_IMAGE_BYTES of stored images on the database.
        """
        if protocol not in PROTOCOLS:
            raise QuizError(f"Protocol must be one of {', '.join(PROTOCOLS)}.")
        if protocol == "hype-time":
            mode = "single"  # HYPE-time shows one image at a time
        images = images or {}
        real_source = "images" if images.get(0) else "mnist-5k"
        if arms is not None:
            check_arms(arms, images, mode, n_trials, real_source)
            model = arms[0]["name"][:200]
        if images and display_size is None:
            raise QuizError("Uploaded images need a display size.")
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
        self.purge_ended()
        self._check_room(creator, sum(len(p) for pngs in images.values() for p in pngs))
        key = secrets.token_urlsafe(24)
        seed = secrets.randbelow(2**31) if seed is None else int(seed)
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._session.begin() as db:
                    qs = QuizSession(code=code, key_hash=_hash_key(key), model=model, mode=mode,
                                     n_trials=n_trials, qualification=qualification, truncation=truncation,
                                     feedback=feedback, seed=seed, expires_at=now() + timedelta(hours=hours),
                                     arms=json.dumps(arms) if arms is not None else None,
                                     protocol=None if protocol == "hype-inf" else protocol,
                                     real_source=None if real_source == "mnist-5k" else real_source,
                                     display_size=display_size if images else None,
                                     creator=None if creator is None else str(creator)[:64],
                                     reveal=bool(reveal))
                    db.add(qs)
                    db.flush()
                    for image_set, pngs in images.items():
                        db.add_all(QuizImage(session_id=qs.id, image_set=int(image_set), index=i, png=png)
                                   for i, png in enumerate(pngs))
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
            return session_info(s)

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
            info = session_info(s)
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
                    for row in self._plan(db, s, s.seed * 100_003 + number):
                        db.add(Trial(participant_id=p.id, **row))
                return token, name
            except IntegrityError:
                continue  # nickname (or join number, under a race) taken: try the next
        raise QuizError("Too many people share that nickname; please choose another.")

    @staticmethod
    def _plan(db: Session, s: QuizSession, seed: int) -> list[dict]:
        if not s.arms and not s.protocol:
            return plan_trials(s.mode, s.n_trials, s.qualification, seed)  # one app model, as before arms
        arms = json.loads(s.arms) if s.arms else [{"name": s.model, "kind": "model"}]
        counts = dict(db.execute(select(QuizImage.image_set, func.count()).where(QuizImage.session_id == s.id)
                                 .group_by(QuizImage.image_set)).all())
        pools = [counts.get(k + 1) if a["kind"] == "images" else None for k, a in enumerate(arms)]
        real_pool = counts.get(0) or REAL_POOL
        return plan_arm_trials(s.mode, s.n_trials, s.qualification, seed, pools, real_pool)

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
            p, s = self._participant(db, token)
            total = db.scalar(select(func.count()).select_from(Trial).where(Trial.participant_id == p.id))
            answered = select(Answer.trial_id)
            t = db.scalar(select(Trial).where(Trial.participant_id == p.id, Trial.id.not_in(answered))
                          .order_by(Trial.index).limit(1))
            if t is None:
                return None
            return trial_view(t, total, self._exposure(db, p, s, t))

    @staticmethod
    def _exposure(db: Session, p: Participant, s: QuizSession, t: Trial) -> int | None:
        """HYPE-time: the exposure of trial ``t`` from this participant's answers on the same arm, replayed
        through the staircase (warm-up trials use the starting exposure)."""
        if s.protocol != "hype-time":
            return None
        if t.arm is None:
            return staircase.START_MS
        done = db.scalars(select(Answer.correct).join(Trial, Answer.trial_id == Trial.id)
                          .where(Trial.participant_id == p.id, Trial.arm == t.arm, Trial.index < t.index)
                          .order_by(Trial.index)).all()
        return staircase.replay(done).exposure

    def answer(self, token: str, index: int, choice: str, response_ms: int,
               achieved_ms: float | None = None) -> AnswerResult:
        """Record an answer, committed before returning. Answering a trial again changes nothing.

        achieved_ms: HYPE-time, how long the browser actually showed the image. The requested exposure is
        recomputed here from the stored answers, never taken from the browser."""
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
                    pending = db.scalar(select(func.min(Trial.index)).where(
                        Trial.participant_id == p.id, Trial.id.not_in(select(Answer.trial_id))))
                    if t.index != pending:  # a replayed or forged message for a question not yet shown
                        raise QuizError("Please answer the question on your screen.")
                    correct = choice == trial_view(t, 0).correct_choice
                    trial_id = t.id
                    exposure = self._exposure(db, p, s, t)
                    achieved = None
                    if exposure is not None and achieved_ms is not None:
                        achieved = float(achieved_ms)
                        achieved = max(0.0, min(achieved, 10_000.0)) if math.isfinite(achieved) else None
                    db.add(Answer(trial_id=t.id, choice=choice, correct=correct,
                                  response_ms=max(0, min(int(response_ms), 3_600_000)),
                                  exposure_ms=exposure, achieved_ms=achieved))
                return AnswerResult(correct, duplicate=False)
            except IntegrityError:  # another server replica stored this trial's answer first
                with self._session() as db:
                    first = db.scalar(select(Answer).where(Answer.trial_id == trial_id))
                    return AnswerResult(first.correct, duplicate=True)

    def session_of(self, token: str) -> SessionInfo:
        """The session a participant joined (open or not)."""
        with self._session() as db:
            return session_info(self._participant(db, token)[1])

    def nickname(self, token: str) -> str:
        with self._session() as db:
            return self._participant(db, token)[0].nickname

    # ------------------------------------------------------------------ results
    def rows(self, code: str) -> list[dict]:
        """Every answered trial of a session, one dict per answer (the CSV and the scores use these)."""
        q = (select(Participant.nickname, Participant.number, Trial.index, Trial.qualification, Trial.real_index,
                    Trial.fake_seed, Trial.real_side, Trial.is_real, Trial.arm, Answer.choice, Answer.correct,
                    Answer.response_ms, Answer.exposure_ms, Answer.achieved_ms, Answer.answered_at)
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

    def image(self, code: str, image_set: int, index: int) -> bytes:
        """One stored (normalised) image of a session: set 0 real, k >= 1 arm k - 1."""
        with self._session() as db:
            png = db.scalar(select(QuizImage.png).join(QuizSession, QuizSession.id == QuizImage.session_id)
                            .where(QuizSession.code == normalise_code(code), QuizImage.image_set == int(image_set),
                                   QuizImage.index == int(index)))
        if png is None:
            raise QuizError("That image is not part of this session.")
        return png

    def image_counts(self, code: str) -> dict[int, int]:
        with self._session() as db:
            return dict(db.execute(select(QuizImage.image_set, func.count())
                                   .join(QuizSession, QuizSession.id == QuizImage.session_id)
                                   .where(QuizSession.code == normalise_code(code))
                                   .group_by(QuizImage.image_set)).all())

    def delete_session(self, code: str, key: str) -> None:
        """Delete a session with its participants, trials, answers and images (the teacher's key needed)."""
        from sqlalchemy import delete

        info = self.check_key(code, key)
        with self._write_lock, self._session.begin() as db:
            sid = db.scalar(select(QuizSession.id).where(QuizSession.code == info.code))
            people = select(Participant.id).where(Participant.session_id == sid)
            trials = select(Trial.id).where(Trial.participant_id.in_(people))
            db.execute(delete(Answer).where(Answer.trial_id.in_(trials)))
            db.execute(delete(Trial).where(Trial.participant_id.in_(people)))
            db.execute(delete(Participant).where(Participant.session_id == sid))
            db.execute(delete(QuizImage).where(QuizImage.session_id == sid))
            db.execute(delete(QuizSession).where(QuizSession.id == sid))

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
