"""A PxWeb v1 client: the server's limits, browsing, search, metadata and checked data queries.

Nothing here knows the catalogue: :mod:`.binding` turns indicators into queries and answers
into store rows. What this module guarantees to it:

- the limits come from ``GET {base}/?config`` and are sanity-checked (``maxCalls`` and
  ``maxValues``/``maxCells`` at least 1, ``timeWindow`` above 0 and at most an hour): a server
  that says ``maxCalls: 0`` or ``timeWindow: 1e9`` would otherwise crash the rate limiter or
  make it sleep for ever. An unusable ``?config`` is said in the refresh's warnings, the
  documented limits (40 calls per 60 s, 120 000 cells) are used instead, and the answer is
  not kept in the HTTP cache, so the next run asks again;
- a query larger than the cell limit is split along its largest variable and the parts merged;
- every answer is held to its query (:func:`.jsonstat.check_answer`) before it is decoded,
  and only answers that decoded and matched are kept in the HTTP cache; a mismatching one is
  forgotten (:meth:`HttpClient.discard`) and refused with a message naming the table and what
  differed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from uso_lib import config
from uso_lib.errors import SourceError
from uso_lib.sources.http import Fetched, HttpClient
from uso_lib.sources.pxweb.jsonstat import Decoded, check_answer, decode
from uso_lib.sources.pxweb.meta import TableMeta, parse_metadata
from uso_lib.sources.pxweb.search import TableHit, choose_table

MAX_WINDOW = 3600.0  # seconds; a longer rate-limit window from ?config is not believed


@dataclass(frozen=True)
class Limits:
    """The server's query limits (``GET .../?config``)."""

    max_values: int = 120_000
    max_cells: int = 120_000
    max_calls: int = 40
    time_window: float = 60.0
    observed: bool = False  # False: the defaults, the server could not be asked

    @property
    def cell_limit(self) -> int:
        return min(self.max_cells, self.max_values)

    def describe(self) -> str:
        return (f"{self.max_calls} calls per {self.time_window:g} s, "
                f"{self.cell_limit} cells per query")

    @classmethod
    def from_config(cls, doc: object) -> Limits:
        """The limits a ``?config`` answer states; ValueError naming each unusable value."""
        if not isinstance(doc, dict):
            raise ValueError(f"expected an object with maxValues, maxCalls and timeWindow, "
                             f"found {type(doc).__name__}")
        problems: list[str] = []

        def number(key: str, default: float) -> float:
            raw = doc.get(key, default)
            try:
                if isinstance(raw, bool):
                    raise TypeError
                value = float(raw)
            except (TypeError, ValueError):
                problems.append(f"{key} {raw!r} is not a number")
                return default
            if not math.isfinite(value):
                problems.append(f"{key} {raw!r} is not a finite number")
                return default
            return value

        max_values = number("maxValues", cls.max_values)
        max_cells = number("maxCells", max_values)
        max_calls = number("maxCalls", cls.max_calls)
        window = number("timeWindow", cls.time_window)
        for key, value in (("maxValues", max_values), ("maxCells", max_cells),
                           ("maxCalls", max_calls)):
            if value < 1:
                problems.append(f"{key} {value:g} (must be at least 1)")
        if not 0 < window <= MAX_WINDOW:
            problems.append(f"timeWindow {window:g} s (must be above 0 and at most "
                            f"{MAX_WINDOW:g} s)")
        if problems:
            raise ValueError("; ".join(dict.fromkeys(problems)))
        return cls(max_values=int(max_values), max_cells=int(max_cells),
                   max_calls=int(max_calls), time_window=window, observed=True)


@dataclass
class Query:
    """One data POST: the body and its cell count."""

    database: str
    table: str
    selection: dict[str, list[str]]  # variable code -> values (omitted: eliminated)
    cells: int
    part: int = 1
    parts: int = 1

    @property
    def body(self) -> dict:
        return {"query": [{"code": code, "selection": {"filter": "item", "values": list(vals)}}
                          for code, vals in self.selection.items()],
                "response": {"format": "json-stat2"}}


def table_path(database: str, table: str) -> str:
    table = table if table.endswith(".px") else f"{table}.px"
    return f"{database.strip('/')}/{table.lstrip('/')}"


def table_id(table: str) -> str:
    """The table's own id (for source lines), without its folder path and ``.px``."""
    return table.rsplit("/", 1)[-1].removesuffix(".px")


def cells(selection: dict[str, list[str]]) -> int:
    return math.prod(len(v) for v in selection.values()) if selection else 1


def split_selection(selection: dict[str, list[str]],
                    limit: int) -> list[dict[str, list[str]]]:
    """Split along the variable with the most values; recurse when one slice is still too big.
    Every cell lands in exactly one part."""
    n = cells(selection)
    if n <= limit:
        return [selection]
    var = max(selection, key=lambda k: len(selection[k]))
    values = selection[var]
    if len(values) <= 1:
        raise SourceError(f"a single PxWeb cell slice exceeds the server's limit of {limit}")
    rest = n // len(values)
    if rest <= limit:
        step = max(1, limit // rest)
        return [{**selection, var: values[i:i + step]} for i in range(0, len(values), step)]
    out: list[dict[str, list[str]]] = []
    for v in values:
        out += split_selection({**selection, var: [v]}, limit)
    return out


def unkept_json(fetched: Fetched) -> Any:
    """The body as JSON without caching it yet: the caller keeps it once it also checked out.
    Malformed JSON raises the client's own error (naming what was asked) and is forgotten."""
    try:
        return json.loads(fetched.text)
    except ValueError:
        return fetched.json()  # raises SourceError and discards the answer


class PxWeb:
    """A PxWeb v1 service (``USO_PXWEB_URL``, default the Finnish StatFin API)."""

    name = "pxweb"

    def __init__(self, client: HttpClient | None = None, **client_options) -> None:
        self.client = client or HttpClient("PxWeb", config.url("USO_PXWEB_URL"),
                                           **client_options)
        self._limits: Limits | None = None
        self._meta: dict[tuple[str, str], TableMeta] = {}
        self._found: dict[tuple[str, str], TableHit] = {}

    # -- service -------------------------------------------------------------------------
    def limits(self) -> Limits:
        """The server's limits; also sets the rate limiter to them. The documented limits if
        the server cannot be asked or states unusable ones (said in the client's notes)."""
        if self._limits is None:
            what = "PxWeb limits (?config)"
            try:
                fetched = self.client.get("/", params="config", what=what)
                doc = unkept_json(fetched)
            except SourceError as exc:
                self.client.notes.append(f"{what} unavailable ({exc.message}); using the "
                                         f"documented limits ({Limits().describe()}).")
                self._limits = Limits()
            else:
                try:
                    self._limits = Limits.from_config(doc)
                except ValueError as exc:
                    retry = self.client.discard(fetched)
                    self.client.notes.append(
                        f"{what} at {fetched.url} states unusable limits: {exc}. Using the "
                        f"documented limits instead ({Limits().describe()}). {retry}")
                    self._limits = Limits()
                else:
                    fetched.keep()
            self.client.limiter.configure(self._limits.max_calls, self._limits.time_window)
        return self._limits

    def browse(self, path: str = "") -> list[dict]:
        """A folder's items: ``[{"id", "type" ("l" folder / "t" table), "text", "updated"}]``."""
        doc = self.client.get(path.strip("/") or "/", what=f"PxWeb folder {path or '/'}").json()
        if not isinstance(doc, list):
            raise SourceError(f"PxWeb folder {path or '/'}: expected a list of items.")
        return doc

    def search(self, query: str, database: str = "StatFin", *, codes: bool = False) -> list[dict]:
        """Tables matching a text (``codes=True``: matching value codes such as ``KU091``)."""
        params = {"query": query}
        if codes:
            params["filter"] = "codes"
        doc = self.client.get(database, params=params,
                              what=f"PxWeb search {query!r} in {database}").json()
        if not isinstance(doc, list):
            raise SourceError(f"PxWeb search in {database}: expected a list of tables.")
        return doc

    def find_table(self, database: str, query: str) -> TableHit:
        """The table a search names best (see :func:`.search.choose_table`); one search per
        run."""
        key = (database, query)
        if key not in self._found:
            self._found[key] = choose_table(self.search(query, database), query,
                                            database=database)
        return self._found[key]

    def metadata(self, database: str, table: str) -> TableMeta:
        key = (database, table)
        if key not in self._meta:
            what = f"PxWeb table {database}/{table} (metadata)"
            self.limits()
            fetched = self.client.get(table_path(database, table), what=what)
            doc = unkept_json(fetched)
            try:
                self._meta[key] = parse_metadata(doc, database, table, what=what)
            except SourceError as exc:
                retry = self.client.discard(fetched)
                raise SourceError(exc.message, hint=f"{exc.hint or ''} {retry}".strip()) from None
            fetched.keep()
        return self._meta[key]

    # -- data ----------------------------------------------------------------------------
    def split(self, query: Query) -> list[Query]:
        """The query as parts within the server's cell limit (one part when it fits)."""
        limit = self.limits().cell_limit
        parts = split_selection(query.selection, limit)
        return [Query(query.database, query.table, sel, cells(sel), i + 1, len(parts))
                for i, sel in enumerate(parts)]

    def data(self, query: Query) -> Decoded:
        """Send a query (split into parts over the cell limit), hold each answer to its part,
        and merge the decoded parts. A part that does not match is forgotten by the cache and
        fails the whole query (:class:`.jsonstat.AnswerMismatch`)."""
        what = f"PxWeb table {query.database}/{query.table}"
        frames, updated, origins, retrieved, notes = [], "", set(), [], []
        label = source = ""
        for part in self.split(query):
            fetched: Fetched = self.client.post(table_path(query.database, query.table),
                                                part.body, what=what)
            doc = unkept_json(fetched)
            try:
                check_answer(doc, part.selection, what=what)
                dec = decode(doc, what=what)
            except SourceError as exc:
                self.client.discard(fetched)
                if fetched.origin == "cached":
                    exc.message += " (It came from the HTTP cache, which forgot it.)"
                raise
            fetched.keep()
            frames.append(dec.frame)
            updated = max(updated, dec.updated)
            label, source = dec.label, dec.source
            origins.add(fetched.origin)
            retrieved.append(fetched.retrieved)
            if fetched.note:
                notes.append(fetched.note)
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return Decoded(frame=frame, updated=updated, label=label, source=source,
                       origin="cached" if "cached" in origins else "live",
                       retrieved=min(retrieved) if retrieved else "", notes=notes)


__all__ = ["Limits", "Query", "PxWeb", "table_path", "table_id", "cells", "split_selection",
           "unkept_json", "MAX_WINDOW"]
