"""Statistics Finland PxWeb API v1: browse, search, metadata and json-stat2 data.

Since 8 June 2026 table ids are short (``11re``) and variable codes embed a classification
date (``alue_23_20260101``), so they change over time. The catalogue therefore names the
*meaning* of each variable and this module resolves the codes from the table's metadata:

- region: the variable whose values look like ``KU###`` / ``SSS``,
- time: the variable with ``time: true``,
- content: the ``contentscode``-like variable (``Tiedot``); content codes are matched exactly,
  else ignoring a publisher prefix (``vaesto`` finds ``vaerak-vaesto``). Where the code is not
  known offline but the published Finnish label is (``content_label``: the key figures' items
  are only known by their labels in saved files), the label is matched against the
  metadata's value texts, ignoring case, spaces and a trailing year, and the refresh notes
  which code it found so the catalogue can be completed.

A table whose id is not known (``table_query``, not ``confirmed``) is found with the database's
own search: among the hits naming the query, the newest published one (the search also finds
every older release of a series); the refresh notes which table it chose.

Other variables: one that may be eliminated is left out (its total); one that may not must have
a single value, a total ``SSS``, or be named in the indicator's ``selections``.

Data come back as json-stat2 and are decoded with pyjstat (``naming="id"``); the ``status``
symbols (``.``, ``..``, ``:``) are read from the JSON here, because pyjstat drops them, and
their values stay missing. Queries larger than the server's cell limit (read from ``?config``)
are split along the largest variable and merged.
"""

from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from pyjstat import pyjstat
from rapidfuzz import fuzz, process

from uso_lib import config
from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.regions import fold
from uso_lib.sources.common import IndicatorResult, PlannedRequest, map_regions
from uso_lib.sources.http import Fetched, HttpClient

PUBLISHER = "Tilastokeskus"
_REGION_VALUE = re.compile(r"^(KU\d{3}|SSS|MK\d{2}|SK\d{3}|HV\d{2}|ELY\d{2}|AVI\d)$")
_MUNICIPALITY = re.compile(r"^KU(\d{3})$")
_DIVISION = re.compile(r"_(\d{4})\d{4}$")
_CONTENT_NAMES = {"contentscode", "tiedot", "information", "uppgifter"}
_TRAILING_YEAR = re.compile(r",\s*(19|20)\d{2}$")
TOTAL = "SSS"
_BROKEN_ANSWER = ("The answer contradicts itself, so none of it is used; the service may be "
                  "failing. Try again later (uso data refresh); the previous figures are kept.")


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


@dataclass(frozen=True)
class Variable:
    code: str
    text: str
    values: tuple[str, ...]
    value_texts: tuple[str, ...]
    elimination: bool = False
    time: bool = False

    def label(self, value: str) -> str:
        try:
            return self.value_texts[self.values.index(value)]
        except (ValueError, IndexError):
            return value


@dataclass(frozen=True)
class TableMeta:
    database: str
    table: str
    title: str
    variables: tuple[Variable, ...]

    @property
    def time(self) -> Variable | None:
        hits = [v for v in self.variables if v.time]
        if not hits:
            hits = [v for v in self.variables if fold(v.code) in ("vuosi", "timeperiod y", "year")
                    or fold(v.text) in ("vuosi", "year", "ar")]
        return hits[0] if hits else None

    @property
    def region(self) -> Variable | None:
        best, score = None, 0.0
        for v in self.variables:
            if v.time or not v.values:
                continue
            munis = sum(1 for x in v.values if _MUNICIPALITY.match(x))
            share = sum(1 for x in v.values if _REGION_VALUE.match(x)) / len(v.values)
            if munis and share >= 0.8 and munis > score:
                best, score = v, munis
        return best

    @property
    def content(self) -> Variable | None:
        for v in self.variables:
            if fold(v.code) in _CONTENT_NAMES or fold(v.text) in _CONTENT_NAMES:
                return v
        return None

    @property
    def division(self) -> int | None:
        """The regional division year: encoded in the region variable's code since 2026
        (``alue_23_20260101``); for older tables None (unknown)."""
        reg = self.region
        m = _DIVISION.search(reg.code) if reg else None
        return int(m.group(1)) if m else None

    def find(self, name: str) -> Variable | None:
        """A variable by code, by text, or by code stem (``sukupuoli`` finds
        ``sukupuoli_9_20180101``), case- and accent-insensitively."""
        key = fold(name)
        for test in (lambda v: v.code == name, lambda v: fold(v.code) == key,
                     lambda v: fold(v.text) == key,
                     lambda v: fold(v.code.split("_")[0]) == key):
            hits = [v for v in self.variables if test(v)]
            if hits:
                return hits[0]
        return None


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


@dataclass
class Decoded:
    """A decoded json-stat2 answer: one row per cell, variable codes as columns."""

    frame: pd.DataFrame  # variable-code columns + value (float) + status (str)
    updated: str  # ISO date of the table's update
    label: str
    source: str
    origin: str = "live"
    retrieved: str = ""
    notes: list[str] = field(default_factory=list)


def table_path(database: str, table: str) -> str:
    table = table if table.endswith(".px") else f"{table}.px"
    return f"{database.strip('/')}/{table.lstrip('/')}"


def decode(doc: object, *, what: str) -> Decoded:
    """Decode a json-stat2 dataset (already parsed JSON) into a long frame with status symbols.

    Raises :class:`SourceError` naming ``what`` when the document is not a json-stat2 dataset.
    """
    if not isinstance(doc, dict) or not all(k in doc for k in ("id", "size", "dimension",
                                                               "value")):
        keys = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
        raise SourceError(f"{what}: the answer is not a json-stat2 dataset (found {keys}).",
                          hint="The service may be failing or its format may have changed.")
    try:
        ids, sizes = list(doc["id"]), [int(s) for s in doc["size"]]
        if len(ids) != len(sizes):
            raise ValueError(f"{len(ids)} dimensions but {len(sizes)} sizes")
    except (TypeError, ValueError) as exc:
        raise SourceError(f"{what}: the json-stat2 answer's 'id' and 'size' do not match "
                          f"({exc}).", hint=_BROKEN_ANSWER) from None
    n = math.prod(sizes)
    try:
        with warnings.catch_warnings():  # pyjstat warns about its own internal call
            warnings.simplefilter("ignore", DeprecationWarning)
            frame = pyjstat.Dataset.read(OrderedDict(doc)).write("dataframe", naming="id")
    except Exception as exc:  # pyjstat raises KeyError/ValueError/IndexError on bad shapes
        raise SourceError(f"{what}: could not decode the json-stat2 answer ({exc!r}).") from exc
    if len(frame) != n:
        raise SourceError(f"{what}: the json-stat2 answer has {len(frame)} cells, "
                          f"its size says {n}.", hint=_BROKEN_ANSWER)
    # Status symbols by flat (row-major) position, independent of pyjstat's row order.
    flat = np.zeros(len(frame), dtype="int64")
    stride = 1
    for dim, size in zip(reversed(ids), reversed(sizes), strict=True):
        index = doc["dimension"][dim]["category"].get("index")
        if isinstance(index, list):
            index = {c: i for i, c in enumerate(index)}
        elif index is None:  # a single-category dimension may omit the index
            index = {c: 0 for c in doc["dimension"][dim]["category"].get("label", {})}
        flat += frame[dim].map(index).to_numpy(dtype="int64") * stride
        stride *= size
    status = doc.get("status")
    if isinstance(status, str):
        symbols = np.full(len(frame), status, dtype=object)
    elif isinstance(status, list):
        symbols = np.array([status[i] or "" for i in flat], dtype=object)
    elif isinstance(status, dict):
        symbols = np.array([status.get(str(i), "") or "" for i in flat], dtype=object)
    else:
        symbols = np.full(len(frame), "", dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["status"] = symbols
    for dim in ids:
        frame[dim] = frame[dim].astype(str).astype(object)
    updated = str(doc.get("updated") or "")[:10]
    return Decoded(frame=frame.reset_index(drop=True), updated=updated,
                   label=str(doc.get("label") or ""), source=str(doc.get("source") or ""))


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
        """The server's limits; also sets the rate limiter to them. Defaults if unreachable."""
        if self._limits is None:
            try:
                doc = self.client.get("/", params="config", what="PxWeb limits (?config)").json()
                self._limits = Limits(
                    max_values=int(doc.get("maxValues", Limits.max_values)),
                    max_cells=int(doc.get("maxCells", doc.get("maxValues", Limits.max_cells))),
                    max_calls=int(doc.get("maxCalls", Limits.max_calls)),
                    time_window=float(doc.get("timeWindow", Limits.time_window)),
                    observed=True)
            except (SourceError, AttributeError, TypeError, ValueError) as exc:
                why = exc.message if isinstance(exc, SourceError) else str(exc)
                self.client.notes.append(f"PxWeb limits unavailable ({why}); using the "
                                         "documented defaults.")
                self._limits = Limits()
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
        """The table a search names best (see :func:`choose_table`); one search per run."""
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
            doc = self.client.get(table_path(database, table), what=what).json()
            if not isinstance(doc, dict) or not isinstance(doc.get("variables"), list):
                raise SourceError(f"{what}: expected {{'title', 'variables': [...]}}.",
                                  hint="Is the table id right? Ids are short since June 2026 "
                                       "(11re, not statfin_vaerak_pxt_11re).")
            try:
                variables = tuple(
                    Variable(code=str(v["code"]), text=str(v.get("text", v["code"])),
                             values=tuple(map(str, v.get("values", []))),
                             value_texts=tuple(map(str, v.get("valueTexts", []))),
                             elimination=bool(v.get("elimination", False)),
                             time=bool(v.get("time", False)))
                    for v in doc["variables"])
            except (KeyError, TypeError) as exc:
                raise SourceError(f"{what}: a variable lacks {exc}.") from exc
            self._meta[key] = TableMeta(database, table, str(doc.get("title", "")), variables)
        return self._meta[key]

    # -- data ----------------------------------------------------------------------------
    def split(self, query: Query) -> list[Query]:
        """The query as parts within the server's cell limit (one part when it fits)."""
        limit = self.limits().cell_limit
        parts = _split(query.selection, limit)
        return [Query(query.database, query.table, sel, _cells(sel), i + 1, len(parts))
                for i, sel in enumerate(parts)]

    def data(self, query: Query) -> Decoded:
        """Send a query (split into parts over the cell limit) and merge the decoded parts."""
        what = f"PxWeb table {query.database}/{query.table}"
        frames, updated, origins, retrieved, notes = [], "", set(), [], []
        label = source = ""
        for part in self.split(query):
            fetched: Fetched = self.client.post(table_path(query.database, query.table),
                                                part.body, what=what)
            dec = decode(fetched.json(), what=what)
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


@dataclass(frozen=True)
class TableHit:
    """The table a database search chose, and what it was chosen from."""

    table: str  # folder path and id as the data URL wants it: "uusin/kuntien_avainluvut_aikasarja"
    title: str
    published: str
    score: float
    matches: int  # how many hits named the query

    def describe(self, database: str, query: str) -> str:
        return (f"the search {query!r} in {database} chose table {self.table} ({self.title}, "
                f"published {self.published or 'unknown'}) of {self.matches} match(es)")


def choose_table(hits: list[dict], query: str, *, database: str) -> TableHit:
    """The newest table among the search hits whose id, path or title contains every word of
    the query (all hits when none does); equally new ones by the search score.

    Newest first because a series' search finds every yearly release of it, and the refresh
    wants the current one; the word filter keeps an unrelated newer table out.
    """
    what = f"PxWeb search {query!r} in {database}"
    tables = []
    for h in hits:
        if not isinstance(h, dict) or not h.get("id"):
            raise SourceError(f"{what}: a hit lacks its table id ({h!r:.80}).")
        tables.append(h)
    if not tables:
        raise SourceError(f"{what} found no table.",
                          hint=f"Set the indicator's live.table to the table id (browse GET "
                               f"{config.url('USO_PXWEB_URL')}/{database}) or change "
                               "live.table_query.")
    words = fold(query).split()

    def names(h: dict) -> bool:
        text = fold(" ".join(str(h.get(k) or "") for k in ("id", "path", "title")))
        return all(w in text for w in words)

    named = [h for h in tables if names(h)]
    pool = named or tables

    def score(h: dict) -> float:
        try:
            return float(h.get("score") or 0)
        except (TypeError, ValueError):
            return 0.0

    best = max(pool, key=lambda h: (str(h.get("published") or ""), score(h)))
    table_id = str(best["id"]).removesuffix(".px")
    folder = str(best.get("path") or "").strip("/")
    return TableHit(table=f"{folder}/{table_id}" if folder else table_id,
                    title=str(best.get("title") or ""),
                    published=str(best.get("published") or "")[:10], score=score(best),
                    matches=len(pool))


def table_id(table: str) -> str:
    """The table's own id (for source lines), without its folder path and ``.px``."""
    return table.rsplit("/", 1)[-1].removesuffix(".px")


def _cells(selection: dict[str, list[str]]) -> int:
    return math.prod(len(v) for v in selection.values()) if selection else 1


def _split(selection: dict[str, list[str]], limit: int) -> list[dict[str, list[str]]]:
    """Split along the variable with the most values; recurse when one slice is still too big."""
    cells = _cells(selection)
    if cells <= limit:
        return [selection]
    var = max(selection, key=lambda k: len(selection[k]))
    values = selection[var]
    if len(values) <= 1:
        raise SourceError(f"a single PxWeb cell slice exceeds the server's limit of {limit}")
    rest = cells // len(values)
    if rest <= limit:
        step = max(1, limit // rest)
        return [{**selection, var: values[i:i + step]} for i in range(0, len(values), step)]
    out: list[dict[str, list[str]]] = []
    for v in values:
        out += _split({**selection, var: [v]}, limit)
    return out


# -- indicators ------------------------------------------------------------------------------

@dataclass
class TableGroup:
    """Indicators served by one query of one table (same selections and breakdown)."""

    database: str
    table: str
    selections: dict[str, list[str]]
    category_variable: str | None
    indicators: list[Indicator]
    table_query: str | None = None  # search for the table (its id is not confirmed)

    @property
    def label(self) -> str:
        return f"pxweb {self.database}/{self.table}"


def _searches(live) -> bool:
    return bool(live.table_query) and not (live.confirmed and live.table)


def group_indicators(indicators: list[Indicator]) -> list[TableGroup]:
    """One group per table and selection set, so each table is queried once for all
    municipalities and all of its indicators."""
    groups: dict[tuple, TableGroup] = {}
    for ind in indicators:
        live = ind.live
        query = live.table_query if _searches(live) else None
        key = (live.database, live.table, query,
               tuple(sorted((k, tuple(v)) for k, v in live.selections.items())),
               live.category_variable)
        if key not in groups:
            groups[key] = TableGroup(live.database, live.table or "", dict(live.selections),
                                     live.category_variable, [], query)
        groups[key].indicators.append(ind)
    return list(groups.values())


def locate(px: PxWeb, group: TableGroup) -> tuple[TableGroup, list[str]]:
    """The group with its table found by search when it has a ``table_query``, and a note
    saying which table was chosen. Without a hit (or a search answer) the catalogue's own
    ``table`` is tried, if it has one."""
    if not group.table_query:
        return group, []
    try:
        hit = px.find_table(group.database, group.table_query)
    except SourceError as exc:
        if not group.table:
            raise
        return group, [f"{group.label}: {exc.message}; trying the catalogue's table "
                       f"{group.table}."]
    found = replace(group, table=hit.table)
    return found, [f"{found.label}: {hit.describe(group.database, group.table_query)}; "
                   "confirm it and set live.table."]


def _match_code(wanted: str, values: tuple[str, ...]) -> str | None:
    if wanted in values:
        return wanted
    low = {v.casefold(): v for v in values}
    if wanted.casefold() in low:
        return low[wanted.casefold()]
    stem = wanted.casefold().split("-", 1)[-1]
    hits = [v for v in values if v.casefold().split("-", 1)[-1] == stem]
    return hits[0] if len(hits) == 1 else None


def label_key(text: str) -> str:
    """A value label compared ignoring case, every space and a trailing year (", 2021")."""
    text = unicodedata.normalize("NFC", str(text)).strip()
    text = _TRAILING_YEAR.sub("", text)
    return "".join(text.casefold().split())


def match_label(label: str, var: Variable, *, what: str, hint: str) -> str:
    """The value code of ``var`` whose text is ``label`` (see :func:`label_key`).

    No match: a :class:`SourceError` listing the table's closest labels, so a maintainer can
    correct the catalogue; several matches (the same item for two years): one naming them.
    """
    key = label_key(label)
    hits = [code for code, text in zip(var.values, var.value_texts, strict=False)
            if label_key(text) == key]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise SourceError(f"{what}: the label {label!r} names several {var.code} values: "
                          + ", ".join(f"{c} ({var.label(c)!r})" for c in hits) + ".", hint=hint)
    close = process.extract(key, {i: label_key(t) for i, t in enumerate(var.value_texts)},
                            scorer=fuzz.WRatio, limit=5)
    listed = "; ".join(f"{var.value_texts[i]!r} ({var.values[i]})" for _, _, i in close)
    raise SourceError(f"{what}: no {var.code} value is labelled {label!r}. Closest labels of "
                      f"the table: {listed or 'none (the variable has no value texts)'}.",
                      hint="Correct live.content_label in the catalogue to the table's exact "
                           "label, or set live.content to the code. " + hint)


@dataclass
class Resolved:
    """A table group's query in the table's own codes, and how to read the answer."""

    query: Query
    region: str
    time: str
    content: str | None
    category: str | None
    content_of: dict[str, str]  # indicator id -> content value code
    division: int | None
    by_label: dict[str, str] = field(default_factory=dict)  # indicator id -> code found by label
    failed: dict[str, SourceError] = field(default_factory=dict)  # indicator id -> why

    def label_note(self, source: str, ind: Indicator) -> list[str]:
        """Which code the indicator's content label resolved to (empty: not by label)."""
        code = self.by_label.get(ind.id)
        if code is None:
            return []
        return [f"{source}: {ind.id}: content label {ind.live.content_label!r} resolved to code "
                f"{code}; set live.content: {code} once confirmed."]


def _content_code(ind: Indicator, content: Variable, *, what: str, hint: str) -> str:
    """The content value of one indicator: its code, else its label, else the only value."""
    code = ind.live.content
    if code is None and ind.live.content_label:
        return match_label(ind.live.content_label, content, what=f"{what}: indicator {ind.id}",
                           hint=hint)
    if code is None:
        if len(content.values) != 1:
            raise SourceError(f"{what}: indicator {ind.id} names no content code and "
                              f"the table has {len(content.values)} "
                              f"({', '.join(content.values[:10])}).", hint=hint)
        code = content.values[0]
    hit = _match_code(code, content.values)
    if hit is None:
        raise SourceError(f"{what}: indicator {ind.id}: no content code {code!r}; the "
                          f"table has {', '.join(content.values[:20])}.", hint=hint)
    return hit


def resolve(meta: TableMeta, group: TableGroup, *,
            municipalities: list[str] | None = None) -> Resolved:
    """Build the query for a table group from the table's metadata (codes by meaning)."""
    what = f"PxWeb table {meta.database}/{meta.table}"
    hint = (f"See the table's variables: uso data refresh --dry-run, or GET "
            f"{config.url('USO_PXWEB_URL')}/{table_path(meta.database, meta.table)}")
    region, time_var, content = meta.region, meta.time, meta.content
    if region is None:
        raise SourceError(f"{what}: no variable has municipality codes (KU###).", hint=hint)
    if time_var is None:
        raise SourceError(f"{what}: no time variable (time: true).", hint=hint)
    selection: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    for name, values in group.selections.items():
        var = meta.find(name)
        if var is None:
            raise SourceError(f"{what}: the catalogue selects variable {name!r}, which the "
                              f"table lacks (it has {', '.join(v.code for v in meta.variables)}).",
                              hint=hint)
        bad = [v for v in values if v not in var.values]
        if bad:
            more = " ..." if len(var.values) > 15 else ""
            raise SourceError(f"{what}: variable {var.code} has no value(s) {bad}; it has "
                              f"{', '.join(var.values[:15])}{more}.", hint=hint)
        fixed[var.code] = list(values)
    # regions: every municipality of the table and the whole country, unless selected
    if region.code in fixed:
        selection[region.code] = fixed.pop(region.code)
    else:
        wanted = set(municipalities) if municipalities is not None else None
        selection[region.code] = [
            v for v in region.values
            if v == TOTAL or (_MUNICIPALITY.match(v)
                              and (wanted is None or v[2:] in wanted))]
    # time: every period, unless selected; periods must give one figure per year
    periods = fixed.pop(time_var.code, list(time_var.values))
    if not all(re.match(r"^\d{4}", p) for p in periods):
        raise SourceError(f"{what}: time periods {periods[:3]} do not start with a year.")
    years = [p[:4] for p in periods]
    if len(set(years)) != len(years):
        raise SourceError(
            f"{what}: the time variable {time_var.code} has several periods per year "
            f"({periods[0]}, {periods[1]}, ...); the store holds one figure per year.",
            hint=f"Select one period per year in the indicator's live.selections, e.g. "
                 f"{time_var.code}: [{', '.join(p for p in periods if p.endswith('12'))[:60]}].")
    selection[time_var.code] = periods
    # content: the indicators' content codes; an indicator whose code or label the table lacks
    # fails alone, so one stale catalogue entry does not stop the rest of its table
    content_of: dict[str, str] = {}
    by_label: dict[str, str] = {}
    failed: dict[str, SourceError] = {}
    if content is not None:
        for ind in group.indicators:
            try:
                content_of[ind.id] = _content_code(ind, content, what=what, hint=hint)
            except SourceError as exc:
                failed[ind.id] = exc
                continue
            if ind.live.content is None and ind.live.content_label:
                by_label[ind.id] = content_of[ind.id]
        if not content_of:
            raise next(iter(failed.values()))
        selection[content.code] = list(dict.fromkeys(fixed.pop(content.code, [])
                                                     + list(content_of.values())))
    # breakdown
    category = None
    if group.category_variable:
        var = meta.find(group.category_variable)
        if var is None:
            raise SourceError(f"{what}: no variable {group.category_variable!r} for the "
                              "breakdown.", hint=hint)
        category = var.code
        if var.code in fixed:
            selection[var.code] = fixed.pop(var.code)
        else:
            wanted: list[str] = []
            for ind in group.indicators:
                wanted += list(ind.categories or [])
            missing = [c for c in wanted if c not in var.values]
            if missing:
                raise SourceError(f"{what}: variable {var.code} lacks categories {missing}.",
                                  hint=hint)
            selection[var.code] = list(dict.fromkeys(wanted)) if wanted else list(var.values)
    # every other variable: selected, or eliminated, or its single value / total
    for var in meta.variables:
        if var.code in selection:
            continue
        if var.code in fixed:
            selection[var.code] = fixed.pop(var.code)
        elif var.elimination:
            continue
        elif len(var.values) == 1:
            selection[var.code] = [var.values[0]]
        elif TOTAL in var.values:
            selection[var.code] = [TOTAL]
        else:
            raise SourceError(f"{what}: variable {var.code} ({var.text}) cannot be left out "
                              f"and has {len(var.values)} values; name the wanted value in the "
                              "indicator's live.selections.", hint=hint)
    query = Query(meta.database, meta.table, selection, _cells(selection))
    return Resolved(query=query, region=region.code, time=time_var.code,
                    content=content.code if content else None, category=category,
                    content_of=content_of, division=meta.division, by_label=by_label,
                    failed=failed)


def store_rows(decoded: Decoded, resolved: Resolved, ind: Indicator) -> tuple[pd.DataFrame,
                                                                           list[str]]:
    """One indicator's store rows from a decoded table answer."""
    df = decoded.frame
    if resolved.content is not None:
        df = df[df[resolved.content] == resolved.content_of[ind.id]]
    if resolved.category is not None:
        cats = df[resolved.category]
        keep = set(ind.categories) if ind.categories else None
        if keep is not None:
            df = df[cats.isin(keep | {TOTAL})]
            cats = df[resolved.category]
        category = cats.where(~((cats == TOTAL) & (keep is None or TOTAL not in keep)), "")
    else:
        category = pd.Series("", index=df.index)
    regions_ = df[resolved.region]
    is_country = regions_ == TOTAL
    is_muni = regions_.str.match(_MUNICIPALITY.pattern)
    kunta = regions_.where(is_country, regions_.str[2:])
    rows = pd.DataFrame({
        "indicator": ind.id,
        "kunta": kunta,
        "year": df[resolved.time].str[:4].astype(int),
        "category": category,
        "value": df["value"],
        "status": df["status"],
    })[is_country | is_muni]
    table = table_id(resolved.query.table)
    rows, notes = map_regions(rows, kind=ind.kind, division=resolved.division,
                              what=f"{ind.id} ({table})")
    rows = rows.assign(source=f"{PUBLISHER}, {resolved.query.database} {table}", table=table,
                       vintage=decoded.updated or decoded.retrieved, origin=decoded.origin,
                       retrieved=decoded.retrieved)
    return rows, notes


def plan(px: PxWeb, indicators: list[Indicator]) -> list[PlannedRequest]:
    """The data requests a refresh would send (reads metadata and limits, sends no data query)."""
    out: list[PlannedRequest] = []
    for group in group_indicators(indicators):
        ids = [i.id for i in group.indicators]
        try:
            group, found = locate(px, group)
        except SourceError as exc:
            out.append(PlannedRequest(group.label, ids, "GET", px.client.url(group.database),
                                      None, note=f"cannot plan: {exc.message}"))
            continue
        url = px.client.url(table_path(group.database, group.table))
        try:
            resolved = resolve(px.metadata(group.database, group.table), group)
            parts = px.split(resolved.query)
        except SourceError as exc:
            out.append(PlannedRequest(group.label, ids, "POST", url, None,
                                      note="; ".join([*found, f"cannot plan: {exc.message}"])))
            continue
        labelled = (f"{len(resolved.by_label)} content code(s) found by label: "
                    + ", ".join(f"{i}={c}" for i, c in resolved.by_label.items())
                    if resolved.by_label else "")
        missing = [f"left out {i}: {e.message}" for i, e in resolved.failed.items()]
        note = "; ".join(n for n in [*found, labelled, *missing] if n)
        for p in parts:
            out.append(PlannedRequest(group.label, ids, "POST", url, p.cells, p.part, p.parts,
                                      note=note))
    return out


def fetch(px: PxWeb, indicators: list[Indicator]) -> list[IndicatorResult]:
    """Refresh pxweb indicators: one query (or its parts) per table for all municipalities."""
    results: list[IndicatorResult] = []
    for group in group_indicators(indicators):
        before = px.client.calls
        found: list[str] = []
        try:
            group, found = locate(px, group)
            resolved = resolve(px.metadata(group.database, group.table), group)
            decoded = px.data(resolved.query)
        except SourceError as exc:
            calls = px.client.calls - before
            for i, ind in enumerate(group.indicators):
                results.append(IndicatorResult(ind.id, group.label, "failed",
                                               calls=calls if i == 0 else 0, notes=list(found),
                                               error=str(exc)))
            continue
        calls = px.client.calls - before
        answer_notes = decoded.notes  # said once, on the first indicator fetched
        for i, ind in enumerate(group.indicators):
            if ind.id in resolved.failed:
                results.append(IndicatorResult(ind.id, group.label, "failed",
                                               calls=calls if i == 0 else 0, notes=list(found),
                                               error=str(resolved.failed[ind.id])))
                continue
            rows, notes = store_rows(decoded, resolved, ind)
            results.append(IndicatorResult(
                ind.id, group.label, decoded.origin, rows, calls=calls if i == 0 else 0,
                notes=found + resolved.label_note(group.label, ind) + answer_notes + notes))
            answer_notes = []
    return results


__all__ = ["PxWeb", "Limits", "TableMeta", "Variable", "Query", "Decoded", "decode", "resolve",
           "plan", "fetch", "group_indicators", "store_rows", "table_path", "TableHit",
           "choose_table", "locate", "label_key", "match_label", "table_id"]
