"""HTTP for the live sources: one polite, cached, retrying client per service.

Why not a plain ``requests.get``: the publishers limit callers (PxWeb: 40 calls per 60 s per IP,
HTTP 429 beyond), services have bad days (5xx, time-outs), and a report must still be renderable
when the network is gone. So every call

- waits for the :class:`RateLimiter` (a sliding window; PxWeb feeds it from ``?config``),
- retries 429 (honouring ``Retry-After``), 5xx and read time-outs with exponential back-off,
- keeps each good response in an SQLite cache (requests-cache's backend, in
  ``config.cache_dir()``) with an expiry, and when the live call still fails, answers from the
  cache even if stale -- and says so in :attr:`Fetched.note`,
- gives up on a host quickly once it cannot even be connected to (short connect time-out, one
  retry, then every later call of the run goes straight to the cache), so ``uso data refresh``
  without network finishes in seconds.

Clock and sleep are injectable so tests run the retry and rate-limit logic without waiting.
"""

from __future__ import annotations

import email.utils
import json
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests_cache import CachedResponse, SQLiteCache
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from uso_lib import config
from uso_lib.errors import SourceError

CACHE_FILE = "http_cache.sqlite"
DEFAULT_EXPIRE = timedelta(hours=24)
CONNECT_TIMEOUT = 4.0  # seconds; short so a missing network is noticed at once
READ_TIMEOUT = 90.0  # a large PxWeb query can take a while to compute
MAX_RETRY_AFTER = 300.0  # never wait longer than this on one Retry-After


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
        if max_calls < 1 or window <= 0:
            raise ValueError(f"rate limit must be positive, got {max_calls} per {window} s")
        self.max_calls, self.window = int(max_calls), float(window)

    def wait(self) -> float:
        """Block until one more call is allowed, record it, and return the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            while self._calls and self._calls[0] <= now - self.window:
                self._calls.popleft()
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                self.waited += waited
                return waited
            pause = self._calls[0] + self.window - now
            self.sleep(pause)
            waited += pause


class HttpCache:
    """The SQLite response cache, robust to a damaged database file.

    A corrupt cache must never stop a refresh: the damaged file is moved aside (kept for
    inspection, named ``*.corrupt-<time>``), the problem is reported in :attr:`warnings`, and a
    fresh cache is started. Read or write errors later on are reported and treated as misses.
    """

    def __init__(self, path: Path | None = None, *,
                 expire_after: timedelta = DEFAULT_EXPIRE) -> None:
        self.path = Path(path) if path else config.cache_dir() / CACHE_FILE
        self.expire_after = expire_after
        self.warnings: list[str] = []
        self._backend: SQLiteCache | None = None

    @property
    def backend(self) -> SQLiteCache | None:
        if self._backend is None:
            self._backend = self._open()
        return self._backend

    def _open(self) -> SQLiteCache | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.warnings.append(f"HTTP cache disabled: cannot create {self.path.parent}: {exc}")
            return None
        try:
            return self._probe(SQLiteCache(str(self.path)))
        except (sqlite3.DatabaseError, OSError) as exc:
            aside = self.path.with_name(
                f"{self.path.name}.corrupt-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}")
            try:
                self.path.replace(aside)
            except OSError:
                self.path.unlink(missing_ok=True)
                aside = None
            self.warnings.append(
                f"The HTTP cache {self.path} was unreadable ({exc}); "
                + (f"moved it aside to {aside.name} " if aside else "removed it ")
                + "and started an empty cache.")
        try:
            return self._probe(SQLiteCache(str(self.path)))
        except (sqlite3.DatabaseError, OSError) as exc:
            self.warnings.append(f"HTTP cache disabled: {self.path}: {exc}")
            return None

    @staticmethod
    def _probe(backend: SQLiteCache) -> SQLiteCache:
        with backend.responses.connection() as con:
            con.execute("PRAGMA quick_check").fetchall()
            con.execute(f"SELECT count(*) FROM {backend.responses.table_name}").fetchone()
        return backend

    def key(self, request: requests.PreparedRequest) -> str | None:
        backend = self.backend
        return backend.create_key(request) if backend else None

    def get(self, key: str | None) -> CachedResponse | None:
        if key is None or self.backend is None:
            return None
        try:
            return self.backend.get_response(key)
        except Exception as exc:  # a damaged row: pickle, sqlite and attrs errors all occur
            self.warnings.append(f"HTTP cache entry unreadable, ignored: {exc}")
            return None

    def save(self, response: requests.Response, key: str | None) -> None:
        if key is None or self.backend is None:
            return
        try:
            self.backend.save_response(response, key,
                                       expires=datetime.now(UTC) + self.expire_after)
        except Exception as exc:  # disk full, locked database: the data itself is fine
            self.warnings.append(f"Could not write the HTTP cache ({exc}); continuing without.")

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None


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

    @property
    def text(self) -> str:
        return self.content.decode("utf-8-sig", errors="replace")

    def json(self) -> Any:
        """The body as JSON; a malformed body is a :class:`SourceError` naming what was asked."""
        try:
            return json.loads(self.text)
        except ValueError as exc:
            snippet = " ".join(self.text[:120].split())
            raise SourceError(
                f"{self.what}: the answer is not valid JSON ({exc.msg}, character {exc.pos}); "
                f"it begins {snippet!r}.",
                hint=f"URL: {self.url}. The service may be failing or its format may have "
                     "changed; try again later.") from exc


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


class HttpClient:
    """A client for one service (base URL): rate-limited, retrying, cached, sequential.

    ``fresh=True`` ignores unexpired cache entries (always asks the publisher) but still uses
    the cache as the fallback when the publisher fails.
    """

    def __init__(self, name: str, base_url: str, *, cache: HttpCache | None = None,
                 use_cache: bool = True, limiter: RateLimiter | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
                 max_retries: int = 3, connect_retries: int = 1, backoff: float = 1.0,
                 max_backoff: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 fresh: bool = False, session: requests.Session | None = None) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.cache = (cache or HttpCache()) if use_cache else None
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries, self.connect_retries = max_retries, connect_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.sleep = sleep
        self.fresh = fresh
        self.session = session or requests.Session()
        self.session.headers.update({"User-Agent": config.user_agent(),
                                     "Accept": "application/json, */*;q=0.5"})
        self.calls = 0  # requests actually sent over the network
        self.cache_hits = 0
        self.notes: list[str] = []  # fallbacks and other things the user should hear about
        self.unreachable: str | None = None  # set once the host cannot be connected to

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

    def request(self, method: str, path: str = "", *, params: dict | list | None = None,
                body: Any = None, what: str | None = None) -> Fetched:
        prepared = self.prepare(method, path, params=params, body=body)
        what = what or f"{self.name} {method} {prepared.url}"
        key = self.cache.key(prepared) if self.cache else None
        cached = self.cache.get(key) if self.cache else None
        if cached is not None and not self.fresh and not cached.is_expired:
            self.cache_hits += 1
            return self._from_cache(cached, what)
        error = self._send(prepared, what, key)
        if isinstance(error, Fetched):
            return error
        if cached is None and self.cache is not None:
            cached = self.cache.get(key)
        if cached is not None:
            note = (f"{what}: the live request failed ({error}); used the cached answer "
                    f"retrieved {_iso(cached.created_at)}"
                    + (" (stale)" if cached.is_expired else "") + ".")
            self.notes.append(note)
            return self._from_cache(cached, what, stale=True, note=note)
        raise SourceError(f"{what}: {error}; no cached copy to fall back on.",
                          hint=f"URL: {prepared.url}. " + (
                              "The service limits how often it may be asked; wait a few "
                              "minutes and try again." if error.startswith("HTTP 429") else
                              "Check the network connection (or the service's URL variable, "
                              "e.g. USO_PXWEB_URL) and try again."))

    def _send(self, prepared: requests.PreparedRequest, what: str,
              key: str | None) -> Fetched | str:
        """Send with retries; a :class:`Fetched` on success, else the last error (text)."""
        host = urlsplit(prepared.url).netloc
        if self.unreachable:
            return f"{host} could not be reached earlier in this run ({self.unreachable})"
        attempt = 0
        while True:
            self.limiter.wait()
            self.calls += 1
            delay = min(self.max_backoff, self.backoff * 2 ** attempt)
            limit = self.max_retries
            try:
                resp = self.session.send(prepared, timeout=self.timeout, allow_redirects=True)
            except requests.RequestException as exc:
                if _is_connect_failure(exc):
                    error = f"cannot connect to {host} ({type(exc).__name__})"
                    limit = self.connect_retries
                    if attempt >= limit:
                        self.unreachable = error
                elif isinstance(exc, requests.Timeout):
                    error = f"no answer from {host} within {self.timeout[1]:g} s"
                else:
                    error = f"connection to {host} failed ({type(exc).__name__}: {exc})"
            else:
                code = resp.status_code
                if code < 400:
                    if self.cache is not None:
                        self.cache.save(resp, key)
                    return Fetched(url=prepared.url, status_code=code, content=resp.content,
                                   origin="live", retrieved=_today(), what=what,
                                   headers=dict(resp.headers))
                if code != 429 and code < 500:
                    raise SourceError(
                        f"{what}: the service answered HTTP {code} {resp.reason or ''}".rstrip()
                        + f": {' '.join(resp.text[:200].split())}",
                        hint=f"URL: {prepared.url}. " + _client_error_hint(code))
                error = f"HTTP {code} {resp.reason or ''}".rstrip()
                wait = _retry_after(resp.headers.get("Retry-After"))
                if wait is not None:
                    delay = min(wait, MAX_RETRY_AFTER)
            if attempt >= limit:
                tries = attempt + 1
                return f"{error} after {tries} attempt{'s' if tries > 1 else ''}"
            self.sleep(delay)
            attempt += 1

    def _from_cache(self, cached: CachedResponse, what: str, *, stale: bool = False,
                    note: str | None = None) -> Fetched:
        return Fetched(url=cached.url, status_code=cached.status_code, content=cached.content,
                       origin="cached", retrieved=_iso(cached.created_at), what=what,
                       stale=stale, note=note, headers=dict(cached.headers))

    def close(self) -> None:
        self.session.close()
        if self.cache is not None:
            self.cache.close()


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
