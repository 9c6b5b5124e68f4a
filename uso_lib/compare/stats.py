"""The statistics of a comparison, on plain values: ranks by polarity, percentiles, quintile
classes, the robust spread and the assessment against a group (conventions in
:mod:`uso_lib.compare`), and what one indicator-year of the store gives every comparison of that
year, memoised on the store index's year object."""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

from uso_lib.store.index import YearValues

THRESHOLD_SD = 0.25


# -- one indicator-year of the store's index ---------------------------------------------------
@dataclass(frozen=True)
class YearStats:
    """What the country's values of one indicator-year give every comparison of that year: the
    robust SD the assessment is measured in and the quintile cut points."""

    sd: float | None
    cuts: np.ndarray


_YEAR_STATS: weakref.WeakKeyDictionary[YearValues, YearStats] = weakref.WeakKeyDictionary()


def year_stats(yv: YearValues) -> YearStats:
    """The :class:`YearStats` of one indicator-year (memoised on the store index's year object,
    so they go when the store reloads)."""
    got = _YEAR_STATS.get(yv)
    if got is None:
        got = _YEAR_STATS[yv] = YearStats(robust_sd(yv.array), quintile_cuts(yv.array))
    return got


def year_percentile(yv: YearValues, value: float) -> float | None:
    """:func:`percentile` of ``value`` among the year's municipalities (on the sorted values)."""
    if not yv.array.size:
        return None
    below = np.searchsorted(yv.array, value, side="left")
    equal = np.searchsorted(yv.array, value, side="right") - below
    return 100.0 * (below + 0.5 * equal) / yv.array.size


def year_quintile(yv: YearValues, value: float) -> int | None:
    """The country quintile class of ``value`` in the year (see :func:`quintiles`)."""
    cuts = year_stats(yv).cuts
    if not cuts.size:
        return None
    return int(1 + np.searchsorted(cuts, value, side="left"))


# -- statistics on plain Series -----------------------------------------------------------
def score(values: pd.Series, polarity: str) -> pd.Series:
    """Values turned so that larger is better (neutral: larger ranks first)."""
    return -values if polarity == "lower_better" else values


def ranks(values: pd.Series, polarity: str) -> pd.Series:
    """Rank 1 = best by polarity; ties share the best rank ("min"); missing stays NaN."""
    return score(values, polarity).rank(ascending=False, method="min")


def rank_text(rank: float | None, tied: bool) -> str:
    if rank is None or (isinstance(rank, float) and math.isnan(rank)):
        return "–"
    return f"{int(rank)}=" if tied else str(int(rank))


def percentile(values: pd.Series, value: float) -> float | None:
    """Share (%) of ``values`` below ``value``, ties counted half: 50 = the median."""
    v = values.dropna()
    if v.empty or value is None or math.isnan(value):
        return None
    below = float((v < value).sum())
    equal = float((v == value).sum())
    return 100.0 * (below + 0.5 * equal) / len(v)


def quintile_cuts(values: pd.Series | np.ndarray) -> np.ndarray:
    """The 20/40/60/80 % quantiles of the values with data (Sotkanet-style class limits)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return np.array([])
    return np.quantile(v, [0.2, 0.4, 0.6, 0.8])


def quintiles(values: pd.Series) -> pd.Series:
    """Quintile class of every value: 1 = lowest fifth ... 5 = highest fifth (Sotkanet's
    convention, not polarity-adjusted). A value equal to a cut point goes to the lower class, so
    equal values share a class. Missing values stay missing (<NA>)."""
    cuts = quintile_cuts(values)
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if cuts.size == 0:
        return out
    have = values.notna()
    out[have] = 1 + np.searchsorted(cuts, values[have].to_numpy(dtype=float), side="left")
    return out


def robust_sd(values: np.ndarray | pd.Series) -> float | None:
    """The spread the assessment is measured in: the interquartile range / 1.349, which
    equals the SD for normally distributed values but is not inflated by Helsinki-size
    outliers (municipal figures are heavily skewed). Falls back to the SD when half of the
    values are equal (IQR 0); None for fewer than two values."""
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    if a.size < 2:
        return None
    q1, q3 = np.quantile(a, [0.25, 0.75])
    iqr = float(q3 - q1)
    return iqr / 1.349 if iqr > 0 else float(np.std(a, ddof=1))


def finite(x: object) -> float | None:
    """JSON-friendly float: None for missing (NaN, None, not a number)."""
    if x is None:
        return None
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def assess(value: float | None, reference: float | None, sd: float | None,
           polarity: str, threshold: float = THRESHOLD_SD) -> str | None:
    """better / same / worse (or higher / same / lower for a neutral indicator), or None when
    either figure is missing. See the module docstring for the threshold."""
    value, reference, sd = finite(value), finite(reference), finite(sd)
    if value is None or reference is None:
        return None
    diff = value - reference
    if sd is None or sd == 0:
        if diff == 0:
            return "same"
        sd = abs(diff) / (threshold * 2)  # no spread to judge by: only the direction counts
    if abs(diff) < threshold * sd:
        return "same"
    if polarity == "neutral":
        return "higher" if diff > 0 else "lower"
    better = diff > 0 if polarity == "higher_better" else diff < 0
    return "better" if better else "worse"
