"""The plain records the quiz's Store hands out (never ORM rows), and the checks of what people type."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from gan_core.humaneval.schema import QuizSession, Trial, now

NICKNAME_RE = re.compile(r"^[\w][\w .'-]{0,23}$", re.UNICODE)


class QuizError(ValueError):
    """Bad input or a refused action; the message is safe to show to the user."""


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
    arms: tuple = ()              # ({"name", "kind": "model"|"images", "model"}, ...); () = one app model
    protocol: str = "hype-inf"    # or "hype-time"
    real_source: str = "mnist-5k"  # or "images"
    display_size: int | None = None  # px a side when the session has uploaded sets (every image normalised)
    reveal: bool = False          # a participant who has finished sees which images were real, and their answers

    @property
    def open(self) -> bool:
        return not self.closed and now() < self.expires_at

    @property
    def arm_names(self) -> list[str]:
        return [a["name"] for a in self.arms] if self.arms else [self.model]

    @property
    def uses_uploads(self) -> bool:
        return self.display_size is not None


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
    arm: int | None = None
    exposure_ms: int | None = None   # HYPE-time: how long to show the image (from the staircase)

    @property
    def correct_choice(self) -> str:
        if self.real_side is not None:
            return ("left", "right")[self.real_side]
        return "real" if self.is_real else "fake"


@dataclass(frozen=True)
class AnswerResult:
    correct: bool
    duplicate: bool   # the trial was already answered; the first answer stands


def session_info(s: QuizSession) -> SessionInfo:
    return SessionInfo(s.code, s.model, s.mode, s.n_trials, s.qualification, s.truncation, s.feedback, s.seed,
                       s.created_at, s.expires_at, s.closed_at is not None,
                       tuple(json.loads(s.arms)) if s.arms else (), s.protocol or "hype-inf",
                       s.real_source or "mnist-5k", s.display_size, bool(s.reveal))


def trial_view(t: Trial, total: int, exposure_ms: int | None = None) -> TrialView:
    return TrialView(t.index, t.qualification, t.real_index, t.fake_seed, t.real_side, t.is_real, total,
                     t.arm, exposure_ms)


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
