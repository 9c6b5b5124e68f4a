"""HTTP for the live sources: one polite, cached, retrying, time-bounded client per service.

Why not a plain ``requests.get``: the publishers limit callers (PxWeb: 40 calls per 60 s per IP,
HTTP 429 beyond), services have bad days (5xx, time-outs, an error page served with status 200,
an answer that trickles in a byte at a time), and a report must still be renderable when the
network is gone. So every call

- waits for the :class:`RateLimiter` (a sliding window; PxWeb feeds it from ``?config``), saying
  so on stderr when the wait is long, and refuses a wait longer than the time it has left;
- is bounded in time and size: one attempt may take ``USO_HTTP_TIMEOUT`` seconds in all
  (connecting, waiting and the whole body -- requests' own time-out is per socket read, so a
  server sending a byte every few seconds would never end), one request with its retries
  ``USO_HTTP_BUDGET``, a whole run the :class:`Deadline` it shares (``uso data refresh
  --timeout``), and no answer may exceed ``USO_HTTP_MAX_MB``;
- retries 429 (honouring ``Retry-After``), 5xx and time-outs with exponential back-off within
  those bounds;
- keeps an answer in an SQLite cache (requests-cache's backend, in ``config.cache_dir()``) only
  once it has decoded (:meth:`Fetched.json`); a decoder that finds it wrong anyway calls
  :meth:`HttpClient.discard`, so a broken answer is never served again from the cache;
- when the live call still fails, answers from the cache even if stale -- and says so in
  :attr:`Fetched.note`;
- gives up on a host for the rest of the run once it cannot be connected to or does not answer
  in time, or has failed two requests in a row, so ``uso data refresh`` without network
  finishes in seconds and against a hanging or failing server within about one request's
  budget.

Each attempt runs in a worker thread that the caller waits for with a time-out: that is the only
way to bound a server that trickles even its headers. Clock and sleep are injectable so tests
run the retry and rate-limit logic without waiting.
"""

from __future__ import annotations

import email.utils
import json
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_cache import CachedRequest, CachedResponse
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from uso_lib import config
from uso_lib.errors import SourceError
from uso_lib.sources.httpcache import CACHE_FILE, DEFAULT_EXPIRE, HttpCache

CONNECT_TIMEOUT = 4.0  # seconds; short so a missing network is noticed at once
MAX_RETRY_AFTER = 300.0  # never wait longer than this on one Retry-After
CHUNK = 64 * 1024
ERROR_BODY = 64 * 1024  # bytes of an error answer kept for its message
NOTIFY_AFTER = 1.0  # shorter waits are routine and not shown
MIN_ATTEMPT = 0.1  # seconds; a retry with less time left than this is not sent
RETRY_HINT = ("The answer was not kept in the HTTP cache, so the next `uso data refresh` asks "
              "the service again (`uso data refresh --fresh` asks again for every cached "
              "answer).")
NETWORK_HINT = ("Check the network connection (or the service's URL variable, e.g. "
                "USO_PXWEB_URL) and try again.")
SLOW_HINT = (" A slow service can be given more time: USO_HTTP_TIMEOUT (seconds per attempt) "
             "and USO_HTTP_BUDGET (seconds per request with its retries).")


class Deadline:
    """The time a run (one refresh) may take, shared by all its clients, and the hosts that
    already failed in it (so a second service on a dead host is not waited for again).

    ``seconds=None``: no limit for the run; requests are still bounded one by one.
    """

    def __init__(self, seconds: float | None = None, *, what: str = "the run's time limit",
                 hint: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.what, self.hint, self.clock = seconds, what, hint, clock
        self.start = clock()
        self.down: dict[str, _Failure] = {}  # host -> why it is skipped for the rest of the run
        self.strikes: dict[str, int] = {}  # host -> requests failed in a row

    def remaining(self) -> float:
        if self.seconds is None:
            return math.inf
        return max(0.0, self.start + self.seconds - self.clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        return f"{self.what} ({self.seconds:g} s)" if self.seconds is not None else self.what


class RateLimiter:
    """At most ``max_calls`` calls in any ``window`` seconds (a sliding log of call times).

    PxWeb counts calls per IP over a time window; a sliding log is the only scheme that can
    never exceed it, whatever the burst pattern.
    """

    def __init__(self, max_calls: int = 30, window: float = 10.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock, self.sleep = clock, sleep
        self._calls: deque[float] = deque()
        self.waited = 0.0
        self.configure(max_calls, window)

    def configure(self, max_calls: int, window: float) -> None:
        if max_calls < 1 or not 0 < window < math.inf:
            raise ValueError(f"rate limit must be positive, got {max_calls} per {window} s")
        self.max_calls, self.window = int(max_calls), float(window)

    def describe(self) -> str:
        return f"{self.max_calls} call{'s' if self.max_calls != 1 else ''} per {self.window:g} s"

    def _expire(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()

    def pause(self) -> float:
        """Seconds until one more call is allowed (0: now); records nothing. The client asks
        first, so that a window it cannot outlive is refused instead of slept through."""
        now = self.clock()
        self._expire(now)
        return 0.0 if len(self._calls) < self.max_calls else self._calls[0] + self.window - now

    def wait(self) -> float:
        """Block until one more call is allowed, record it, and return the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            self._expire(now)
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                self.waited += waited
                return waited
            pause = self._calls[0] + self.window - now
            self.sleep(pause)
            waited += pause


@dataclass
class Fetched:
    """One answered request: the body and where it came from."""

    url: str
    status_code: int
    content: bytes
    origin: str  # "live" (from the network now) or "cached" (from the HTTP cache)
    retrieved: str  # ISO date the response was received from the publisher
    what: str  # what was asked, for messages ("PxWeb table StatFin/11re")
    stale: bool = False  # served from the cache after the live call failed
    note: str | None = None  # why the cache was used, for the user
    headers: dict[str, str] = field(default_factory=dict)
    key: str | None = None  # the HTTP cache's key of the request
    _client: HttpClient | None = field(default=None, repr=False, compare=False)
    _pending: CachedResponse | None = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8-sig", errors="replace")

    def keep(self) -> None:
        """Cache a live answer now found good; :meth:`json` does this once it decodes."""
        if self._pending is not None and self._client is not None:
            self._client.keep(self)

    def json(self) -> Any:
        """The body as JSON, cached from now on; a malformed body is a :class:`SourceError`
        naming what was asked, and the answer is forgotten (see :meth:`HttpClient.discard`)."""
        try:
            doc = json.loads(self.text)
        except ValueError as exc:
            snippet = " ".join(self.text[:120].split())
            retry = self._client.discard(self) if self._client else RETRY_HINT
            raise SourceError(
                f"{self.what}: the {'cached ' if self.origin == 'cached' else ''}answer is not "
                f"valid JSON ({exc.msg}, character {exc.pos}); it begins {snippet!r}.",
                hint=f"URL: {self.url}. The service may be failing or its format may have "
                     f"changed; try again later. {retry}") from exc
        self.keep()
        return doc


def _retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _is_connect_failure(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


@dataclass
class _Failure:
    """Why one attempt or request got no usable answer: text for messages, a hint for the user,
    and whether trying again can help (``kind``: connect, timeout, final or other)."""

    text: str
    hint: str = NETWORK_HINT
    kind: str = "other"


class _TooLarge(Exception):
    def __init__(self, size: int, announced: bool) -> None:
        super().__init__(size)
        self.size, self.announced = size, announced


class HttpClient:
    """A client for one service (base URL): rate-limited, retrying, cached, sequential, and
    bounded in time and size (module docstring).

    ``fresh=True`` ignores unexpired cache entries (always asks the publisher) but still uses
    the cache as the fallback when the publisher fails. ``deadline`` is shared by the clients
    of one run (a refresh); ``progress`` hears about long waits (default: a line on stderr).
    """

    def __init__(self, name: str, base_url: str, *, cache: HttpCache | None = None,
                 use_cache: bool = True, limiter: RateLimiter | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float | None = None,
                 total_timeout: float | None = None, budget: float | None = None,
                 max_bytes: int | None = None, max_retries: int = 3, connect_retries: int = 1,
                 backoff: float = 1.0, max_backoff: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, fresh: bool = False,
                 session: requests.Session | None = None, deadline: Deadline | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.cache = (cache or HttpCache()) if use_cache else None
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.total_timeout = total_timeout or config.http_timeout()
        self.budget = budget or config.http_budget()
        self.max_bytes = max_bytes or config.http_max_bytes()
        self.timeout = (connect_timeout, read_timeout or self.total_timeout)
        self.max_retries, self.connect_retries = max_retries, connect_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.sleep, self.clock = sleep, clock
        self.fresh = fresh
        self.deadline = deadline or Deadline(clock=clock)
        self.progress = progress or _to_stderr
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": config.user_agent(),
                                     "Accept": "application/json, */*;q=0.5"})
        self.calls = 0  # requests actually sent over the network
        self.cache_hits = 0
        self.discarded = 0  # answers found bad by their decoders (see discard)
        self.notes: list[str] = []  # fallbacks and other things the user should hear about
        self.unreachable: str | None = None  # set once the host fails to connect or answer

    @property
    def warnings(self) -> list[str]:
        return self.notes + (self.cache.warnings if self.cache else [])

    def url(self, path: str = "") -> str:
        """``""`` is the base URL itself, ``"/"`` the base as a folder (``.../fi/``)."""
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def get(self, path: str = "", params: dict | list | None = None, *,
            what: str | None = None) -> Fetched:
        return self.request("GET", path, params=params, what=what)

    def post(self, path: str, body: Any, *, what: str | None = None) -> Fetched:
        return self.request("POST", path, body=body, what=what)

    def prepare(self, method: str, path: str, *, params: dict | list | None = None,
                body: Any = None) -> requests.PreparedRequest:
        req = requests.Request(method, self.url(path), params=params,
                               json=body if body is not None else None)
        return self.session.prepare_request(req)

    def keep(self, fetched: Fetched) -> None:
        """Cache a live answer that decoded (and, for the caller, validated)."""
        pending, fetched._pending = fetched._pending, None
        if pending is not None and self.cache is not None:
            self.cache.save(pending, fetched.key)

    def discard(self, fetched: Fetched) -> str:
        """This answer turned out bad (undecodable, or not what was asked): forget it.

        A live answer not cached yet never will be; one already cached (kept after decoding,
        or served from the cache) is removed, so the next run asks the service again instead of
        failing the same way. Returns the sentence for the error message: how to retry.
        """
        if self.cache is not None and (fetched.origin == "cached" or fetched._pending is None):
            self.cache.delete(fetched.key)
        fetched._pending = None
        self.discarded += 1
        return RETRY_HINT

    def request(self, method: str, path: str = "", *, params: dict | list | None = None,
                body: Any = None, what: str | None = None) -> Fetched:
        prepared = self.prepare(method, path, params=params, body=body)
        what = what or f"{self.name} {method} {prepared.url}"
        key = self.cache.key(prepared) if self.cache else None
        cached = self.cache.get(key) if self.cache else None
        if cached is not None and not self.fresh and not cached.is_expired:
            self.cache_hits += 1
            return self._from_cache(cached, what, key)
        result = self._send(prepared, what, key)
        if isinstance(result, Fetched):
            return result
        if cached is None and self.cache is not None:
            cached = self.cache.get(key)
        if cached is not None:
            note = (f"{what}: the live request failed ({result.text}); used the cached answer "
                    f"retrieved {_iso(cached.created_at)}"
                    + (" (stale)" if cached.is_expired else "") + ".")
            self.notes.append(note)
            return self._from_cache(cached, what, key, stale=True, note=note)
        raise SourceError(f"{what}: {result.text}; no cached copy to fall back on.",
                          hint=f"URL: {prepared.url}. {result.hint}")

    def _left(self, budget_end: float) -> tuple[float, str]:
        """Seconds this request may still take, and which limit that is."""
        mine, run = max(0.0, budget_end - self.clock()), self.deadline.remaining()
        if run < mine:
            return run, self.deadline.describe()
        return mine, f"this request's time budget ({self.budget:g} s, USO_HTTP_BUDGET)"

    def _limit_hint(self, limit: str) -> str:
        return (self.deadline.hint if limit == self.deadline.describe() and self.deadline.hint
                else NETWORK_HINT + SLOW_HINT)

    def _failed(self, host: str, error: _Failure, failure: _Failure) -> _Failure:
        """A request failed for good (``error``: its last attempt). The host is given up for
        the rest of the run when it could not be connected to or did not answer in time, or
        when two requests in a row failed: a broken server then costs a run about one
        request's budget, not one per table."""
        strikes = self.deadline.strikes[host] = self.deadline.strikes.get(host, 0) + 1
        if error.kind in ("connect", "timeout"):
            self.unreachable = error.text
            self.deadline.down[host] = _Failure(
                f"could not be reached earlier in this run ({error.text})", error.hint)
        elif strikes >= 2:
            self.unreachable = failure.text
            self.deadline.down[host] = _Failure(
                f"failed on two requests in a row earlier in this run ({failure.text})",
                failure.hint)
        return failure

    def _send(self, prepared: requests.PreparedRequest, what: str,
              key: str | None) -> Fetched | _Failure:
        """Send with retries within the time budget; a :class:`Fetched`, or why not."""
        host = urlsplit(prepared.url).netloc
        down = self.deadline.down.get(host)
        if down or self.unreachable:
            return _Failure(f"{host} {down.text}" if down else f"{host} could not be reached "
                            f"earlier in this run ({self.unreachable})",
                            down.hint if down else NETWORK_HINT)
        budget_end = self.clock() + self.budget
        attempt = 0
        while True:
            left, limit = self._left(budget_end)
            if left <= 0:
                return _Failure(f"not sent: {limit} had run out", self._limit_hint(limit))
            pause = self.limiter.pause()
            if pause > left:
                return _Failure(
                    f"not sent: the server's rate limit ({self.limiter.describe()}) would mean "
                    f"waiting {pause:.0f} s, more than the {left:.0f} s left of {limit}",
                    "The service's own limits (PxWeb: ?config) ask for an unusually long "
                    "wait; try again later.")
            if pause >= NOTIFY_AFTER:
                self.progress(f"waiting {pause:.0f} s for the server's rate limit "
                              f"({self.limiter.describe()})")
            self.limiter.wait()
            seconds = min(self.total_timeout, self._left(budget_end)[0])
            self.calls += 1
            got = self._attempt(prepared, host, seconds)
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            retries, asked = self.max_retries, None
            if isinstance(got, _Failure):
                error = got
                if error.kind == "final":
                    return self._failed(host, error, error)
                if error.kind == "connect":
                    retries = self.connect_retries
            else:
                resp, content = got
                code = resp.status_code
                if code < 500 and code != 429:  # an answer: the host works
                    self.deadline.strikes.pop(host, None)
                if code < 400:
                    return self._fetched(prepared, resp, content, what, key)
                message = " ".join(content[:ERROR_BODY].decode("utf-8", "replace")[:200].split())
                if code != 429 and code < 500:
                    raise SourceError(
                        f"{what}: the service answered HTTP {code} {resp.reason or ''}".rstrip()
                        + f": {message}", hint=f"URL: {prepared.url}. " + _client_error_hint(code))
                error = _Failure(f"HTTP {code} {resp.reason or ''}".rstrip(), hint=(
                    "The service limits how often it may be asked; wait a few minutes and try "
                    "again." if code == 429 else NETWORK_HINT))
                asked = _retry_after(resp.headers.get("Retry-After"))
                if asked is not None:
                    delay = min(asked, MAX_RETRY_AFTER)
            tries = attempt + 1
            done = f"{error.text} after {tries} attempt{'s' if tries > 1 else ''}"
            if attempt >= retries:
                return self._failed(host, error, _Failure(done, error.hint))
            left, limit = self._left(budget_end)
            if delay + MIN_ATTEMPT > left:  # no time for a real attempt after the wait
                why = (f"the server asked to wait {asked:g} s (Retry-After), more than the "
                       f"{left:.0f} s left of {limit}" if asked is not None else
                       f"{limit} ran out")
                return self._failed(host, error, _Failure(
                    f"{done}; not tried again: {why}",
                    self._limit_hint(limit) if asked is None else error.hint))
            if delay >= NOTIFY_AFTER:
                self.progress(f"{what}: {error.text}; trying again in {delay:.0f} s")
            self.sleep(delay)
            attempt += 1

    def _attempt(self, prepared: requests.PreparedRequest, host: str,
                 seconds: float) -> tuple[requests.Response, bytes] | _Failure:
        """One send, headers and body, within ``seconds`` in all.

        It runs in a worker thread that is waited for with a time-out: requests bounds each
        socket read, not the whole, so a server trickling bytes (even its headers) would
        otherwise hold the caller for ever. A worker given up on stops at its next read.
        """
        connect, read = min(self.timeout[0], seconds), min(self.timeout[1], seconds)
        box: dict[str, Any] = {"received": 0}
        stop = threading.Event()

        def work() -> None:
            resp = None
            try:
                resp = self.session.send(prepared, timeout=(connect, read), stream=True,
                                         allow_redirects=True)
                box["resp"] = resp
                box["body"] = self._body(resp, stop, box)
            except BaseException as exc:  # handed over to the caller's thread
                box["error"] = exc
            finally:
                if resp is not None:
                    resp.close()

        worker = threading.Thread(target=work, name=f"uso-http {host}", daemon=True)
        worker.start()
        worker.join(seconds)
        got = box["received"]
        if worker.is_alive():
            stop.set()
            return _Failure(f"no complete answer from {host} within {seconds:.3g} s ("
                            + (f"{got:,} bytes received" if "resp" in box else "not even its "
                               "headers") + ")", NETWORK_HINT + SLOW_HINT, "timeout")
        exc = box.get("error")
        if exc is None:
            return box["resp"], box["body"]
        if isinstance(exc, _TooLarge):
            return _Failure(
                f"the answer from {host} is larger than {self.max_bytes / 1e6:g} MB"
                + (f" (it announced {exc.size / 1e6:,.1f} MB)" if exc.announced else "")
                + "; refused", "No answer within the services' limits is this large: the "
                "service may be failing, so try again later. If it is expected, raise "
                "USO_HTTP_MAX_MB (megabytes).", "final")
        if isinstance(exc, requests.RequestException):
            if _is_connect_failure(exc):
                return _Failure(f"cannot connect to {host} ({type(exc).__name__})",
                                kind="connect")
            if isinstance(exc, requests.Timeout):
                return _Failure(f"no answer from {host} within {read:.3g} s",
                                NETWORK_HINT + SLOW_HINT, "timeout")
            return _Failure(f"connection to {host} failed ({type(exc).__name__}: {exc})")
        if isinstance(exc, ReadTimeoutError):
            return _Failure(f"the answer from {host} stopped arriving for {read:.3g} s "
                            f"({got:,} bytes received)", NETWORK_HINT + SLOW_HINT, "timeout")
        if isinstance(exc, Urllib3Error):
            return _Failure(f"the answer from {host} broke off ({type(exc).__name__}: {exc})")
        raise exc

    def _body(self, resp: requests.Response, stop: threading.Event, box: dict) -> bytes:
        """The body, read as it arrives; at most ``max_bytes`` (an error page: its start)."""
        limit = self.max_bytes if resp.status_code < 400 else ERROR_BODY
        length = (resp.headers.get("Content-Length") or "").strip()
        if resp.status_code < 400 and length.isdigit() and int(length) > limit:
            raise _TooLarge(int(length), announced=True)
        # read1 (recent urllib3) returns what has arrived; read waits for a whole chunk, which
        # the caller's time-out still bounds
        read = getattr(resp.raw, "read1", None) or resp.raw.read
        body = bytearray()
        while not stop.is_set():
            chunk = read(CHUNK, decode_content=True)
            if not chunk:
                break
            body += chunk
            box["received"] = len(body)
            if len(body) > limit:
                if resp.status_code >= 400:
                    break  # enough of an error page for its message
                raise _TooLarge(len(body), announced=False)
        return bytes(body)

    def _fetched(self, prepared: requests.PreparedRequest, resp: requests.Response,
                 content: bytes, what: str, key: str | None) -> Fetched:
        pending = None
        if self.cache is not None and key is not None:  # cached once decoded: Fetched.json
            pending = CachedResponse(
                content=content, status_code=resp.status_code, reason=resp.reason,
                url=resp.url, headers=resp.headers, encoding=resp.encoding,
                elapsed=resp.elapsed, request=CachedRequest.from_request(resp.request))
        return Fetched(url=prepared.url, status_code=resp.status_code, content=content,
                       origin="live", retrieved=_today(), what=what,
                       headers=dict(resp.headers), key=key, _client=self, _pending=pending)

    def _from_cache(self, cached: CachedResponse, what: str, key: str | None, *,
                    stale: bool = False, note: str | None = None) -> Fetched:
        return Fetched(url=cached.url, status_code=cached.status_code, content=cached.content,
                       origin="cached", retrieved=_iso(cached.created_at), what=what,
                       stale=stale, note=note, headers=dict(cached.headers), key=key,
                       _client=self)

    def close(self) -> None:
        self.session.close()
        if self.cache is not None:
            self.cache.close()


def _to_stderr(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _client_error_hint(code: int) -> str:
    """What a user can do about a 4xx answer (other than 429, which is retried)."""
    if code in (401, 403):
        return ("The service refused access: it may be blocking this address or require a "
                "permission uso does not have; try again later, or check the service's URL "
                "variable (e.g. USO_PXWEB_URL).")
    return ("The table, indicator or variable may have been renamed; check the catalogue "
            "definition against the service's metadata.")


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _iso(when: datetime | None) -> str:
    return when.date().isoformat() if when else _today()


__all__ = ["CACHE_FILE", "DEFAULT_EXPIRE", "Deadline", "Fetched", "HttpCache", "HttpClient",
           "RateLimiter"]
