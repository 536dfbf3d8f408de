"""Drive the app the way its browser client does, over Streamlit's websocket, without a browser.

    python scripts/ws_load.py --sessions 5 --seconds 20          # starts the app on a free port
    python scripts/ws_load.py --url http://127.0.0.1:8501 --sessions 20

A browser tab talks to the server over one websocket (`/_stcore/stream`) in protobuf: it sends a
`BackMsg` whose `rerun_script` carries the page, the query string and the widget values
(`ClientState`), and receives `ForwardMsg`s — `new_session`, one `delta` per element, and
`script_finished` when the run is over. `StreamSession` speaks exactly that, with Streamlit's own
protobuf classes, so a hundred sessions cost the test driver little and the server the same as a
hundred tabs (the drawing in the browser is left out: that is the browser's CPU, not the server's).

Like the browser client it
* finds each widget's id in the deltas (an element with an `id`; widgets with a `key` end in
  `-<key>`, e.g. `…-f_blast`) and sends a widget's new value under that id;
* keeps the query string the app writes (`page_info_changed`) and the page the navigation chose;
* remembers the hashes of large elements and sends them back (`cached_message_hashes`), so the
  server answers an unchanged chart with a reference, as it does for a browser.

A page view is one script run: the time from sending the rerun to `script_finished`. A run that
shows an exception element or an error alert is counted as an error, with its text.

`run_level` runs N sessions for a fixed time, each changing a sidebar filter every `interval`
seconds (blast burden and HSCT in turn), and returns every page view; scripts/load_test.py turns
levels into the report. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent

# page → URL path (the app routes with st.navigation; "" is Overview)
PAGES: dict[str, str] = {"overview": "", "response": "response", "survival": "survival", "safety": "safety"}
# A walk through blast burden × HSCT (radio widgets; values are the labels the radio shows).
FILTER_WALK: tuple[tuple[str, str], ...] = (
    ("f_blast", "High"), ("f_hsct", "HSCT"), ("f_blast", "Low"), ("f_hsct", "No HSCT"), ("f_blast", "High"),
    ("f_blast", "All"), ("f_hsct", "HSCT"), ("f_hsct", "All"), ("f_blast", "Low"), ("f_blast", "All"),
)
# Elements whose content is the answer (widgets and download buttons are left out of the fingerprint).
CONTENT = frozenset({"markdown", "metric", "plotly_chart", "table", "dataframe", "alert", "heading", "code"})
RUN_DONE = {ForwardMsg.FINISHED_SUCCESSFULLY: "ok", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class PageView:
    """One script run seen from the client."""

    session: int
    page: str
    kind: str                      # "load" (first run of a session) or "filter" (a widget changed)
    started: float                 # perf_counter when the rerun was sent
    latency_s: float
    status: str                    # "ok", "compile error", "timeout", "closed: …"
    elements: int = 0
    bytes_received: int = 0
    errors: list[str] = field(default_factory=list)
    query: str = ""                # the query string the app wrote for this view (the slice)
    fingerprint: str = ""          # hash of what the page shows: texts, metrics, tables, chart specs

    @property
    def failed(self) -> bool:
        return self.status != "ok" or bool(self.errors)


class StreamSession:
    """One browser tab's worth of protocol: connect, run a page, change widgets, close."""

    def __init__(self, base: str, page: str, query: str = "", *, timeout_s: float = 60.0) -> None:
        parts = urllib.parse.urlsplit(base)
        if parts.hostname not in LOOPBACK:
            raise ValueError(f"load is only sent to this machine; {base} is not a loopback address")
        self.url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"
        self.page, self.page_name = page, PAGES.get(page, page)
        self.query_string = query
        self.timeout_s = timeout_s
        self.page_script_hash = ""
        self.widget_ids: dict[str, str] = {}          # user key (or label) → widget id
        self.widget_values: dict[str, WidgetState] = {}
        self.cached: dict[str, ForwardMsg] = {}        # hash → message, as the browser keeps them
        self._ws = None  # type: ignore[var-annotated]
        self._content = hashlib.sha1()

    async def __aenter__(self) -> StreamSession:
        # Same subprotocol as the browser; no compression (the server does not enable it).
        self._ws = await connect(self.url, subprotocols=["streamlit"], max_size=None, compression=None,
                                 open_timeout=self.timeout_s, ping_interval=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()

    def widget_id(self, key: str) -> str:
        try:
            return self.widget_ids[key]
        except KeyError:
            raise KeyError(f"no widget with key or label {key!r} on page {self.page!r}; "
                           f"seen: {sorted(self.widget_ids)[:20]}") from None

    def set_string(self, key: str, value: str) -> None:
        wid = self.widget_id(key)
        self.widget_values[wid] = WidgetState(id=wid, string_value=value)

    def set_double(self, key: str, value: float) -> None:
        wid = self.widget_id(key)
        self.widget_values[wid] = WidgetState(id=wid, double_value=value)

    def _rerun_message(self) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_name = self.page_name
        state.page_script_hash = self.page_script_hash
        state.widget_states.widgets.extend(self.widget_values.values())
        state.cached_message_hashes.extend(self.cached)
        return msg.SerializeToString()

    async def run(self, *, session: int = 0, kind: str = "filter") -> PageView:
        """Send a rerun with the current widget values; read until the run is over."""
        assert self._ws is not None, "use `async with StreamSession(...)`"
        started = time.perf_counter()
        view = PageView(session=session, page=self.page, kind=kind, started=started, latency_s=0.0, status="")
        self._content = hashlib.sha1()
        await self._ws.send(self._rerun_message())
        deadline = time.monotonic() + self.timeout_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise asyncio.TimeoutError
                data = await asyncio.wait_for(self._ws.recv(), timeout=remaining)
                view.bytes_received += len(data)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                status = self._read(msg, view)
                if status is not None:
                    view.status = status
                    break
        except asyncio.TimeoutError:
            view.status = "timeout"
        except Exception as exc:  # the connection broke: this view failed, the driver goes on
            view.status = f"closed: {type(exc).__name__}: {str(exc)[:120]}"
        view.latency_s = time.perf_counter() - started
        view.query, view.fingerprint = self.query_string, self._content.hexdigest()[:16]
        return view

    def _read(self, msg: ForwardMsg, view: PageView) -> str | None:
        """Take in one ForwardMsg; return the run's status when it is the end of the run."""
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            original = self.cached.get(msg.ref_hash)
            if original is None:
                view.errors.append(f"reference to a message this client never received ({msg.ref_hash})")
                return None
            msg, kind = original, original.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self.cached[msg.hash] = msg
        if kind == "delta":
            self._read_delta(msg, view)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
        elif kind == "page_not_found":
            view.errors.append(f"page not found: {self.page_name!r}")
        elif kind == "script_finished":
            # FINISHED_EARLY_FOR_RERUN: the app called st.rerun (or a new rerun arrived); keep reading
            return RUN_DONE.get(msg.script_finished)
        return None

    def _read_delta(self, msg: ForwardMsg, view: PageView) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        view.elements += 1
        if kind == "exception":
            view.errors.append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
            return
        if kind == "alert" and element.alert.format == Alert.ERROR:
            view.errors.append(f"error alert: {element.alert.body[:200]}")
            return
        if kind is None:
            return
        if kind in CONTENT:
            self._content.update(element.SerializeToString(deterministic=True))
        proto = getattr(element, kind)
        wid = getattr(proto, "id", "")          # widgets (and a few other elements) carry an id
        if isinstance(wid, str) and wid:
            user_key = wid.rsplit("-", 1)[-1] if wid.startswith("$$ID-") else ""
            if user_key and user_key != "None":
                self.widget_ids[user_key] = wid
            label = getattr(proto, "label", "")
            if label:
                self.widget_ids.setdefault(label, wid)


async def session_loop(base: str, index: int, page: str, *, start_at: float, until: float, interval_s: float,
                       timeout_s: float, walk: tuple[tuple[str, str], ...] = FILTER_WALK,
                       fresh_slices: bool = False) -> list[PageView]:
    """One simulated user: open `page` at `start_at`, then change a filter every `interval_s` until `until`.

    The next change is due `interval_s` after the previous one was sent (or at once when the
    previous run took longer): a user clicks on a schedule, not after the server caught up.
    `fresh_slices` also moves the blast threshold on every change, so no slice repeats (no cache hit).
    """
    views: list[PageView] = []
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    try:
        async with StreamSession(base, page, timeout_s=timeout_s) as tab:
            views.append(await tab.run(session=index, kind="load"))
            step = index                      # sessions start at different points of the walk
            due = time.monotonic() + interval_s
            while due < until and not views[-1].status.startswith("closed"):
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                key, value = walk[step % len(walk)]
                step += 1
                try:
                    tab.set_string(key, value)
                    if fresh_slices:
                        tab.set_double("f_blast_threshold", float(5 + (index * 37 + step) % 90))
                except KeyError as exc:
                    views.append(PageView(session=index, page=page, kind="filter", started=time.perf_counter(),
                                          latency_s=0.0, status="ok", errors=[str(exc)]))
                    break
                sent = time.monotonic()
                views.append(await tab.run(session=index, kind="filter"))
                due = max(sent + interval_s, time.monotonic())
    except Exception as exc:  # could not connect: one failed view, the others go on
        views.append(PageView(session=index, page=page, kind="load", started=time.perf_counter(), latency_s=0.0,
                              status=f"closed: {type(exc).__name__}: {str(exc)[:120]}"))
    return views


async def run_level(base: str, sessions: int, seconds: float, *, interval_s: float = 5.0, timeout_s: float = 60.0,
                    pages: tuple[str, ...] = tuple(PAGES), fresh_slices: bool = False) -> list[PageView]:
    """`sessions` users for `seconds`, spread over `pages`, starting evenly over the first interval."""
    now = time.monotonic()
    until = now + seconds
    tasks = [session_loop(base, i, pages[i % len(pages)], start_at=now + interval_s * i / max(sessions, 1),
                          until=until, interval_s=interval_s, timeout_s=timeout_s, fresh_slices=fresh_slices)
             for i in range(sessions)]
    results = await asyncio.gather(*tasks)
    return [view for views in results for view in views]


# ---------------------------------------------------------------------------------- the server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_command(app_dir: Path, port: int, *, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(app_dir / "app.py"),
            "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra]


@contextlib.contextmanager
def serve_app(app_dir: Path = ROOT, *, cohort: Path | None = None, timeout_s: float = 90.0,
              command: list[str] | None = None, log: Path | None = None,
              env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run the app from `app_dir` on a free 127.0.0.1 port until the block ends; yield (base URL, process).

    `cohort` sets $INO_COHORT_PATH. `command` replaces `streamlit run` (its "{port}" is filled in).
    """
    with serve_apps(1, app_dir, cohort=cohort, timeout_s=timeout_s, command=command,
                    logs=[log] if log else None, env=env) as served:
        yield served[0]


@contextlib.contextmanager
def serve_apps(count: int, app_dir: Path = ROOT, *, cohort: Path | None = None, timeout_s: float = 90.0,
               command: list[str] | None = None, logs: list[Path] | None = None,
               env: dict[str, str] | None = None) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    """`count` app processes on their own ports, started together (as behind a proxy); all stopped after."""
    full_env = {**os.environ, **(env or {})}
    if cohort is not None:
        full_env["INO_COHORT_PATH"] = str(cohort)
    started: list[tuple[str, subprocess.Popen, object]] = []
    try:
        for i in range(count):
            port = free_port()
            args = ([part.replace("{port}", str(port)) for part in command] if command
                    else streamlit_command(app_dir, port))
            out = open(logs[i], "w") if logs else subprocess.DEVNULL
            process = subprocess.Popen(args, cwd=app_dir, env=full_env, stdout=out, stderr=subprocess.STDOUT)
            started.append((f"http://127.0.0.1:{port}", process, out))
        for base, process, _ in started:
            wait_healthy(base, process, timeout_s)
        yield [(base, process) for base, process, _ in started]
    finally:
        for _, process, _ in started:
            process.terminate()
        for _, process, out in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[attr-defined]


def wait_healthy(base: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode} before serving {base}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"streamlit did not answer on {base} within {timeout_s:.0f} s")
        time.sleep(0.3)


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue                       # a process that ended while being read
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        fields = stats.get(current)
        if fields is None:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick     # utime, stime
        todo.extend(children.get(current, ()))
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app on 127.0.0.1 (default: start one)")
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        base = args.url or stack.enter_context(serve_app())[0]
        views = asyncio.run(run_level(base, args.sessions, args.seconds, interval_s=args.interval))
    for view in views:
        print(json.dumps({k: v for k, v in asdict(view).items() if k != "started"}))
    return 1 if any(v.failed for v in views) else 0


if __name__ == "__main__":
    sys.exit(main())
