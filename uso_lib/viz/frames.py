"""Turning the frames callers have (store rows, compare results) into what a chart draws.

Charts accept the store's tidy long shape (``year``, ``value`` and a label column) or an
already-wide frame (index = year, one column per series), so a notebook can pass
``store.series(...)`` output or a compare result without reshaping it. Missing values stay
NaN all the way to the drawing, where they become gaps or "ei tietoa", never zeros.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from uso_lib.errors import DataError, NoData

SERIES_COLUMNS = ("name", "series", "kunta", "label")


def require(df: object, columns: Iterable[str], chart: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{chart}: expected a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{chart}: the input frame lacks column(s) {missing}; it has {list(df.columns)}.",
            hint="Rename the columns or pass the column names as arguments (see uso_lib.viz).")
    return df


def pick(df: pd.DataFrame, given: str | None, candidates: Iterable[str], chart: str) -> str:
    """The column to use: the one named, or the first candidate the frame has (so the
    store's ``category``/``value`` work as well as the documented ``group``/``change_pct``).
    A candidate whose values are all blank (the store's total category ``""``) is skipped."""
    if given is not None:
        require(df, [given], chart)
        return given
    for c in candidates:
        if c in df.columns and not df[c].astype(str).str.strip().eq("").all():
            return c
    raise DataError(f"{chart}: the input frame needs one of the columns {list(candidates)}; "
                    f"it has {list(df.columns)}.")


def numeric(values: pd.Series, chart: str, column: str) -> pd.Series:
    """Numbers, with blanks and publisher symbols (``..``) as NaN; other text is an error
    because it would otherwise silently vanish from the chart."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    as_text = values.astype("string").str.strip()
    out = pd.to_numeric(values, errors="coerce")
    bad = out.isna() & values.notna() & ~as_text.isin(["", ".", "..", "...", ":", "-", "–"])
    if bad.any():
        row = bad.idxmax()
        raise DataError(f"{chart}: column {column!r} row {row!r} is not a number: "
                        f"{values.loc[row]!r}.")
    return out.astype("float64")


def has_values(values, chart: str) -> None:
    """A chart with nothing to draw would be a blank frame that reads as zero: raise
    :class:`NoData` instead, so the report shows its "ei tietoa" note."""
    arr = np.asarray(values, dtype="float64").ravel()
    if not np.isfinite(arr).any():
        raise NoData(f"{chart}: no values to draw (all missing or no rows).",
                     hint="Show the indicator's no-data note instead of a chart.")


def _series_column(df: pd.DataFrame, series: str | None) -> str | None:
    if series is not None:
        return series if series in df.columns else None
    return next((c for c in SERIES_COLUMNS if c in df.columns), None)


def wide(frame: pd.DataFrame | pd.Series | Mapping, chart: str, *, series: str | None = None,
         year: str = "year", value: str = "value") -> pd.DataFrame:
    """Year x series table (index int years, ascending; columns str labels).

    Accepts a long frame (``year``, ``value`` and ``name``/``series``/``kunta``/``label``,
    or the column named by ``series``), a wide frame with years as index, a Series
    indexed by year, or a mapping ``{label: Series}``."""
    if isinstance(frame, Mapping):
        frame = pd.DataFrame({str(k): _as_series(v, chart, year, value)
                              for k, v in frame.items()})
    elif isinstance(frame, pd.Series):
        frame = frame.to_frame(str(frame.name) if frame.name is not None else "value")
    elif not isinstance(frame, pd.DataFrame):
        raise DataError(f"{chart}: expected a DataFrame, got {type(frame).__name__}.")
    elif year in frame.columns and value in frame.columns:
        col = _series_column(frame, series)
        df = frame.assign(**{value: numeric(frame[value], chart, value)})
        if col is None:
            df = df.assign(_series="value")
            col = "_series"
        dup = df.duplicated([year, col])
        if dup.any():
            row = df.loc[dup].iloc[0]
            raise DataError(f"{chart}: more than one value for {row[col]!r} in {row[year]} "
                            "(filter the frame to one indicator and category first).")
        frame = df.pivot(index=year, columns=col, values=value)
    out = frame.copy()
    # a chart needs the numbers only; pandas would deep-copy the caller's attrs (indicator
    # metadata) into every column, subset and result made from the table below
    out.attrs = {}
    try:
        out.index = pd.Index([int(y) for y in out.index], name="year")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{chart}: the index must be years (integers): {exc}") from exc
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        out[c] = numeric(out[c], chart, c)
    out.columns.name = None
    return out.sort_index()


def _as_series(obj, chart: str, year: str, value: str) -> pd.Series:
    if isinstance(obj, pd.Series):
        return obj
    if isinstance(obj, pd.DataFrame):
        if year in obj.columns and value in obj.columns:
            return obj.set_index(year)[value]
        if obj.shape[1] == 1:
            return obj.iloc[:, 0]
    raise DataError(f"{chart}: expected a Series (year -> value) or a frame with "
                    f"{year!r} and {value!r} columns.")
