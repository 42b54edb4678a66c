"""Heavy page work through the server's one WorkQueue (gan_core.serve.workqueue): the page asks for a result by
key; while it is computed the user sees their place in line, a progress bar and a Cancel button, and the page
reruns by itself when the result is ready. Interactive work (one image per slider move) never comes here.

The work runs in worker processes (``GAN_STUDIO_WORK=process``, the default; ``thread`` runs it in the
server's process) with the queue's time and memory limits; an item whose every owner has closed their tab is
stopped; "one per person" counts both the browser session and the client's address."""
from __future__ import annotations

import ipaddress
import os
import secrets
import threading
import time

import streamlit as st

from gan_core.serve.workqueue import ClientBusy, OwnerBusy, QueueFull, Task, WorkQueue
from ui.priority import background_turn
from ui.text import plain

_SESSIONS: dict[str, str] = {}      # work owner -> Streamlit session id (to tell when a tab has closed)
_SESSIONS_LOCK = threading.Lock()


def _session_alive(owner_token: str) -> bool:
    """Whether the browser session that owns ``owner_token`` is still connected."""
    from streamlit import runtime

    with _SESSIONS_LOCK:
        sid = _SESSIONS.get(owner_token)
    if sid is None or not runtime.exists():
        return True     # not a served session (AppTest, a notebook): never cancelled for leaving
    return runtime.get_instance().is_active_session(sid)


@st.cache_resource
def work_queue() -> WorkQueue:
    """One per server: every browser session's heavy work shares its workers."""
    import atexit

    q = WorkQueue(processes=os.environ.get("GAN_STUDIO_WORK", "process") != "thread", alive=_session_alive)
    atexit.register(q.shutdown)
    return q


def owner() -> str:
    token = st.session_state.setdefault("work_owner", secrets.token_hex(8))
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is not None:
            with _SESSIONS_LOCK:
                _SESSIONS[token] = ctx.session_id
                if len(_SESSIONS) > 10_000:   # sessions long gone: their tokens are never asked about again
                    for k in list(_SESSIONS)[:5_000]:
                        del _SESSIONS[k]
    except ImportError:
        pass
    return token


def _trusted_proxies() -> list:
    nets = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    for part in os.environ.get("GAN_STUDIO_TRUSTED_PROXIES", "").split(","):
        try:
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            pass
    return nets


def client() -> str | None:
    """The client's address: the connection's own, or behind a trusted proxy (loopback, i.e. nginx on this
    machine, or GAN_STUDIO_TRUSTED_PROXIES) the last address the proxy put in X-Forwarded-For. The header is
    not trusted from anyone else: a student could send a new one with every request."""
    try:
        ip = st.context.ip_address
    except Exception:
        return None
    if ip is None:
        return None
    try:
        peer = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if any(peer in net for net in _trusted_proxies()):
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded)) if forwarded else ip
        except ValueError:
            return ip
    return ip


def queued(key, label: str, fn: Task, start: bool = True, light: bool = False):
    """The result of ``fn`` (a Task) for ``key``, or None while it waits or runs (a status is drawn in its
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
        t = q.submit(owner(), key, fn, label, light=light, client=client())
    except ClientBusy as e:
        st.info(str(e))
        return None
    except OwnerBusy as e:
        st.info(f"{label[:1].upper()}{label[1:]} is next: it starts by itself when {e.ticket.label} is ready "
                "(one computation per person at a time, so the whole class gets its turn).")
        return None
    except QueueFull as e:
        st.warning(str(e))
        return None
    if t.state == "done":
        return t.result
    _status(key, label)
    return None


class Wakeups:
    """When a shared result is ready, the pages that waited for it rerun to draw it. Wake-ups are handed out one
    after another, ``spacing`` seconds apart (``GAN_STUDIO_WAKE_SPACING``, default 0.1 s), in the order pages
    notice their result: the first goes at once, the 30th about 3 s later, instead of 30 full page runs in the
    same instant. Never more than ``most`` seconds."""

    def __init__(self, spacing: float | None = None, most: float = 10.0):
        env = os.environ.get("GAN_STUDIO_WAKE_SPACING", "")
        try:
            default = float(env) if env else 0.1
        except ValueError:
            default = 0.1
        self.spacing, self.most = max(0.0, default if spacing is None else spacing), most
        self._next = 0.0
        self._lock = threading.Lock()

    def delay(self) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.spacing
        return min(slot - now, self.most)


WAKEUPS = Wakeups()


def _status(key, label: str) -> None:
    @st.fragment(run_every=1.0)  # a room of waiting students polls at 1 Hz each, not 2
    def _poll():
        q = work_queue()
        t = q.peek(key)
        if t is not None and t.state in ("done", "error"):
            # the whole page draws the result in place; when a shared result finishes, the waiting pages take
            # turns (the queue hands out wake-ups 0.1 s apart; the pause holds no turn and costs no CPU)
            time.sleep(WAKEUPS.delay())
            st.rerun()
        with background_turn():
            _draw_status(q, key, label)

    _poll()


def _draw_status(q: WorkQueue, key, label: str) -> None:
    t = q.peek(key)
    if t is None:
        st.caption(f"{label[:1].upper()}{label[1:]} was cancelled.")
        return
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
