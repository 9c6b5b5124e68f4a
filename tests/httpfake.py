"""A scripted HTTP server on 127.0.0.1 for the live-source tests (no test touches the internet).

Routes map (method, path) to a list of replies served in turn (the last one repeats), or to a
function of the request for answers that depend on the query (a json-stat2 slice for a split
PxWeb query). Every request is recorded, so tests can assert what was sent and how often.
A reply can also misbehave as hostile or broken servers do: trickle its bytes, fall silent
after its headers, or announce a length it does not send.

    with FakeServer() as srv:
        srv.route("GET", "/api/v1/fi/", Reply(json={"maxCells": 2}), query="config")
        srv.url  # "http://127.0.0.1:PORT"
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    json: object = None
    body: bytes | str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0  # seconds between single bytes of the body
    trickle_headers: bool = False  # trickle the status line and headers too
    hang: float = 0.0  # seconds of silence after the headers (ends early when the server stops)
    length: int | None = None  # Content-Length to announce (None: the real one; -1: none)

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        if self.json is not None:
            return json.dumps(self.json, ensure_ascii=False).encode("utf-8")
        return b""


@dataclass
class Recorded:
    method: str
    path: str  # as sent, still percent-encoded
    query: str  # raw query string
    body: bytes
    headers: dict[str, str]

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    @property
    def json(self) -> object:
        return json.loads(self.body.decode("utf-8"))


Handler = Callable[[Recorded], Reply]


class FakeServer:
    def __init__(self) -> None:
        self._routes: dict[tuple[str, str, str | None], list[Reply] | Handler] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # ends every hang and trickle when the test is done
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                rec = Recorded(self.command, parts.path, parts.query,
                               self.rfile.read(length) if length else b"",
                               dict(self.headers.items()))
                reply = server._reply(rec)
                data = reply.payload()
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                length = len(data) if reply.length is None else reply.length
                if length >= 0:
                    headers["Content-Length"] = str(length)
                if reply.trickle_headers:
                    head = f"HTTP/1.0 {reply.status} Whatever\r\n" + "".join(
                        f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
                    data = head.encode("latin-1") + data
                else:
                    self.send_response(reply.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if reply.hang and server.stopping.wait(reply.hang):
                        return
                try:
                    if not reply.trickle:
                        self.wfile.write(data)
                        return
                    for i in range(len(data)):
                        self.wfile.write(data[i:i + 1])
                        if server.stopping.wait(reply.trickle):
                            return
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            do_GET = do_POST = _serve

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, *replies: Reply | Handler,
              query: str | None = None) -> None:
        """Answer ``method path`` (``query``: only that exact raw query string; None: any)."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self._routes[(method, path, query)] = replies[0]
        else:
            self._routes[(method, path, query)] = list(replies)

    def _reply(self, rec: Recorded) -> Reply:
        with self._lock:
            self.requests.append(rec)
            target = (self._routes.get((rec.method, rec.path, rec.query))
                      or self._routes.get((rec.method, rec.path, None)))
            if target is None:
                return Reply(404, json={"error": f"no route for {rec.method} {rec.path}"})
            if callable(target):
                return target(rec)
            return target.pop(0) if len(target) > 1 else target[0]

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)]

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def jsonstat_subset(doc: dict, selection: dict[str, list[str]]) -> dict:
    """The part of a json-stat2 dataset for a selection (dimension id -> codes); other
    dimensions are kept whole. Used to answer split PxWeb queries from one real response."""
    ids, sizes = doc["id"], doc["size"]
    keep = []
    for dim in ids:
        index = doc["dimension"][dim]["category"]["index"]
        codes = sorted(index, key=index.get)
        wanted = [c for c in codes if dim not in selection or c in selection[dim]]
        keep.append([index[c] for c in wanted])
    strides = [1] * len(ids)
    for i in range(len(ids) - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    positions = [0]
    for dim_keep, stride in zip(keep, strides, strict=True):
        positions = [p + k * stride for p in positions for k in dim_keep]
    out = json.loads(json.dumps(doc))
    out["size"] = [len(k) for k in keep]
    for dim, dim_keep in zip(ids, keep, strict=True):
        cat = out["dimension"][dim]["category"]
        index = doc["dimension"][dim]["category"]["index"]
        codes = [c for c in sorted(index, key=index.get) if index[c] in dim_keep]
        cat["index"] = {c: i for i, c in enumerate(codes)}
        cat["label"] = {c: cat["label"][c] for c in codes}
    out["value"] = [doc["value"][p] for p in positions]
    status = doc.get("status")
    if isinstance(status, dict):
        out["status"] = {str(i): status[str(p)] for i, p in enumerate(positions)
                         if str(p) in status}
    return out
