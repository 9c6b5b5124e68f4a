"""What every live source shares: the per-indicator result, and mapping publisher region codes to
the store's regional division.

Publishers answer in the division of their own release (StatFin 2026 tables: 1.1.2026; Sotkanet:
whatever year the figure was published for). The store keeps one division (2023), so codes are
mapped forward through the mergers; where two codes become one, counts are summed (only when
both are present, else the merged figure would be a silent undercount) and other kinds are left
out with a note -- a rate of two municipalities cannot be recombined without their weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from uso_lib import regions

COUNTRY = regions.COUNTRY


@dataclass
class IndicatorResult:
    """The outcome of refreshing one indicator."""

    indicator: str
    source: str  # "pxweb StatFin/11re", "sotkanet 3219"
    origin: str  # "live", "cached" or "failed"
    frame: pd.DataFrame | None = None  # store rows (uso_lib.store.COLUMNS) when not failed
    calls: int = 0  # network requests made for it (shared table queries: counted once)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def rows(self) -> int:
        return 0 if self.frame is None else len(self.frame)

    @property
    def years(self) -> list[int]:
        if self.frame is None or self.frame.empty:
            return []
        have = self.frame[self.frame["value"].notna()]
        return sorted(int(y) for y in have["year"].unique())


@dataclass
class PlannedRequest:
    """One request ``uso data refresh`` would send (``--dry-run`` prints these)."""

    source: str
    indicators: list[str]
    method: str
    url: str
    cells: int | None  # None: unknown (metadata unavailable)
    part: int = 1
    parts: int = 1
    note: str = ""


def _merged_status(symbols: pd.Series) -> str:
    """One publisher's symbol for a sum of merged municipalities: the most telling of theirs
    (a missing part, ".."/".", over a nil one, "-"); joining them made symbols no publisher
    uses ("-."), which the store refuses (uso_lib.plausible.STATUS_SYMBOLS)."""
    present = {s for s in symbols if s}
    return max(present, key=lambda s: (s != "-", len(s), s)) if present else ""


def map_regions(frame: pd.DataFrame, *, kind: str, division: int | None,
                what: str) -> tuple[pd.DataFrame, list[str]]:
    """Map ``frame.kunta`` (publisher codes: ``"178"``, ``"SSS"``) to the store's division.

    ``division`` is the publisher's division year when known (None: unknown, every merger up
    to the store's division applies). Rows keyed by every column except ``value``/``status``.
    Returns the mapped frame and notes for the user about what was merged or left out.
    """
    reg = regions.registry()
    notes: list[str] = []
    if frame.empty:
        return frame, notes
    codes = sorted(set(frame["kunta"]) - {COUNTRY})
    mapping = {c: reg.map_code(c, division if division is not None else 0) for c in codes}
    unknown = sorted(c for c, m in mapping.items() if m is None)
    if unknown:
        notes.append(f"{what}: {len(unknown)} region code(s) are not municipalities of the "
                     f"{reg.division} division and were left out: {', '.join(unknown[:12])}"
                     + (" ..." if len(unknown) > 12 else ""))
    mapping[COUNTRY] = COUNTRY
    out = frame.copy()
    out["kunta"] = out["kunta"].map(mapping)
    out = out[out["kunta"].notna()]
    # A merger after the store's division cannot be undone: when the publisher's data already
    # join the two (the merged code is absent), the figures stay under the new code -- say so.
    for mg in regions.mergers():
        later = mg.year > reg.division and (division is None or mg.year <= division)
        if later and mg.into in codes and mg.code not in codes:
            notes.append(f"{what}: the publisher's figures of {mg.into} include {mg.name} "
                         f"({mg.code}, merged into it in {mg.year}); kept under {mg.into}.")
    key = [c for c in out.columns if c not in ("value", "status")]
    dup = out.duplicated(key, keep=False)
    if not dup.any():
        return out.reset_index(drop=True), notes
    merged_into = sorted({mapping[c] for c in codes if mapping[c] and mapping[c] != c})
    if kind == "count":
        def _sum(values: pd.Series) -> float:
            return float(values.sum()) if values.notna().all() else np.nan

        agg = out[dup].groupby(key, sort=False, dropna=False).agg(
            value=("value", _sum), status=("status", _merged_status))
        out = pd.concat([out[~dup], agg.reset_index()], ignore_index=True)
        notes.append(f"{what}: figures of merged municipalities were summed into "
                     f"{', '.join(merged_into)} for the years before the merger.")
    else:
        own = out["kunta"] == frame.loc[out.index, "kunta"]
        dropped = out[dup & ~own]
        out = out[~(dup & ~own)]
        notes.append(f"{what}: {len(dropped)} figure(s) of municipalities later merged into "
                     f"{', '.join(merged_into)} were left out (a {kind} cannot be recombined "
                     "without weights).")
    return out.reset_index(drop=True), notes
