"""A Streamlit client without a browser, for the benches: it speaks the websocket protocol a browser does (the
BackMsg/ForwardMsg protobufs), opens a page by name, keeps every widget's state, sends a widget change as a rerun
(of the widget's fragment when it lives in one), and honours the server's auto-rerun timers
(``st.fragment(run_every=...)``). Nothing is drawn. Used by ``classroom_load.py`` and ``rerun_cost.py``."""
from __future__ import annotations

import asyncio

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ERRORS: list[str] = []
_ADDRESSES = iter(f"127.0.{i // 250}.{i % 250 + 2}" for i in range(1, 60_000))


def next_address() -> str:
    """A loopback address of its own for each simulated student, as if each sat at another machine: a proxy's
    sticky hash spreads them over replicas, and the app's per-client limits count them apart."""
    return next(_ADDRESSES)


class Student:
    """One browser session, spoken to through Streamlit's websocket protocol."""

    def __init__(self, base: str, name: str, source: str | None = None):
        self.ws_url = base.replace("http", "ws") + "/_stcore/stream"
        self.name = name
        self.source = source          # the local address to connect from (127.0.x.y: one "machine" each)
        self.widgets: dict[str, tuple] = {}       # label -> (type, id, fragment id)
        self.states: dict[str, WidgetState] = {}  # widget id -> its current state (sent with every rerun)
        self.finished = asyncio.Condition()
        self.runs_finished = 0
        self.listeners: list = []                 # callables(elem_type, element) for the measuring student
        self.timers: dict[str, asyncio.Task] = {}
        self.timer_fragments: dict[str, float] = {}   # every fragment the server asked to rerun on a timer
        self.texts: list[str] = []                # progress / info texts seen (queue status)
        self.page, self.query, self.page_hash = "", "", ""
        self.follow_timers = True                 # False: ignore run_every timers (a bench timing one thing)
        self.ws = None

    async def open(self, page: str, query: str = "") -> None:
        extra = {"local_addr": (self.source, 0)} if self.source else {}
        self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                           open_timeout=30, ping_interval=None, **extra)
        self.reader = asyncio.create_task(self._read())
        self.page, self.query = page, query
        await self.rerun()

    async def close(self) -> None:
        for t in self.timers.values():
            t.cancel()
        self.reader.cancel()
        await self.ws.close()

    async def rerun(self, fragment_id: str = "", auto: bool = False, timeout: float = 180) -> None:
        """Ask for a rerun (of one fragment, or of the page) and wait until a run finishes; timer reruns
        (auto) do not wait, as a browser's timers do not."""
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string, cs.page_name = self.query, self.page
        if self.page_hash:   # after the first run the server knows the page by its hash (as the browser sends)
            cs.page_script_hash = self.page_hash
        cs.widget_states.widgets.extend(self.states.values())
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = auto
        else:  # a page run: the server announces again the timers of the fragments it draws
            for t in self.timers.values():
                t.cancel()
            self.timers.clear()
        seen = self.runs_finished
        await self.ws.send(msg.SerializeToString())
        for s in self.states.values():            # triggers are one-shot, as in the browser
            if s.HasField("trigger_value"):
                s.trigger_value = False
        if auto:
            return
        try:
            async with self.finished:
                await asyncio.wait_for(self.finished.wait_for(lambda: self.runs_finished > seen), timeout)
        except asyncio.TimeoutError:
            ERRORS.append(f"{self.name}: a rerun of {self.page} did not finish in {timeout:.0f} s")

    def _widget(self, label: str) -> tuple:
        for lbl, w in self.widgets.items():
            if lbl == label or lbl.endswith(label):
                return w
        raise KeyError(f"{self.name}: no widget {label!r} on {self.page} (have {list(self.widgets)[:12]})")

    async def set_slider(self, label: str, value: float) -> None:
        _, wid, frag = self._widget(label)
        s = WidgetState(id=wid)
        s.double_array_value.data.append(value)
        self.states[wid] = s
        await self.rerun(frag)

    async def set_number(self, label: str, value: int) -> None:
        _, wid, frag = self._widget(label)
        self.states[wid] = WidgetState(id=wid, int_value=value)
        await self.rerun(frag)

    async def set_text(self, label: str, value: str) -> None:
        _, wid, _ = self._widget(label)
        self.states[wid] = WidgetState(id=wid, string_value=value)

    async def set_option(self, label: str, option: str) -> None:
        """A select box: the chosen option as its text (Streamlit 1.5x sends the option, not its index)."""
        _, wid, frag = self._widget(label)
        self.states[wid] = WidgetState(id=wid, string_value=option)
        await self.rerun(frag)

    async def click(self, label: str) -> None:
        _, wid, frag = self._widget(label)
        self.states[wid] = WidgetState(id=wid, trigger_value=True)
        await self.rerun(frag)

    async def _auto(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.rerun(fragment_id, auto=True)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                fm = ForwardMsg()
                fm.ParseFromString(raw)
                kind = fm.WhichOneof("type")
                if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                    el = fm.delta.new_element
                    t = el.WhichOneof("type")
                    if t == "exception":
                        ERRORS.append(f"{self.name}: exception on {self.page}: {el.exception.message[:120]}")
                    elif t == "alert" and el.alert.format == 1:   # st.error
                        ERRORS.append(f"{self.name}: error box on {self.page}: {el.alert.body[:120]}")
                    elif t in ("progress",):
                        self.texts.append(el.progress.text)
                    obj = getattr(el, t, None)
                    if obj is not None and getattr(obj, "id", "") and getattr(obj, "label", ""):
                        self.widgets[obj.label] = (t, obj.id, fm.delta.fragment_id)
                    for fn in self.listeners:
                        fn(t, el)
                elif kind == "auto_rerun":
                    frag, every = fm.auto_rerun.fragment_id, fm.auto_rerun.interval
                    self.timer_fragments[frag] = every
                    if self.follow_timers and frag not in self.timers:
                        self.timers[frag] = asyncio.create_task(self._auto(frag, every))
                elif kind == "stop_auto_rerun":
                    for frag in fm.stop_auto_rerun.fragment_ids:
                        if frag in self.timers:
                            self.timers.pop(frag).cancel()
                elif kind == "script_finished":
                    async with self.finished:
                        self.runs_finished += 1
                        self.finished.notify_all()
                elif kind == "navigation":   # st.navigation names the page this run drew
                    self.page_hash = fm.navigation.page_script_hash or self.page_hash
                elif kind == "page_info_changed":
                    self.query = fm.page_info_changed.query_string
        except (websockets.ConnectionClosed, asyncio.CancelledError):
            pass
