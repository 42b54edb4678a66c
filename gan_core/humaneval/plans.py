"""Who sees what: the trial plan of one participant, reproducible from a seed, for a session of one app model
(``plan_trials``) or of several arms (``plan_arm_trials``), and the check that an arm set-up can give every
participant fresh fakes (``check_arms``)."""
from __future__ import annotations

import random

from gan_core.humaneval.records import QuizError

REAL_POOL = 5000                    # real images are drawn from mnist-5k by index
MIN_ARMS, MAX_ARMS = 2, 6
MAX_SESSION_IMAGE_BYTES = 400_000_000  # normalised PNGs of one session, all sets together


def plan_trials(mode: str, n_trials: int, qualification: int, seed: int) -> list[dict]:
    """The trial plan of one participant: reproducible from ``seed``. Qualification trials come first."""
    rng = random.Random(seed)
    rows = []
    for i in range(qualification + n_trials):
        q = i < qualification
        row = dict(index=i, qualification=q, real_index=rng.randrange(REAL_POOL),
                   fake_seed=None if q else rng.randrange(2**31 - 1))
        if mode == "pair":
            row["real_side"] = rng.randrange(2)
        else:  # one image at a time, warm-ups too (a real digit or noise): the same question as the scored trials
            row["is_real"] = rng.random() < 0.5
            if row["is_real"]:
                row["fake_seed"] = None
            else:
                row["real_index"] = None
        rows.append(row)
    return rows


def _warmups(mode: str, qualification: int, reals, rng: random.Random) -> list[dict]:
    """Qualification trials (a real image against noise), shown in the session's own mode: pairs, or one image
    at a time, half of them real."""
    if mode == "pair":
        return [dict(index=i, qualification=True, real_index=next(reals), fake_seed=None, real_side=rng.randrange(2),
                     arm=None) for i in range(qualification)]
    truths = [i % 2 == 0 for i in range(qualification)]
    rng.shuffle(truths)
    return [dict(index=i, qualification=True, real_index=next(reals) if real else None, fake_seed=None,
                 is_real=real, arm=None) for i, real in enumerate(truths)]


def plan_arm_trials(mode: str, n_trials: int, qualification: int, seed: int, pools: list[int | None],
                    real_pool: int) -> list[dict]:
    """The trial plan of one participant in a session of several arms: reproducible from ``seed``.

    Arms are balanced (each gets n_trials / A trials, the remainder spread at random); in one-at-a-time
    modes each arm's trials are half real, half fake, so every arm has its own real-vs-fake question (and its
    own staircase in HYPE-time). No fake is shown twice to a participant: an arm's fakes are drawn without
    replacement from its pool (``pools[a]``: the number of uploaded images, or None for an app model, whose
    fakes are seeds). Real images are drawn without replacement too until the real pool is used up.
    Qualification trials (real vs noise) come first and belong to no arm.
    """
    rng = random.Random(seed)
    A = len(pools)
    arms = [i % A for i in range(n_trials)]
    rng.shuffle(arms)
    slots = [dict(arm=a) for a in arms]
    if mode == "pair":
        for sl in slots:
            sl["real_side"] = rng.randrange(2)
    else:
        for a in range(A):
            mine = [sl for sl in slots if sl["arm"] == a]
            truths = [i % 2 == 0 for i in range(len(mine))]
            rng.shuffle(truths)
            for sl, real in zip(mine, truths):
                sl["is_real"] = real
    for a, pool in enumerate(pools):
        fakes = [sl for sl in slots if sl["arm"] == a and not sl.get("is_real")]
        drawn = rng.sample(range(pool if pool is not None else 2**31 - 1), len(fakes))
        for sl, ref in zip(fakes, drawn):
            sl["fake_seed"] = ref
    reals_needed = qualification + sum(1 for sl in slots if "real_side" in sl or sl.get("is_real"))
    order: list[int] = []
    while len(order) < reals_needed:
        order += rng.sample(range(real_pool), real_pool)  # each real once before any repeats
    reals = iter(order)
    rows = _warmups(mode, qualification, reals, rng)
    for i, sl in enumerate(slots):
        row = dict(index=qualification + i, qualification=False, arm=sl["arm"], fake_seed=sl.get("fake_seed"),
                   real_index=next(reals) if "real_side" in sl or sl.get("is_real") else None)
        row.update({k: sl[k] for k in ("real_side", "is_real") if k in sl})
        rows.append(row)
    return rows


def check_arms(arms: list[dict], images: dict[int, list[bytes]], mode: str, n_trials: int,
               real_source: str) -> None:
    """Refuse an arm set-up that cannot give every participant fresh fakes, with a message that says why."""
    if not MIN_ARMS <= len(arms) <= MAX_ARMS:
        raise QuizError(f"A comparison has {MIN_ARMS} to {MAX_ARMS} arms (models); got {len(arms)}.")
    names = [a.get("name", "") for a in arms]
    if len(set(names)) != len(names) or not all(names):
        raise QuizError("Give every arm a different, non-empty name.")
    per_arm = -(-n_trials // len(arms))             # the most trials one arm can get
    fakes_per_arm = per_arm if mode == "pair" else -(-per_arm // 2)
    for k, arm in enumerate(arms):
        if arm.get("kind") not in ("model", "images"):
            raise QuizError(f"Arm {arm.get('name')!r} must be an app model or an uploaded image set.")
        if arm["kind"] == "images":
            n = len(images.get(k + 1, []))
            if n < fakes_per_arm:
                raise QuizError(f"Arm {arm['name']!r} has {n} images but each participant sees up to "
                                f"{fakes_per_arm} of its fakes, each at most once: upload more images or ask "
                                "for fewer trials.")
    if real_source == "images" and len(images.get(0, [])) < 4:
        raise QuizError("Upload the real images (a zip of at least 4).")
    total = sum(len(v) for v in images.values())
    if sum(len(b) for v in images.values() for b in v) > MAX_SESSION_IMAGE_BYTES:
        raise QuizError(f"The {total} images take more than {MAX_SESSION_IMAGE_BYTES // 1_000_000} MB; use a "
                        "smaller display size or fewer images.")
