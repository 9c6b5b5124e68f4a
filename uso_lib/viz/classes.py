"""Map classes: which class each municipality's value falls in, the class colours and the
Finnish legend labels.

Apart from the drawing (:mod:`uso_lib.viz.maps`) because a class table is also what a caller
keys on to reuse a drawn base map (:mod:`uso_lib.viz.layers`), and what the report's theme maps
compute before they draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap

from uso_lib import fmt
from uso_lib.errors import NoData, ParamsError

PALETTE = "YlGnBu"
_CLASS_NAMES = {"quintile": 5, "quartile": 4, "tertile": 3, "decile": 10}


@dataclass(frozen=True)
class Classification:
    """Classes of a map: ``index`` is the class number (0 = lowest) of every municipality with
    a value; ``labels``/``colors`` have one entry per class; ``counts`` says how many
    municipalities fall in each (a class can be empty when many values tie)."""

    index: pd.Series
    labels: list[str]
    colors: list[str]
    counts: list[int]

    @property
    def k(self) -> int:
        return len(self.labels)

    def cmap(self) -> ListedColormap:
        return ListedColormap(self.colors)

    def norm(self) -> BoundaryNorm:
        return BoundaryNorm(np.arange(self.k + 1) - 0.5, self.k)


def class_colors(k: int, cmap: str = PALETTE) -> list[str]:
    """``k`` sequential colours from light to dark (the lightest stays clear of the no-data
    grey)."""
    colormap = mpl.colormaps[cmap]
    return [mpl.colors.to_hex(c) for c in colormap(np.linspace(0.12, 0.92, k))]


def _range_label(lo: float, hi: float, unit: str | None, decimals: int) -> str:
    if fmt.number(lo, decimals) == fmt.number(hi, decimals):
        return fmt.with_unit(lo, unit, decimals)
    return f"{fmt.number(lo, decimals)} – {fmt.with_unit(hi, unit, decimals)}"


def classify(values: pd.Series, classes: str | int | Sequence[float] = "quintile", *,
             unit: str | None = None, decimals: int = 0,
             cmap: str = PALETTE) -> Classification:
    """Quantile classes (``"quintile"``, ``"quartile"``, ``"tertile"``, ``"decile"`` or a
    number of classes) over the values that are present, or classes between explicit breaks
    (a list of increasing numbers: ``[10, 20]`` -> alle 10 / 10 – 20 / vähintään 20)."""
    present = pd.to_numeric(values, errors="coerce").dropna()
    if present.empty:
        raise NoData("Nothing to map: every value is missing.")
    if isinstance(classes, str) or isinstance(classes, (int, np.integer)):
        if isinstance(classes, str):
            if classes not in _CLASS_NAMES:
                raise ParamsError(f"unknown classes {classes!r}; use one of "
                                  f"{', '.join(_CLASS_NAMES)}, a number or a list of breaks",
                                  field="classes")
            k = _CLASS_NAMES[classes]
        else:
            k = int(classes)
            if not 2 <= k <= 10:
                raise ParamsError(f"classes={k}: give between 2 and 10 classes",
                                  field="classes")
        n = len(present)
        k = min(k, n)
        rank = present.rank(method="min").to_numpy()  # ties share the lowest rank
        idx = np.floor((rank - 1) * k / n).astype(int)
        index = pd.Series(idx, index=present.index)
        labels, counts = [], []
        for i in range(k):
            members = present[idx == i]
            counts.append(len(members))
            labels.append(_range_label(members.min(), members.max(), unit, decimals)
                          if len(members) else "")
    else:
        breaks = [float(b) for b in classes]
        if not breaks or any(b2 <= b1 for b1, b2 in zip(breaks, breaks[1:], strict=False)):
            raise ParamsError(f"class breaks must be an increasing list of numbers, got "
                              f"{list(classes)!r}", field="classes")
        k = len(breaks) + 1
        idx = np.searchsorted(np.asarray(breaks), present.to_numpy(), side="right")
        index = pd.Series(idx.astype(int), index=present.index)
        labels = [f"alle {fmt.with_unit(breaks[0], unit, decimals)}"]
        labels += [_range_label(a, b, unit, decimals)
                   for a, b in zip(breaks, breaks[1:], strict=False)]
        labels.append(f"vähintään {fmt.with_unit(breaks[-1], unit, decimals)}")
        counts = [int((idx == i).sum()) for i in range(k)]
    return Classification(index=index, labels=labels, colors=class_colors(k, cmap),
                          counts=counts)
