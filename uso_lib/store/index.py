"""The store's index: its rows arranged for reading, built once per loaded frame.

The comparisons, the peers, the indices and the report read the store through these objects
(:attr:`uso_lib.store.Store.index`, :meth:`~uso_lib.store.Store.table`,
:meth:`~uso_lib.store.Store.select`), never by filtering the long frame themselves: a report
reads some 60 indicators for five groups and about 150 row selections, a batch 309 reports,
and the same country-wide tables and group members serve them all.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from uso_lib import regions

if TYPE_CHECKING:
    from uso_lib.store import Store

T = TypeVar("T")

META_COLUMNS = ("source", "table", "vintage", "origin")  # where a figure comes from


class StoreIndex:
    """The store's frame split by indicator, with each indicator's country-wide
    :class:`Table` and :class:`RowIndex` built on first use. One per loaded frame
    (:attr:`Store.index`): a reload builds a new one, so nothing derived outlives the figures
    it came from, and whatever a caller memoises per index is dropped with it."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        rows = _plain_strings(frame)
        self._empty = rows.iloc[0:0]
        self._rows = {str(k): g for k, g in rows.groupby("indicator", sort=False)}
        self._tables: dict[tuple[str, str], Table | None] = {}
        self._row_indices: dict[str, RowIndex | None] = {}
        self._distinct: dict[str, list] = {}

    def indicators(self) -> list[str]:
        return sorted(self._rows)

    def distinct(self, column: str) -> list:
        """The distinct values of one column of the whole store, in order of appearance
        (cached: every report names the dates and origins of the data it draws on)."""
        got = self._distinct.get(column)
        if got is None:
            got = self._distinct[column] = self.frame[column].unique().tolist()
        return list(got)

    def has(self, indicator: str) -> bool:
        """Whether the store has rows of ``indicator`` (any category)."""
        return indicator in self._rows

    def rows(self, indicator: str) -> pd.DataFrame:
        got = self._rows.get(indicator)
        return got if got is not None else self._empty

    def table(self, indicator: str, category: str = "") -> Table | None:
        key = (indicator, category)
        if key not in self._tables:
            rows = self._rows.get(indicator)
            if rows is not None:
                rows = rows[rows["category"] == category]
            self._tables[key] = None if rows is None or rows.empty else Table.of(
                indicator, category, rows)
        return self._tables[key]

    def row_index(self, indicator: str) -> RowIndex | None:
        if indicator not in self._row_indices:
            rows = self._rows.get(indicator)
            self._row_indices[indicator] = None if rows is None else RowIndex(rows)
        return self._row_indices[indicator]

    def has_categories(self, indicator: str) -> bool:
        """Whether ``indicator`` has a breakdown (rows whose category is not "")."""
        got = self.row_index(indicator)
        return got is not None and got.has_categories

    def category_years(self, indicator: str, kunta: str) -> list[int]:
        """The years in which ``kunta`` has a value of some breakdown of ``indicator``."""
        got = self.row_index(indicator)
        return [] if got is None else got.category_years(kunta)


def _plain_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns (and its column labels) as numpy object arrays (the
    dtype local store files get from :func:`uso_lib.store.normalize`). The snapshot's parquet
    gives pyarrow-backed strings, and a report picks rows of the indicator frames over a
    thousand times: each pick would gather every text column through pyarrow. Each column's
    distinct strings are shared, so the copy costs a pointer per cell, not a string."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
            codes, uniques = pd.factorize(s, use_na_sentinel=False)
            s = pd.Series(np.asarray(uniques, dtype=object)[codes], index=frame.index,
                          name=col, dtype=object)
        out[col] = s
    # the column labels as a plain object Index too: every column read looks its label up
    return pd.DataFrame(out, index=frame.index).set_axis(
        pd.Index(list(frame.columns), dtype=object), axis=1)


def per_store(fn: Callable[[Store], T]) -> Callable[[Store], T]:
    """Memoise ``fn(store)`` once per loaded frame of the store (on its :class:`StoreIndex`):
    the peers' profile matrix and the composite indices are country-wide, the same for every
    report of a batch, and recomputed after a reload because the index is new then."""
    memo: weakref.WeakKeyDictionary[StoreIndex, T] = weakref.WeakKeyDictionary()

    @wraps(fn)
    def memoised(store: Store) -> T:
        index = store.index
        got = memo.get(index)
        if got is None:
            got = memo[index] = fn(store)
        return got

    return memoised


@dataclass(eq=False)
class Table:
    """One indicator (one category) for every municipality and year."""

    indicator: str
    category: str
    values: pd.DataFrame  # index year, columns kunta (registry codes + "SSS"), float
    status: dict[tuple[str, int], str]  # (kunta, year) -> publisher symbol, where one
    rows: pd.DataFrame  # the long store rows, indexed by (kunta, year)
    _years: dict[int, YearValues] = field(default_factory=dict, repr=False)
    _kunta_years: dict[str, list[int]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, indicator: str, category: str, rows: pd.DataFrame) -> Table:
        values = rows.pivot(index="year", columns="kunta", values="value").sort_index()
        flagged = rows[rows["status"] != ""]
        keys = zip(flagged["kunta"].tolist(), flagged["year"].tolist(), strict=True)
        status = dict(zip(keys, flagged["status"].tolist(), strict=True))
        return cls(indicator, category, values.astype(float), status,
                   rows.set_index(["kunta", "year"]).sort_index())

    @cached_property
    def years(self) -> list[int]:
        """Years where at least one municipality has a value."""
        muni = self.municipal
        return [int(y) for y in muni.index[muni.notna().any(axis=1)]]

    @cached_property
    def municipal(self) -> pd.DataFrame:
        """Values of the registry's municipalities only (the country row excluded)."""
        cols = [c for c in self.values.columns if c in regions.registry()]
        return self.values[cols]

    def cross(self, year: int) -> pd.Series:
        """One year for every municipality with data (NaN dropped), index kunta."""
        if year not in self.values.index:
            return pd.Series(dtype=float)
        return self.municipal.loc[year].dropna()

    def year(self, year: int) -> YearValues:
        """The year's municipal values as plain Python/numpy (cached): the group statistics of
        309 reports x 40 indicators x 5 groups run on these, not on pandas objects."""
        got = self._years.get(year)
        if got is None:
            got = self._years[year] = YearValues.of(self.cross(year))
        return got

    def value(self, kunta: str, year: int) -> tuple[float, str]:
        cells, rows, cols = self._cells
        i, j = rows.get(year), cols.get(kunta)
        if i is not None and j is not None:
            return float(cells[i, j]), self.status.get((kunta, year), "")
        return math.nan, ""

    def kunta_years(self, kunta: str) -> list[int]:
        """The years in which ``kunta`` has a value, oldest first (cached: every comparison's
        period and every chart's years start from them)."""
        got = self._kunta_years.get(kunta)
        if got is None:
            cells, _, cols = self._cells
            j = cols.get(kunta)
            got = [] if j is None else [int(y) for y in self.values.index[~np.isnan(cells[:, j])]]
            self._kunta_years[kunta] = got
        return list(got)

    @cached_property
    def _cells(self) -> tuple[np.ndarray, dict[int, int], dict[str, int]]:
        """:attr:`values` as an array with the positions of its years and municipalities: a
        report reads single figures thousands of times, a pandas cell lookup is slow."""
        return (self.values.to_numpy(dtype=float),
                {int(y): i for i, y in enumerate(self.values.index)},
                {str(c): j for j, c in enumerate(self.values.columns)})

    def meta(self, kunta: str, year: int) -> dict:
        """source/table/vintage/origin of one figure (or of the year's most common source)."""
        try:
            pos = self.rows.index.get_loc((kunta, year))
            if isinstance(pos, int):  # one row, as the store's key makes it
                return {k: str(col[pos]) for k, col in self._meta_columns.items()}
            r = self.rows.loc[(kunta, year)]
        except KeyError:
            yr = self.rows[self.rows.index.get_level_values("year") == year]
            if yr.empty:
                return {"source": "", "table": "", "vintage": "", "origin": ""}
            r = yr.iloc[0] if len(yr) == 1 else yr.mode().iloc[0]
        return {k: str(r[k]) for k in META_COLUMNS}

    @cached_property
    def _meta_columns(self) -> dict[str, np.ndarray]:
        """The rows' source columns as arrays: one figure's metadata is read by position (a
        pandas row lookup is slow, and every comparison and ranking asks for one)."""
        return {k: self.rows[k].to_numpy(dtype=object) for k in META_COLUMNS}


@dataclass(eq=False)
class YearValues:
    """One indicator-year over the municipalities with data. Compared by identity, so that
    statistics derived from it can be memoised per year (:func:`uso_lib.compare.year_stats`)."""

    values: dict[str, float]
    array: np.ndarray  # the same values, sorted
    _members: dict[tuple[str, ...], MemberValues] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, cross: pd.Series) -> YearValues:
        vals = cross.to_numpy(dtype=float)
        return cls(dict(zip(cross.index.tolist(), vals.tolist(), strict=True)), np.sort(vals))

    def members(self, members: tuple[str, ...]) -> MemberValues:
        """The values of a group's members this year (cached): a report asks for five groups
        of every indicator, and the natural groups (maakunta, kuntaryhmä, the whole country)
        recur in every report of a batch."""
        got = self._members.get(members)
        if got is None:
            got = self._members[members] = MemberValues.of(self.values, members)
        return got


@dataclass(frozen=True)
class MemberValues:
    """One group's members in one year: who has a value, the values, their mean and median
    (what does not depend on the municipality compared)."""

    have: tuple[str, ...]
    missing: tuple[str, ...]
    codes: np.ndarray  # ``have`` as an array, to leave the municipality out of a ranking
    values: np.ndarray  # float, in the order of ``have``
    mean: float | None
    median: float | None

    @classmethod
    def of(cls, d: dict[str, float], members: Iterable[str]) -> MemberValues:
        members = list(members)
        have = tuple(c for c in members if c in d)
        vals = np.array([d[c] for c in have], dtype=float)
        return cls(have, tuple(c for c in members if c not in d),
                   np.array(have, dtype=object), vals,
                   float(vals.mean()) if have else None,
                   float(np.median(vals)) if have else None)


class RowIndex:
    """Where each municipality's rows of one indicator are, as positions in the indicator's
    store rows, with the year, category and value columns as numpy arrays.

    A report picks the store rows behind its charts and tables some 150 times; a boolean mask
    over all the indicator's rows (string comparisons on every row) is slow, the positions of
    a few municipalities are not."""

    def __init__(self, rows: pd.DataFrame) -> None:
        self.rows = rows
        kunta = rows["kunta"].to_numpy(dtype=object)
        self.by_kunta: dict[str, np.ndarray] = pd.Series(kunta).groupby(kunta).indices
        self.year = rows["year"].to_numpy(dtype=np.int64)
        self.category = rows["category"].to_numpy(dtype=object)
        self.has_value = rows["value"].notna().to_numpy()
        self.has_categories = bool((self.category != "").any())

    def positions(self, codes: Iterable[str], years: Iterable[int] | None = None,
                  category: str | None = "") -> np.ndarray:
        """Positions of the rows of ``codes`` (in the rows' order), of ``years`` only when
        given, and of ``category`` only unless it is None (every category)."""
        found = [self.by_kunta[c] for c in dict.fromkeys(codes) if c in self.by_kunta]
        pos = np.sort(np.concatenate(found)) if found else np.array([], dtype=np.intp)
        if category is not None:
            pos = pos[self.category[pos] == category]
        if years is not None:
            pos = pos[np.isin(self.year[pos], [int(y) for y in years])]
        return pos

    def select(self, codes: Iterable[str], years: Iterable[int] | None = None,
               category: str | None = "") -> pd.DataFrame:
        """The rows of :meth:`positions`, as store rows (the store's index labels kept)."""
        return self.rows.iloc[self.positions(codes, years, category)]

    def category_years(self, kunta: str) -> list[int]:
        """The years in which ``kunta`` has a value of some breakdown (category not "")."""
        pos = self.positions([kunta], category=None)
        pos = pos[(self.category[pos] != "") & self.has_value[pos]]
        return sorted({int(y) for y in self.year[pos]})
