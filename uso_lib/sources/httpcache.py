"""The SQLite response cache of :mod:`uso_lib.sources.http` (requests-cache's backend).

A cache exists to make refreshes cheap and to answer when a service is down; a damaged cache
must never be the reason a refresh fails, so every problem with it becomes a warning and a miss.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from requests_cache import CachedResponse, SQLiteCache

from uso_lib import config

CACHE_FILE = "http_cache.sqlite"
DEFAULT_EXPIRE = timedelta(hours=24)


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

    def save(self, response: requests.Response | CachedResponse, key: str | None) -> bool:
        if key is None or self.backend is None:
            return False
        try:
            self.backend.save_response(response, key,
                                       expires=datetime.now(UTC) + self.expire_after)
        except Exception as exc:  # disk full, locked database: the data itself is fine
            self.warnings.append(f"Could not write the HTTP cache ({exc}); continuing without.")
            return False
        return True

    def delete(self, key: str | None) -> None:
        """Forget one answer (it turned out bad), so that the next run asks the service."""
        if key is None or self.backend is None:
            return
        try:
            self.backend.delete(key)
        except Exception as exc:  # a locked or damaged database: say so, go on
            self.warnings.append(f"Could not remove a bad answer from the HTTP cache ({exc}); "
                                 "`uso data refresh --fresh` asks the service again.")

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
