"""Heavy page work through the server's one WorkQueue (gan_core.workqueue): the page asks for a result by
key; while it is computed the user sees their place in line, a progress bar and a Cancel button, and the page
reruns by itself when the result is ready. Interactive work (one image per slider move) never comes here."""
from __future__ import annotations

import random
import secrets
import time

import streamlit as st

from gan_core.workqueue import OwnerBusy, QueueFull, WorkQueue
from ui.text import plain


@st.cache_resource
def work_queue() -> WorkQueue:
    """One per server: every browser session's heavy work shares its workers."""
    import atexit

    q = WorkQueue()
    atexit.register(q.shutdown)
    return q


def owner() -> str:
    return st.session_state.setdefault("work_owner", secrets.token_hex(8))


def queued(key, label: str, fn, start: bool = True, light: bool = False):
    """The result of ``fn(progress)`` for ``key``, or None while it waits or runs (a status is drawn in its
    place, and the page reruns when it is done). start=False only shows a result already computed."""
    q = work_queue()
    t = q.peek(key)
    if t is not None and t.state == "done":
        return t.result
    if t is not None and t.state == "error":
        st.error(f"{label[:1].upper()}{label[1:]} failed: {plain(t.error)}")
        if st.button("Try again", key=f"retry_{abs(hash(key))}"):
            q.forget(key)
            st.rerun()
        return None
    if not start and (t is None or owner() not in t.owners):
        return None
    cancelled = st.session_state.setdefault("work_cancelled", set())
    if key in cancelled:  # this user cancelled it: only a click starts it again
        if st.button(f"Compute {label}", key=f"again_{abs(hash(key))}"):
            cancelled.discard(key)
            st.rerun()
        return None
    try:
        t = q.submit(owner(), key, fn, label, light=light)
    except OwnerBusy as e:
        st.info(f"{label[:1].upper()}{label[1:]} waits until {e.ticket.label}, which you asked for first, is "
                "ready (one computation per person at a time, so the whole class gets its turn).")
        return None
    except QueueFull as e:
        st.warning(str(e))
        return None
    if t.state == "done":
        return t.result
    _status(key, label)
    return None


def _status(key, label: str) -> None:
    @st.fragment(run_every=1.0)  # a room of waiting students polls at 1 Hz each, not 2
    def _poll():
        q = work_queue()
        t = q.peek(key)
        if t is None:
            st.caption(f"{label[:1].upper()}{label[1:]} was cancelled.")
            return
        if t.state in ("done", "error"):
            # the whole page draws the result in place; when a shared result finishes, every waiting page
            # reruns: a random pause of up to a second spreads that herd so slider moves slip in between
            time.sleep(random.uniform(0, 1.0))
            st.rerun()
        pos = q.position(t)
        if pos:
            text = (f"Waiting for a free worker to compute {label}: place {pos} in line ({q.running()} "
                    f"computation{'s' if q.running() != 1 else ''} running for the class).")
        else:
            text = f"Computing {label}" + (f": {t.stage}" if t.stage else "…")
        st.progress(t.progress, text=text)
        if st.button("Cancel", key=f"cancel_{abs(hash(key))}", help="Stop waiting; the server drops the work "
                                                                      "when nobody else needs it."):
            q.cancel(owner(), t)
            st.session_state.setdefault("work_cancelled", set()).add(key)
            st.rerun()

    _poll()


