"""Plausibility at the door: which figures the store accepts, for imports and refreshes alike.

One absurd figure (``1e309`` read as infinity, a population of -5000, a year 2100 for the
population) used to be stored silently and then break every report, or pull the regional
averages down without anyone noticing. Every figure that enters the local store passes
:func:`check_frame` (``Store.write_local`` calls it for refreshes and imports); the spreadsheet
loader asks :func:`problem` row by row first, so that it can name the file, row and column.
A figure outside is refused, and nothing of its batch is written.

What was stored before these checks existed is read through :func:`scrub`: an implausible
figure already in a local store file is shown as missing, with a warning, instead of failing a
report.

The bounds come from the catalogue: an indicator's own ``bounds: [min, max]`` when it has them,
else a range by unit (a share in % lies within 0-100; people, jobs and firms are counted from
0; euros per resident lie within +-100 000). Years lie between 1900 and the current year;
``future: next_year`` allows next year (tax rates, state subsidies are decided in advance) and
``future: projection`` a century ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from uso_lib.errors import DataError

# The status symbols a publisher puts in place of a missing figure. Statistics Finland and
# THL publish through PxWeb, whose PX-file format (Statistics Sweden, "PX-file format
# specification": keywords DATASYMBOL1-6 and DATASYMBOLNIL) fixes the default symbols "." to
# "......" and "-" for a nil figure; Statistics Finland's table notes use "." (nil or too
# uncertain to present) and ".." (not available) -- e.g. stat.fi/til/tyti "Notes to the tables".
# json-stat answers may also carry ":" (not available; docs/API-NOTES.md, json-stat2 status).
STATUS_SYMBOLS: dict[str, str] = {
    ".": "logically impossible to present, or too uncertain",
    "..": "not available, too uncertain or confidential",
    "...": "PX data symbol 3 (confidential or not available)",
    "....": "PX data symbol 4",
    ".....": "PX data symbol 5",
    "......": "PX data symbol 6",
    "-": "magnitude nil",
    ":": "not available (json-stat)",
}
# what spreadsheet programs make of a typed "-" (autocorrect): the same nil symbol
STATUS_ALIASES = {"\u2013": "-", "\u2014": "-", "\u2212": "-"}

FIRST_YEAR = 1900  # no Finnish municipal statistics series starts earlier
PROJECTION_YEARS = 100  # how far ahead a projection may reach

# (low, high, why) by unit; the catalogue's ``bounds`` override them
_PEOPLE = (0.0, 10_000_000.0, "a count of people, jobs or firms lies within 0-10 000 000; "
                              "Finland has 5.6 million residents")
_BY_UNIT: dict[str, tuple[float, float, str]] = {
    "%": (0.0, 100.0, "a share in per cent lies within 0-100"),
    "henkeä": _PEOPLE, "työpaikkaa": _PEOPLE, "yritystä": _PEOPLE,
    "/1000 as.": (0.0, 1000.0, "a rate per 1 000 residents lies within 0-1 000"),
    "€/as.": (-100_000.0, 100_000.0, "euros per resident lie within -100 000-100 000"),
    "€": (0.0, 1_000_000.0, "an income in euros lies within 0-1 000 000"),
    "1000 €": (0.0, 10_000_000.0, "thousands of euros lie within 0-10 000 000"),
    "indeksi": (0.0, 10_000.0, "an index lies within 0-10 000"),
    "pistettä": (0.0, 1_000.0, "points lie within 0-1 000"),
    "1000 t CO2-ekv.": (0.0, 100_000.0, "emissions in 1 000 t lie within 0-100 000"),
    "": (0.0, 10_000.0, "a ratio lies within 0-10 000"),
}
_ANY = (-1e12, 1e12, "a figure lies within +-10^12")


class ImplausibleData(DataError):
    """Figures refused at the door; ``problems`` lists (where, what) for each."""

    def __init__(self, what: str, problems: list[tuple[str, str]], *, shown: int = 10) -> None:
        self.problems = list(problems)
        n = len(self.problems)
        lines = [f"{where}: {msg}" for where, msg in self.problems[:shown]]
        if n > shown:
            lines.append(f"... and {n - shown} more")
        # the first problem on the first line: a refresh summary shows one line per failure
        super().__init__(f"{what}: {n} problem{'s' if n > 1 else ''} with its figures, nothing of "
                         f"it was written: " + "\n  ".join(lines),
                         hint="Check the figures at their source. An indicator whose figures "
                              "may lie outside the range names its own 'bounds: [min, max]' "
                              "in the catalogue (uso_lib/data/catalog).")


@dataclass(frozen=True)
class Limits:
    low: float
    high: float
    why: str
    first_year: int
    last_year: int
    future: str | None = None


def limits(ind: object | None, today: date | None = None) -> Limits:
    """The range of an indicator's figures and years (``ind``: a catalogue Indicator, or None
    for an indicator the catalogue does not have: only a very wide range applies)."""
    year = (today or date.today()).year
    bounds = getattr(ind, "bounds", None)
    if bounds is not None:
        low, high = float(bounds[0]), float(bounds[1])
        why = f"the catalogue's bounds for {ind.id} are {_num(low)}-{_num(high)}"
    elif ind is not None:
        low, high, why = _BY_UNIT.get(getattr(ind, "unit", ""), _ANY)
    else:
        low, high, why = _ANY
    future = getattr(ind, "future", None)
    last = year + {"projection": PROJECTION_YEARS, "next_year": 1}.get(future or "", 0)
    return Limits(low, high, why, FIRST_YEAR, last, future)


def status_problem(status: str) -> str | None:
    """Why a status symbol is not one of the publishers' (None: it is)."""
    if status == "" or status in STATUS_SYMBOLS:
        return None
    shown = ", ".join(f"'{s}'" for s in STATUS_SYMBOLS)
    return (f"{status[:20]!r} is not a publisher's status symbol; use one of {shown} "
            "(e.g. '..' = not available)")


def normal_status(status: str) -> str:
    return STATUS_ALIASES.get(status, status)


def problem(lim: Limits, year: int | None, value: float | None) -> tuple[str, str] | None:
    """(column, why) of the first implausible part of one figure; None if plausible.
    ``column`` is ``"vuosi"`` or ``"arvo"`` (the spreadsheet's names)."""
    if year is not None and not lim.first_year <= year <= lim.last_year:
        return "vuosi", _year_why(lim, year)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not math.isfinite(value):
        return "arvo", f"{value!r} is not a finite number (too large: read as infinity)"
    if not lim.low <= value <= lim.high:
        return "arvo", f"{_num(value)} is outside the plausible range ({lim.why})"
    return None


def _year_why(lim: Limits, year: int) -> str:
    if year < lim.first_year:
        return f"{year} is before {lim.first_year}, earlier than any series"
    if lim.future == "projection":
        return f"{year} is more than {PROJECTION_YEARS} years ahead, even for a projection"
    if lim.future == "next_year":
        return (f"{year} is after {lim.last_year}: figures decided in advance reach next "
                "year at most")
    return (f"{year} is in the future (after {lim.last_year}); only projections have "
            "figures for years to come")


def _num(v: float) -> str:
    return f"{v:,.0f}".replace(",", " ") if abs(v) < 1e15 and v == int(v) else f"{v:g}"


def _catalog_get(cat: object | None, indicator: str) -> object | None:
    if cat is None:
        from uso_lib import catalog as catalog_mod

        cat = catalog_mod.catalog()
    try:
        return cat.get(indicator)
    except KeyError:  # UnknownIndicator: only the generic range applies
        return None


def _bad_rows(df: pd.DataFrame, cat: object | None, today: date | None
              ) -> list[tuple[int, str, str]]:
    """(row position, part, why) of every implausible part of a row (part: ``year``,
    ``value`` or ``status``), vectorised per indicator: a refresh writes up to some hundred
    thousand rows."""
    out: list[tuple[int, str, str]] = []
    values = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype="float64")
    years = pd.to_numeric(df["year"], errors="coerce").to_numpy(dtype="float64")
    status = df["status"].fillna("").astype(str).to_numpy() if "status" in df else None
    for ind_id, pos in df.groupby("indicator", sort=False).indices.items():
        lim = limits(_catalog_get(cat, str(ind_id)), today)
        v, y = values[pos], years[pos]
        with np.errstate(invalid="ignore"):
            bad_year = ~((y >= lim.first_year) & (y <= lim.last_year))
            bad_value = ~np.isnan(v) & (~np.isfinite(v) | (v < lim.low) | (v > lim.high))
        for i in np.flatnonzero(bad_year):
            why = "not a year" if np.isnan(y[i]) else _year_why(lim, int(y[i]))
            out.append((int(pos[i]), "year", why))
        for i in np.flatnonzero(bad_value & ~bad_year):
            out.append((int(pos[i]), "value", problem(lim, None, float(v[i]))[1]))
        if status is not None:
            st = status[pos]
            odd = pos[(st != "") & ~np.isin(st, list(STATUS_SYMBOLS))]
            out += [(int(i), "status", status_problem(str(status[i]))) for i in odd]
    return sorted(out)


def _cell(row: pd.Series) -> str:
    cat = f", category {row['category']}" if row.get("category") else ""
    return f"{row['indicator']}, kunta {row['kunta']}, year {row['year']}{cat}"


def check_frame(df: pd.DataFrame, what: str, *, cat: object | None = None,
                today: date | None = None) -> None:
    """Refuse a batch of store rows (a refresh's indicator, an import) that holds an
    implausible figure, year or status: raises :class:`ImplausibleData` naming each cell
    (table, municipality, year, category)."""
    if df.empty:
        return
    bad = _bad_rows(df, cat, today)
    if not bad:
        return
    problems = []
    for pos, _part, why in bad:
        row = df.iloc[pos]
        table = f"table {row['table']}, " if "table" in df and row.get("table") else ""
        problems.append((table + _cell(row), why))
    raise ImplausibleData(what, problems)


def scrub(df: pd.DataFrame, name: str, *, cat: object | None = None,
          today: date | None = None) -> tuple[pd.DataFrame, list[str]]:
    """A local store file's rows with implausible figures shown as missing (rows of
    impossible years dropped, unknown status symbols cleared), and the warning that says so.
    Figures stored before the checks existed, or written by hand, must not fail every
    report."""
    if df.empty:
        return df, []
    bad = _bad_rows(df, cat, today)
    if not bad:
        return df, []
    df = df.copy()
    parts: dict[str, list[int]] = {"year": [], "value": [], "status": []}
    for pos, part, _why in bad:
        parts[part].append(pos)
    if parts["value"]:
        df.iloc[parts["value"], df.columns.get_loc("value")] = np.nan
    if parts["status"]:
        df.iloc[parts["status"], df.columns.get_loc("status")] = ""
    shown = [f"{_cell(df.iloc[pos])}: {why}" for pos, _part, why in bad[:5]]
    df = df.drop(index=df.index[sorted(set(parts["year"]))]).reset_index(drop=True)
    n = len(bad)
    warning = (f"{name}: {n} implausible figure{'s' if n > 1 else ''} shown as missing "
               f"({'; '.join(shown)}{'; ...' if n > len(shown) else ''}). Import or refresh "
               "the data again to replace them.")
    return df, [warning]


def display_path(path: Path | str, root: Path | str | None = None) -> str:
    """A path as a message may show it: relative to the data directory (``store/x.parquet``)
    when it lies there, else its file name -- never a home directory, which would end up in
    a report's HTML."""
    path = Path(path)
    if root is None:
        from uso_lib import config

        root = config.data_dir()
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return path.name
