"""HYPE-time's adaptive staircase (Zhou et al., NeurIPS 2019): how long each image is shown.

Each participant has one staircase per arm. An image is shown for the staircase's current exposure, then
replaced by a mask. After ``DOWN_AFTER`` correct answers in a row the next exposure of that arm is one step
shorter; after a wrong answer it is one step longer. The exposure at which a participant spends most of
their trials (the mode) is their perceptual threshold for that model: the longer people need to tell its
images from real ones, the better the model. HYPE-time is that threshold averaged over participants.

Values (see the README's "HYPE-time" section): exposures from 100 to 1000 ms in 30 ms steps, starting at
500 ms, three correct to step down and one wrong to step up (a "3-down/1-up" rule, which settles where a
participant is right about 79% of the time, Levitt 1971). The range, the step and the modal threshold are
HYPE's; we could not open the paper's full text on this machine to confirm the starting exposure and the
exact up/down counts, so those are the values we chose, stated in the app's help.

Example:
    >>> s = Staircase()
    >>> s.exposure
    490
    >>> for correct in (True, True, True, False): s.update(correct)
    >>> s.exposure
    490
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MIN_MS, MAX_MS, STEP_MS = 100, 1000, 30
LEVELS = tuple(range(MIN_MS, MAX_MS + 1, STEP_MS))   # 100, 130, ..., 1000: 31 exposures
START_MS = 490                                       # the level nearest 500 ms
DOWN_AFTER = 3                                       # correct answers in a row before a shorter exposure
MASK_MS = 150                                        # the mask after each image (then it stays until the answer)


@dataclass
class Staircase:
    """One participant's staircase for one arm. ``update(correct)`` after each answer; ``exposure`` is the
    next trial's exposure in ms; ``shown`` lists every exposure used so far."""

    level: int = LEVELS.index(START_MS)
    run: int = 0                      # correct answers in a row at this level
    shown: list = field(default_factory=list)

    @property
    def exposure(self) -> int:
        return LEVELS[self.level]

    def update(self, correct: bool) -> None:
        self.shown.append(self.exposure)
        if correct:
            self.run += 1
            if self.run >= DOWN_AFTER:
                self.level, self.run = max(0, self.level - 1), 0
        else:
            self.level, self.run = min(len(LEVELS) - 1, self.level + 1), 0


def replay(correct_answers) -> Staircase:
    """The staircase after these answers (in order): the server recomputes each next exposure from the stored
    answers, so nothing the browser sends can choose its own exposure."""
    s = Staircase()
    for c in correct_answers:
        s.update(bool(c))
    return s


def threshold(exposures) -> float:
    """The modal exposure of one participant's trials on one arm (ties: the mean of the tied exposures)."""
    counts = Counter(exposures)
    if not counts:
        return float("nan")
    top = max(counts.values())
    modes = [e for e, n in counts.items() if n == top]
    return sum(modes) / len(modes)
