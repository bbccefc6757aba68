"""The dashboard's HTTP server: finds run folders, serves the page and the metrics lines each run has written."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ember.report.curves import CHARTS, curve_axes
from ember.train import RunDir

from .page import content_security_policy, render_page

MAX_CHUNK = 4 * 1024 * 1024  # bytes of metrics.jsonl returned per request; the page asks again for the rest
LIVE_SECONDS = 30  # a run whose metrics changed this recently, with no model.pt yet, is live
SCAN_DEPTH = 2  # how many folder levels under a parent folder are searched for runs
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


class RunRegistry:
    """The runs under the given folders: a folder with metrics.jsonl is a run, any other folder is searched.

    Folders are searched again on every call, so runs that start later appear; a run keeps its name once given."""

    def __init__(self, roots: list[str | os.PathLike]):
        self.roots = [Path(r) for r in roots]
        self._names: dict[Path, str] = {}  # resolved run folder -> its name on the page
        self._lock = threading.Lock()

    def scan(self) -> dict[str, Path]:
        """name -> run folder for every run found now, in a stable order (sorted by name)."""
        found: list[Path] = []
        for root in self.roots:
            self._collect(root, SCAN_DEPTH, found)
        with self._lock:
            for folder in found:
                key = folder.resolve()
                if key not in self._names:
                    self._names[key] = self._unique_name(key)
            current = {self._names[f.resolve()]: f for f in found}
        return dict(sorted(current.items()))

    def find(self, name: str) -> Path | None:
        """The run folder called name, or None when no scanned run has that name."""
        return self.scan().get(name)

    def _collect(self, folder: Path, depth: int, found: list[Path]) -> None:
        if Path(RunDir(folder).metrics).is_file():
            if folder not in found:
                found.append(folder)
            return  # a run's own subfolders (checkpoints) hold no runs
        if depth <= 0 or not folder.is_dir():
            return
        try:
            children = sorted(folder.iterdir())
        except OSError:
            return  # unreadable or vanished while scanning
        for child in children:
            if child.is_dir() and not child.name.startswith("."):
                self._collect(child, depth - 1, found)

    def _unique_name(self, folder: Path) -> str:
        """The folder's name; prefixed with its parent's name (and then numbered) when another run has it."""
        taken = set(self._names.values())
        candidates = [folder.name, f"{folder.parent.name}/{folder.name}"]
        for name in candidates:
            if name and name not in taken:
                return name
        n = 2
        while f"{candidates[-1]}~{n}" in taken:
            n += 1
        return f"{candidates[-1]}~{n}"


def read_metrics_since(path: Path, offset: int, max_bytes: int = MAX_CHUNK) -> dict[str, Any]:
    """The complete JSON lines of metrics.jsonl from byte offset on, and the offset to ask from next time.

    A torn last line (being written) is left for the next call. When the file shrank or offset is not at a line
    start (a resumed run truncates the file before rewriting it), everything is sent again with "reset": true."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        reset = offset > size
        if not reset and offset > 0:
            f.seek(offset - 1)
            reset = f.read(1) != b"\n"
        if reset:
            offset = 0
        f.seek(offset)
        data = f.read(max_bytes)
    end = data.rfind(b"\n") + 1
    if end == 0 and len(data) == max_bytes:
        raise ValueError(f"{path}: a line longer than {max_bytes} bytes; is this really a metrics.jsonl file?")
    lines, errors = [], []
    position = offset
    for raw in data[:end].split(b"\n")[:-1]:
        if raw.strip():
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                lines.append(record)
            except ValueError:
                errors.append(f"metrics.jsonl byte {position}: not a JSON object, skipped")
        position += len(raw) + 1
    return {"offset": offset + end, "size": size, "reset": reset, "lines": lines, "errors": errors}


class DashboardServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows the run registry; `url` is where to point a browser."""

    daemon_threads = True

    def __init__(self, registry: RunRegistry, host: str = "127.0.0.1", port: int = 0):
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.registry = registry
        self.host = host
        super().__init__((host, port), DashboardHandler)

    @property
    def url(self) -> str:
        """The page's address, with the port actually bound (useful when port 0 picked a free one)."""
        port = self.server_address[1]
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    @property
    def loopback_only(self) -> bool:
        """True when bound to a loopback address, where only local host names are accepted (DNS rebinding)."""
        return self.host in LOOPBACK_NAMES or self.host.startswith("127.")


class DashboardHandler(BaseHTTPRequestHandler):
    """Serves the page, /api/runs and /api/metrics; every other path is a 404, so no file can be reached by path."""

    server: DashboardServer
    server_version = "ember-dashboard"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's signature
        pass  # one line per poll would flood the terminal

    def do_GET(self) -> None:
        """Route a GET request."""
        if not self._host_allowed():
            self._send_json({"error": "unexpected Host header"}, HTTPStatus.FORBIDDEN)
            return
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path in ("/", "/index.html"):
            self._send(render_page().encode("utf-8"), "text/html; charset=utf-8", csp=content_security_policy())
        elif url.path == "/api/runs":
            self._send_json({"runs": self._runs(), "now": time.time(), "live_seconds": LIVE_SECONDS})
        elif url.path == "/api/metrics":
            self._metrics(query)
        elif url.path == "/api/axes":
            self._axes(query)
        else:
            self._send_json({"error": "not found"}, HTTPStatus.NOT_FOUND)

    def _host_allowed(self) -> bool:
        if not self.server.loopback_only:
            return True
        host = self.headers.get("Host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
        return name in LOOPBACK_NAMES or name.startswith("127.")

    def _runs(self) -> list[dict[str, Any]]:
        """Every run, live ones first (metrics written in the last LIVE_SECONDS, no model.pt yet), then newest."""
        runs, now = [], time.time()
        for name, folder in self.server.registry.scan().items():
            try:
                stat = Path(RunDir(folder).metrics).stat()
            except OSError:
                continue  # deleted since the scan
            live = now - stat.st_mtime < LIVE_SECONDS and not Path(RunDir(folder).model).exists()
            runs.append(
                {"name": name, "path": str(folder), "bytes": stat.st_size, "modified": stat.st_mtime, "live": live}
            )
        runs.sort(key=lambda r: (not r["live"], -r["modified"], r["name"]))
        return runs

    def _metrics(self, query: dict[str, list[str]]) -> None:
        names, offsets = query.get("run", []), query.get("offset", ["0"])
        if len(names) != 1 or len(offsets) != 1:
            self._send_json({"error": "expected one run= and at most one offset= parameter"}, HTTPStatus.BAD_REQUEST)
            return
        try:
            offset = int(offsets[0])
            if offset < 0:
                raise ValueError
        except ValueError:
            self._send_json({"error": f"offset must be a byte count >= 0, got {offsets[0]!r}"}, HTTPStatus.BAD_REQUEST)
            return
        folder = self.server.registry.find(names[0])
        if folder is None:
            self._send_json({"error": f"no run named {names[0]!r}"}, HTTPStatus.NOT_FOUND)
            return
        try:
            payload = read_metrics_since(RunDir(folder).metrics, offset)
        except FileNotFoundError:
            self._send_json({"error": f"run {names[0]!r} has no metrics.jsonl any more"}, HTTPStatus.NOT_FOUND)
            return
        except ValueError as e:
            self._send_json({"error": str(e)}, HTTPStatus.UNPROCESSABLE_ENTITY)
            return
        self._send_json({"run": names[0], **payload})

    def _axes(self, query: dict[str, list[str]]) -> None:
        """The axes of the charts named in the query, each given as XMIN,XMAX,YMIN,YMAX of its finite points."""
        try:
            payload = chart_axes_for(query)
        except ValueError as e:
            self._send_json({"error": str(e)}, HTTPStatus.BAD_REQUEST)
            return
        self._send_json(payload)

    def _send_json(self, payload: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        # allow_nan: a diverged run logs NaN losses; JSON.parse cannot read NaN, so they travel as null
        body = json.dumps(_nan_to_none(payload), allow_nan=False).encode("utf-8")
        self._send(body, "application/json", status)

    def _send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK, csp: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if csp:
            self.send_header("Content-Security-Policy", csp)
        self.end_headers()
        self.wfile.write(body)


def chart_axes_for(query: dict[str, list[str]]) -> dict[str, Any]:
    """/api/axes: for each chart named in the query (loss=XMIN,XMAX,YMIN,YMAX, accuracy=...), the report's axes
    over those extremes (NaN where a chart has no finite point); ValueError for anything else in the query."""
    unknown = sorted(set(query) - set(CHARTS))
    if unknown or not query:
        raise ValueError(f"expected chart=XMIN,XMAX,YMIN,YMAX for some of: {', '.join(CHARTS)}")
    out = {}
    for chart, values in query.items():
        if len(values) != 1:
            raise ValueError(f"{chart} given more than once")
        try:
            x_min, x_max, y_min, y_max = (float(v) for v in values[0].split(","))
        except ValueError:
            raise ValueError(f"{chart} must be four numbers XMIN,XMAX,YMIN,YMAX, got {values[0][:80]!r}") from None
        out[chart] = curve_axes(chart, [x_min, x_max], [y_min, y_max]).to_json()
    return out


def _nan_to_none(value: Any) -> Any:
    """The payload with every non-finite float replaced by None (JSON has no NaN or infinity)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


def make_server(paths: list[str | os.PathLike], host: str = "127.0.0.1", port: int = 0) -> DashboardServer:
    """A dashboard server over the runs in paths, bound but not yet serving (call serve_forever)."""
    return DashboardServer(RunRegistry(paths), host=host, port=port)


def serve(
    paths: list[str | os.PathLike], host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, out=None
) -> int:
    """Run the dashboard until Ctrl-C; prints the URL (and opens it in a browser unless told not to)."""
    out = out if out is not None else sys.stdout
    server = make_server(paths, host=host, port=port)
    missing = [str(p) for p in server.registry.roots if not Path(p).exists()]
    if missing:
        print(f"note: {', '.join(missing)} does not exist yet; runs will appear there when training starts", file=out)
    found = server.registry.scan()
    print(f"ember dashboard: {len(found)} run(s) found; serving {server.url}  (Ctrl-C to stop)", file=out, flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        print("\nstopped", file=out)
    finally:
        server.server_close()
    return 0
