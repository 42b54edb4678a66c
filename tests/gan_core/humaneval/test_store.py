"""Quiz storage: sessions, joining, idempotent answers, closed sessions, keys, concurrency, durability."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from gan_core.humaneval.plans import plan_trials
from gan_core.humaneval.records import QuizError
from gan_core.humaneval.schema import QuizSession, now
from gan_core.humaneval.store import Store
from tests.helpers import ROOT


@pytest.fixture
def store(db_url):
    """Every storage test runs on SQLite and on PostgreSQL (a real throwaway server, see tests/postgres.py)."""
    s = Store(db_url)
    yield s
    s.engine.dispose()


def test_create_and_join_with_a_shown_once_key(store):
    code, key = store.create_session("mnist-cgan", mode="pair", n_trials=5, qualification=2, seed=7)
    assert len(code) == 6 and code.isalnum() and len(key) >= 30
    with store.engine.connect() as c:  # the key is kept only hashed
        row = c.execute(QuizSession.__table__.select()).mappings().one()
    assert key not in str(dict(row)) and len(row["key_hash"]) == 64
    token, nick = store.join(code.lower(), "  Ada  ")  # codes are case-insensitive, names trimmed
    assert nick == "Ada"
    assert store.progress(token) == (0, 7)
    t = store.next_trial(token)
    assert t.index == 0 and t.qualification and t.total == 7


def test_duplicate_nicknames_get_a_number(store):
    code, _ = store.create_session("m", n_trials=2, seed=1)
    names = [store.join(code, "Ada")[1] for _ in range(3)]
    assert names == ["Ada", "Ada 2", "Ada 3"]


@pytest.mark.parametrize("nick, msg", [("", "enter a nickname"), ("x" * 25, "at most 24"),
                                       ("<script>", "letters, digits"), ("   ", "enter a nickname")])
def test_bad_nicknames(store, nick, msg):
    code, _ = store.create_session("m", n_trials=2, seed=1)
    with pytest.raises(QuizError, match=msg):
        store.join(code, nick)


def test_wrong_code_closed_and_expired_sessions(store):
    with pytest.raises(QuizError, match="No session has that code"):
        store.join("ZZZZZZ", "Ada")
    code, key = store.create_session("m", n_trials=2, seed=1)
    token, _ = store.join(code, "Ada")
    store.close_session(code, key)
    with pytest.raises(QuizError, match="closed"):
        store.join(code, "Bob")
    with pytest.raises(QuizError, match="closed"):
        store.answer(token, 0, "left", 500)
    code2, _ = store.create_session("m", n_trials=2, seed=1)
    with store.engine.begin() as c:
        c.execute(update(QuizSession).where(QuizSession.code == code2)
                  .values(expires_at=now() - timedelta(seconds=1)))
    with pytest.raises(QuizError, match="expired"):
        store.join(code2, "Ada")


def test_forged_keys_learn_nothing(store):
    code, key = store.create_session("m", n_trials=2, seed=1)
    msgs = set()
    for c, k in ((code, "forged"), ("ZZZZZZ", key), ("ZZZZZZ", "forged"), (code, "")):
        with pytest.raises(QuizError) as e:
            store.check_key(c, k)
        msgs.add(str(e.value))
    assert len(msgs) == 1  # the same message whether or not the code exists
    assert store.check_key(code, key).code == code
    with pytest.raises(QuizError):
        store.close_session(code, "forged")
    assert store.session(code).open


def test_answers_are_idempotent_and_checked(store):
    code, _ = store.create_session("m", mode="single", n_trials=3, seed=3)
    token, _ = store.join(code, "Ada")
    t = store.next_trial(token)
    first = store.answer(token, t.index, t.correct_choice, 800)
    assert first.correct and not first.duplicate
    wrong = "fake" if t.correct_choice == "real" else "real"
    again = store.answer(token, t.index, wrong, 100)   # a double click with a different answer
    assert again.duplicate and again.correct  # the first answer stands
    assert store.answer_count() == 1 and store.progress(token) == (1, 3)
    assert store.next_trial(token).index == 1
    with pytest.raises(QuizError, match="real or fake"):
        store.answer(token, 1, "left", 10)
    with pytest.raises(QuizError, match="does not exist"):
        store.answer(token, 99, "real", 10)
    with pytest.raises(QuizError, match="join again"):
        store.answer("not-a-token", 1, "real", 10)


def test_trial_plans_are_reproducible_and_balanced():
    a = plan_trials("single", 400, 0, seed=5)
    assert a == plan_trials("single", 400, 0, seed=5) and a != plan_trials("single", 400, 0, seed=6)
    share_real = sum(r["is_real"] for r in a) / 400
    assert 0.4 < share_real < 0.6
    assert all((r["real_index"] is None) == (not r["is_real"]) for r in a)
    p = plan_trials("pair", 400, 3, seed=5)
    assert all(r["qualification"] for r in p[:3]) and not any(r["qualification"] for r in p[3:])
    assert 0.4 < sum(r["real_side"] for r in p) / 400 < 0.6


def test_same_session_seed_same_pairs_per_participant(tmp_path):
    s1, s2 = Store(f"sqlite:///{tmp_path / 'a.db'}"), Store(f"sqlite:///{tmp_path / 'b.db'}")
    plans = []
    for s in (s1, s2):
        code, _ = s.create_session("m", n_trials=4, seed=42)
        tok, _ = s.join(code, "Ada")
        plans.append([(t["real_index"], t["fake_seed"], t["real_side"]) for t in _plan(s, tok)])
    assert plans[0] == plans[1]


def _plan(s, token):
    out = []
    while (t := s.next_trial(token)) is not None:
        out.append({"real_index": t.real_index, "fake_seed": t.fake_seed, "real_side": t.real_side})
        s.answer(token, t.index, "left", 1)
    return out


def test_concurrent_answers_nothing_lost_nothing_doubled(store):
    code, _ = store.create_session("m", n_trials=10, seed=9)
    tokens = [store.join(code, f"p{i}")[0] for i in range(12)]

    def answer_all(tok):
        for i in range(10):
            for _ in range(2):  # every answer sent twice, like a double click
                store.answer(tok, i, "left", 300)

    threads = [threading.Thread(target=answer_all, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.answer_count() == 120
    assert all(p["answered"] == 10 for p in store.participants(code))


def test_sigkill_keeps_every_acknowledged_answer(tmp_path):
    """A child process answers in a loop and prints each trial index once its answer is committed; we kill
    it with SIGKILL mid-stream, reopen the database, and find every acknowledged answer."""
    db = f"sqlite:///{tmp_path / 'quiz.sqlite3'}"
    s = Store(db)
    code, _ = s.create_session("m", n_trials=200, seed=1)
    token, _ = s.join(code, "Ada")
    child = textwrap.dedent(f"""
        import sys
        from gan_core.humaneval.store import Store
        s = Store({db!r})
        for i in range(200):
            s.answer({token!r}, i, "left", 100)
            print(i, flush=True)
    """)
    p = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    acked = []
    for line in p.stdout:
        acked.append(int(line))
        if len(acked) == 40:
            os.kill(p.pid, signal.SIGKILL)
            break
    p.wait(30)
    assert p.returncode == -signal.SIGKILL
    stored = {r["index"] for r in Store(db).rows(code)}
    assert set(acked) <= stored and len(acked) == 40


def test_a_session_is_capped_and_a_removed_participant_cannot_answer(store, monkeypatch):
    import gan_core.humaneval.store as S

    monkeypatch.setattr(S, "MAX_PARTICIPANTS", 2)
    code, key = store.create_session("m", n_trials=2, seed=1)
    a, _ = store.join(code, "A")
    store.join(code, "B")
    with pytest.raises(QuizError, match="full"):
        store.join(code, "C")
    store.answer(a, 0, "left", 100)
    with pytest.raises(QuizError):
        store.remove_participant(code, "wrong key", 1)
    store.remove_participant(code, key, 1)
    with pytest.raises(QuizError, match="removed you"):
        store.answer(a, 1, "left", 100)
    assert store.rows(code) == []


def test_an_older_database_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    Store(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE participants DROP COLUMN removed_at")  # as an older version made it
    con.commit()
    con.close()
    store = Store(f"sqlite:///{path}")
    code, _ = store.create_session("m", n_trials=1, seed=1)
    store.join(code, "A")
    assert store.participants(code)[0]["removed"] is False


def test_a_question_not_yet_shown_cannot_be_answered(store):
    """A replayed or forged websocket message naming a later trial is refused; the current one still works and
    a repeat of an answered one changes nothing."""
    code, _ = store.create_session("m", n_trials=4, seed=2)
    token, _ = store.join(code, "Eve")
    with pytest.raises(QuizError, match="on your screen"):
        store.answer(token, 3, "left", 100)
    first = store.answer(token, 0, "left", 100)
    assert store.answer(token, 0, "right", 100).duplicate and store.answer(token, 0, "right", 100).correct == first.correct
    store.answer(token, 1, "right", 100)
    assert store.progress(token) == (2, 4)


# ---------------------------------------------------------------- bounded storage (hardening item 6)
def _image_arms():
    return [{"name": "A", "kind": "images"}, {"name": "B", "kind": "images"}]


def _sets(n=6, size=2000):
    return {k: [bytes([k, i]) * (size // 2) for i in range(n)] for k in range(3)}


def test_sessions_per_creator_are_capped(store):
    for i in range(5):
        store.create_session("m", n_trials=2, seed=i, creator="10.0.0.9")
    with pytest.raises(QuizError, match="5 sessions open"):
        store.create_session("m", n_trials=2, seed=9, creator="10.0.0.9")
    store.create_session("m", n_trials=2, seed=9, creator="10.0.0.10")   # someone else can still create


def test_images_of_ended_sessions_are_deleted_and_the_storage_is_reported(store):
    from gan_core.humaneval.schema import QuizImage

    code, key = store.create_session("A", mode="single", n_trials=4, arms=_image_arms(), images=_sets(),
                                     display_size=64, creator="t")
    before = store.storage()
    assert before["image_bytes"] == 3 * 6 * 2000 and before["sessions"] == 1 and before["open"] == 1
    assert store.purge_ended() == 0                         # still open: kept
    with store._session.begin() as db:
        db.execute(update(QuizSession).where(QuizSession.code == code)
                   .values(expires_at=now() - timedelta(hours=30)))
    assert store.purge_ended() == 1
    after = store.storage()
    assert after["image_bytes"] == 0 and after["open"] == 0 and after["sessions"] == 1
    with store._session() as db:
        assert db.query(QuizImage).count() == 0
    assert store.rows(code) == []                              # the session and its (empty) answers remain


def test_the_total_of_stored_images_is_capped(store, monkeypatch):
    import gan_core.humaneval.retention as st

    monkeypatch.setattr(st, "MAX_IMAGE_BYTES", 50_000)
    store.create_session("A", mode="single", n_trials=4, arms=_image_arms(), images=_sets(), display_size=64)
    with pytest.raises(QuizError, match="limit of"):
        store.create_session("A", mode="single", n_trials=4, arms=_image_arms(), images=_sets(), display_size=64)
