"""The local tidy indicator store.

One long table, one row per figure::

    indicator  kunta  year  category  value  status  source  table  vintage  origin  retrieved

- ``kunta``: three-digit municipality code of the store's division (2023), or ``"SSS"`` for the
  whole country; ``category``: a breakdown (age group, industry, sector) or ``""`` for the total.
- ``value`` is missing (NaN) when the publisher suppressed or lacks it; ``status`` keeps the
  publisher's symbol (``.``, ``..``, ``:``) or ``""``. Missing is never filled in.
- ``source`` is the publisher and dataset ("Tilastokeskus, StatFin 11re"), ``table`` the table
  or indicator id, ``vintage`` the publication or retrieval date of the data, ``origin`` one of
  ``snapshot`` (embedded), ``live``, ``cached`` (a live refresh served from the HTTP cache) or
  ``file`` (an imported spreadsheet), ``retrieved`` the ISO date it entered the store.

The embedded snapshot (``uso_lib/data/snapshot/*.parquet``) is read-only; refreshes and imports
write parquet files into the user data directory (``USO_DATA_DIR``), which take precedence over
the snapshot figure for the same indicator, municipality, year and category.

Reading goes through the store's index (:mod:`uso_lib.store.index`, built once per loaded
frame): :meth:`Store.table` (one indicator for every municipality and year, with each year's
values and its groups' members cached), :meth:`Store.select` (the rows behind a chart or a
table), :meth:`Store.rows`; :func:`~uso_lib.store.index.per_store` memoises what is computed
from the whole country (the peers' profiles, the composite indices) until the store reloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from uso_lib import config, plausible
from uso_lib.atomic import atomic_write
from uso_lib.errors import DataError, NoData
from uso_lib.provenance import year_span
from uso_lib.store.index import StoreIndex, Table

COLUMNS = ["indicator", "kunta", "year", "category", "value", "status", "source", "table",
           "vintage", "origin", "retrieved"]
KEY = ["indicator", "kunta", "year", "category"]
ORIGINS = ("snapshot", "cached", "live", "file")  # later ones win
STRING_COLS = [c for c in COLUMNS if c not in ("year", "value")]


def empty() -> pd.DataFrame:
    return normalize(pd.DataFrame({c: [] for c in COLUMNS}))


def normalize(df: pd.DataFrame) -> pd.DataFrame:
    """Coerce a frame to the store's schema and order (stable across pandas versions)."""
    missing = [c for c in COLUMNS if c not in df.columns and c not in ("category", "status")]
    if missing:
        raise DataError(f"store rows lack columns {missing}")
    df = df.copy()
    df["category"] = df.get("category", "")
    df["status"] = df.get("status", "")
    for c in STRING_COLS:
        df[c] = df[c].fillna("").astype(str).astype(object)
    df["year"] = pd.to_numeric(df["year"], errors="raise").astype("int64")
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
    return df[COLUMNS].reset_index(drop=True)


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    """Write atomically (:func:`uso_lib.atomic.atomic_write`): a crash leaves the old file or
    none, never half a file."""
    return atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False, engine="pyarrow",
                                                        compression="zstd"),
                        hint="Check free disk space and the folder's permissions, or point "
                             "USO_DATA_DIR at a writable folder.")


def _read(path: Path, *, trusted: bool = False) -> pd.DataFrame:
    """Read one store file. ``trusted`` files (the embedded snapshot, written by our own
    builder through :func:`normalize`) only get their columns checked: re-normalising 600 000
    rows on every start would cost seconds per report."""
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for truncated/corrupt files
        raise DataError(f"Cannot read store file {path}: {exc}") from exc
    if trusted:
        if list(df.columns) != COLUMNS:
            raise DataError(f"Store file {path} has columns {list(df.columns)}, "
                            f"expected {COLUMNS}; rebuild the snapshot.")
        return df
    return normalize(df)


def read_local(path: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """One local store file and the warnings about it: an unreadable file is skipped (None),
    implausible figures in it are shown as missing (:func:`uso_lib.plausible.scrub`). The
    warnings name the file relative to the data directory, never the home directory: they
    reach reports and the factory's run summary."""
    shown = plausible.display_path(path)
    try:
        return plausible.scrub(_read(path), shown)
    except DataError as exc:
        why = str(exc.__cause__ or exc)
        for full in {str(path), str(path.resolve())}:
            why = why.replace(full, shown)
        return None, [f"Cannot read store file {shown}: {why} -- skipped; the snapshot "
                      "figures are used instead. Delete the file, or refresh or import its "
                      "data again."]


@dataclass(frozen=True)
class Observation:
    indicator: str
    kunta: str
    year: int
    value: float
    status: str
    source: str
    table: str
    vintage: str
    origin: str
    category: str = ""

    @property
    def missing(self) -> bool:
        return bool(np.isnan(self.value))

    def to_dict(self) -> dict:
        return {
            "indicator": self.indicator, "kunta": self.kunta, "year": self.year,
            "value": None if self.missing else self.value, "status": self.status or None,
            "source": self.source, "table": self.table, "vintage": self.vintage,
            "origin": self.origin, "category": self.category,
        }


class Store:
    """Read access to snapshot + local figures; writes go to the local directory only.

    ``source="snapshot"`` reads the embedded snapshot alone (reproducible reports);
    ``source="local"`` (the default) lays the local store over it.
    """

    def __init__(self, source: str = "local", *, snapshot_dir: Path | None = None,
                 local_dir: Path | None = None) -> None:
        if source not in ("local", "snapshot"):
            raise ValueError(f"store source must be 'local' or 'snapshot', not {source!r}")
        self.source = source
        self.snapshot_dir = Path(snapshot_dir or config.snapshot_dir())
        self.local_dir = Path(local_dir or (config.data_dir() / "store"))
        self.warnings: list[str] = []
        self._frame: pd.DataFrame | None = None
        self._index: StoreIndex | None = None

    # -- loading ------------------------------------------------------------------------
    def snapshot_files(self) -> list[Path]:
        return sorted(self.snapshot_dir.glob("*.parquet"))

    def local_files(self) -> list[Path]:
        if self.source != "local" or not self.local_dir.is_dir():
            return []
        return sorted(self.local_dir.glob("*.parquet"))

    def _load(self) -> pd.DataFrame:
        files = self.snapshot_files()
        if not files:
            raise DataError(
                f"The embedded snapshot is missing ({self.snapshot_dir} has no parquet files). "
                "Reinstall uso or rebuild it: uso snapshot build --raw ../shared/data/raw")
        # a broken snapshot file is fatal (it is ours); the builder guarantees unique keys
        missing = _missing_parts(self.snapshot_dir, files)
        if missing:
            raise DataError(
                f"The embedded snapshot in {self.snapshot_dir} is incomplete: "
                f"{', '.join(missing)} listed in its MANIFEST.json "
                f"{'is' if len(missing) == 1 else 'are'} missing.", hint=_REBUILD)
        try:
            snap = pd.concat([_read(p, trusted=True) for p in files], ignore_index=True)
        except DataError as exc:
            raise DataError(f"The embedded snapshot is damaged: {exc.message}",
                            hint=_REBUILD) from exc
        local = []
        for p in self.local_files():
            df, notes = read_local(p)
            self.warnings += notes
            if df is not None:
                local.append(df)
        if not local:
            return snap
        # local rows win over snapshot rows with the same key; among local rows the origin
        # rank (file > live > cached) and then the newest retrieval decide
        loc = pd.concat(local, ignore_index=True)
        rank = {o: i for i, o in enumerate(ORIGINS)}
        loc["_rank"] = loc["origin"].map(rank).fillna(0)
        loc = (loc.sort_values(KEY + ["_rank", "retrieved"], kind="stable")
                  .drop_duplicates(KEY, keep="last").drop(columns="_rank"))
        touched = snap["indicator"].isin(set(loc["indicator"]))
        keys = pd.MultiIndex.from_frame(loc[KEY].astype({"year": "int64"}))
        clash = pd.MultiIndex.from_frame(snap.loc[touched, KEY]).isin(keys)
        drop = snap.index[touched][clash]
        df = pd.concat([snap.drop(index=drop), loc], ignore_index=True)
        return df

    @property
    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._load()
            self._index = None
        return self._frame

    def reload(self) -> None:
        self._frame = None
        self._index = None

    # -- the index ----------------------------------------------------------------------
    @property
    def index(self) -> StoreIndex:
        """The rows arranged for reading (:class:`StoreIndex`), built once per loaded frame:
        a report asks for dozens of indicators, and filtering 600 000 rows for each would
        dominate its run time. A new object after :meth:`reload`."""
        frame = self.frame
        if self._index is None or self._index.frame is not frame:
            self._index = StoreIndex(frame)
        return self._index

    def table(self, indicator: str, category: str = "") -> Table | None:
        """The country-wide year x municipality :class:`Table` of one indicator (one
        category; built once), or None when the store has no such rows."""
        return self.index.table(indicator, category)

    def select(self, indicator: str, codes: Iterable[str], years: Iterable[int] | None = None,
               category: str | None = "") -> pd.DataFrame:
        """The store rows of ``codes`` (in the store's order), of ``years`` when given and
        of ``category`` (None: every category): the rows behind a chart or table."""
        got = self.index.row_index(indicator)
        return self.rows(indicator) if got is None else got.select(codes, years, category)

    # -- queries ------------------------------------------------------------------------
    def indicators(self) -> list[str]:
        return self.index.indicators()

    def rows(self, indicator: str) -> pd.DataFrame:
        """Every row of one indicator (empty when it has none)."""
        return self.index.rows(indicator)

    def years(self, indicator: str, category: str = "") -> list[int]:
        df = self.rows(indicator)
        df = df[(df["category"] == category) & df["value"].notna()]
        return sorted(int(y) for y in df["year"].unique())

    def series(self, indicator: str, kunta: str | None = None,
               category: str | None = "") -> pd.DataFrame:
        """All years of one indicator (optionally one municipality / category), by year."""
        df = self.rows(indicator)
        if kunta is not None:
            df = df[df["kunta"] == kunta]
        if category is not None:
            df = df[df["category"] == category]
        return df.sort_values(["kunta", "category", "year"]).reset_index(drop=True)

    def cross_section(self, indicator: str, year: int | None = None,
                      category: str = "") -> pd.DataFrame:
        """One year (default: the latest with data) for every municipality."""
        df = self.rows(indicator)
        got = self.index.row_index(indicator)
        if got is None:
            return df
        # masks over the index's arrays, not over the rows' text columns
        ours = got.category == category
        if year is None:
            years = got.year[ours & got.has_value]
            if not years.size:
                return df.iloc[0:0]
            year = int(years.max())
        pos = np.flatnonzero(ours & (got.year == year))
        return df.iloc[pos].sort_values("kunta").reset_index(drop=True)

    def get(self, indicator: str, kunta: str, year: int | None = None,
            category: str = "") -> Observation:
        """One figure. Without ``year``, the latest year that has a value."""
        got = self.index.row_index(indicator)
        df = self.rows(indicator)
        df = df.iloc[got.positions([kunta], category=category) if got is not None else []]
        if df.empty:
            raise NoData(f"No data for {indicator!r} in municipality {kunta} in the store.")
        if year is None:
            have = df[df["value"].notna()]
            row = (have if not have.empty else df).sort_values("year").iloc[-1]
        else:
            hit = df[df["year"] == int(year)]
            if hit.empty:
                ys = sorted(int(y) for y in df["year"].unique())
                raise NoData(f"No {indicator!r} figure for {year} for municipality {kunta}; "
                             f"the store has the years {year_span(ys) or 'none'}.")
            row = hit.iloc[0]
        return Observation(
            indicator=indicator, kunta=kunta, year=int(row["year"]), value=float(row["value"]),
            status=row["status"], source=row["source"], table=row["table"],
            vintage=row["vintage"], origin=row["origin"], category=row["category"])

    # -- writing ------------------------------------------------------------------------
    def write_local(self, df: pd.DataFrame, name: str) -> Path:
        """Replace the local store file ``name`` with ``df`` (atomically). Refreshes and
        imports both come this way, so an implausible figure is refused here
        (:class:`uso_lib.plausible.ImplausibleData`) and nothing of ``df`` is written."""
        df = normalize(df)
        plausible.check_frame(df, name)
        path = write_parquet(df.sort_values(KEY, kind="stable"),
                             self.local_dir / f"{name}.parquet")
        self.reload()
        return path


_REBUILD = ("Reinstall uso, or rebuild the snapshot: uso snapshot build --raw "
            "../shared/data/raw (USO_SNAPSHOT_DIR, if set, names the folder used).")


def _missing_parts(folder: Path, files: list[Path]) -> list[str]:
    """The parquet files the snapshot's MANIFEST.json lists that are absent: a deleted part
    would otherwise look like data the publisher never had."""
    try:
        manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
        parts = [f"{name}.parquet" for name in manifest.get("builders", {})]
    except (OSError, ValueError, AttributeError):
        return []  # no manifest (a snapshot assembled by hand): nothing to check against
    have = {p.name for p in files}
    return [p for p in parts if p not in have]


_DEFAULT: dict[str, Store] = {}


def default_store(source: str = "local") -> Store:
    """A process-wide store (the report factory shares one per worker)."""
    if source not in _DEFAULT:
        _DEFAULT[source] = Store(source)
    return _DEFAULT[source]


StoreLike = Store | str | None


def get_store(store: StoreLike = None) -> Store:
    """A Store, or the process-wide one for ``"local"``/``"snapshot"``/None."""
    if isinstance(store, Store):
        return store
    return default_store(store or "local")
