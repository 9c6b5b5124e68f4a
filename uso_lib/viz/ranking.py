"""The brochure's ranking chart: the municipality among its comparison group, best first.

The model is the USO brochure's HYTE-€ chart (Iisalmi 19,7 € ... Raahe 11,4 €, "Vrt. kunnat
ka. 17,1 €"): sorted horizontal bars with the value written at each bar, the group average as
a line, no value axis (the labels carry the numbers). A municipality without a figure is
listed as "ei tietoa" at the bottom instead of a zero-length bar, which would read as 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from uso_lib.viz import theme as st
from uso_lib.viz.frames import has_values, numeric, require

ROW = 0.27  # inches per bar
# value labels sit on white so the average line never strikes through a number
_LABEL_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}


def _highlighted(frame: pd.DataFrame, label: str, highlight) -> pd.Series:
    if highlight is None:
        if "highlight" in frame.columns:
            return frame["highlight"].fillna(False).astype(bool)
        return pd.Series(False, index=frame.index)
    wanted = {str(highlight)} if isinstance(highlight, str | int) else {str(h) for h in highlight}
    flags = frame[label].astype(str).isin(wanted)
    if "kunta" in frame.columns:
        flags |= frame["kunta"].astype(str).isin(wanted)
    return flags


@st.styled
def ranking_bars(df: pd.DataFrame, value: str = "value", label: str = "name",
                 highlight: str | Iterable[str] | None = None,
                 mean: float | bool | None = None, mean_label: str = "Vrt. kunnat ka.", *,
                 unit: str | None = None, decimals: int = 1, polarity: str = "higher_better",
                 title: str | None = None, subtitle: str | None = None,
                 source: str) -> Figure:
    """Horizontal bars sorted best first.

    ``df``: one row per municipality with a ``label`` column (``name``) and a ``value`` column;
    a boolean ``highlight`` column (as in ``compare.ranking``) or the ``highlight`` argument
    (a name or code, or several) marks the municipality. ``mean``: a number draws the group
    average line with ``mean_label`` ("Vrt. kunnat ka. 17,1 €"); ``True`` uses the plain mean
    of the values shown (as the brochure does); ``None``/``False`` draws none. ``polarity``
    ``lower_better`` puts the smallest value on top; ``higher_better``/``neutral`` the largest.
    """
    chart = "ranking_bars"
    require(df, [label, value], chart)
    frame = df.copy()
    frame.attrs = {}  # not read here, and pandas would deep-copy them into every subset
    frame["_v"] = numeric(frame[value], chart, value)
    has_values(frame["_v"], chart)
    frame["_hl"] = _highlighted(frame, label, highlight).to_numpy()
    frame["_label"] = frame[label].astype(str)
    ascending = polarity == "lower_better"
    present = frame[frame["_v"].notna()].sort_values(["_v", "_label"],
                                                     ascending=[ascending, True], kind="stable")
    absent = frame[frame["_v"].isna()].sort_values("_label", kind="stable")
    rows = pd.concat([present, absent])
    values = present["_v"].to_numpy()

    if mean is True:
        mean_value = float(values.mean()) if len(values) else np.nan
    elif mean is None or mean is False:
        mean_value = None
    else:
        mean_value = float(mean)
    mean_text = (f"{mean_label} {st.value_label(mean_value, unit, decimals)}"
                 if mean_value is not None else None)

    n = len(rows)
    n_rows = n + (1 if mean_text else 0)
    names = rows["_label"].tolist()
    left = st.text_width(names, st.LABEL_SIZE + 0.5, "bold") + 0.25
    frame_ = st.new_chart(max(n_rows, 1) * ROW, title=title, subtitle=subtitle, source=source,
                          left=left, right=0.2, bottom=0.08)
    fig, ax = frame_.fig, frame_.ax
    y = np.arange(n)
    colours = [st.HIGHLIGHT if h else st.PEER for h in rows["_hl"]]
    st.bars(ax, y[: len(present)], values, width=0.68, color=colours[: len(present)])

    # value range with room for the labels beside the bar ends
    labels = [st.value_label(v, unit, decimals) for v in values]
    label_in = st.text_width(labels + [st.NO_DATA], st.LABEL_SIZE) + 0.12
    axis_in = st.WIDTH - left - 0.2
    lo = min(0.0, float(values.min())) if len(values) else 0.0
    hi = max(0.0, float(values.max())) if len(values) else 1.0
    if mean_value is not None and np.isfinite(mean_value):
        lo, hi = min(lo, mean_value), max(hi, mean_value)
    span = (hi - lo) or 1.0
    sides = (lo < 0, hi > 0 or lo == 0)  # bars reaching left / right need label room
    room = label_in * sum(sides)
    pad = (span / max(0.2, 1 - room / axis_in) - span) / sum(sides)
    ax.set_xlim(lo - pad * sides[0], hi + pad * sides[1])

    for yi, v, text, hl in zip(y, values, labels, present["_hl"], strict=False):
        st.label(ax, text, (v, yi), offset=(3 if v >= 0 else -3, 0), va="center",
                 ha="left" if v >= 0 else "right", fontsize=st.LABEL_SIZE, color=st.TEXT,
                 fontweight="bold" if hl else "normal", gid="uso-value", zorder=5,
                 bbox=_LABEL_BOX)
    for yi in y[len(present):]:
        st.label(ax, st.NO_DATA, (0, yi), offset=(3, 0), va="center", ha="left",
                 fontsize=st.LABEL_SIZE, color=st.MUTED, fontstyle="italic", gid="uso-missing")
    if lo < 0:
        ax.axvline(0, color="#8c8c8c", linewidth=0.8, zorder=3)

    if mean_text:
        if mean_value is not None and np.isfinite(mean_value):
            ax.plot([mean_value, mean_value], [-0.5, len(present) - 0.5], color=st.TEXT,
                    linestyle=(0, (4, 2)), linewidth=1.1, zorder=4, gid="uso-mean")
            frac = (mean_value - ax.get_xlim()[0]) / (ax.get_xlim()[1] - ax.get_xlim()[0])
            st.label(ax, mean_text, (mean_value, n), va="center",
                     ha="center" if 0.25 < frac < 0.75 else
                     ("left" if frac <= 0.25 else "right"),
                     fontsize=st.LABEL_SIZE, color=st.TEXT, gid="uso-mean-label",
                     bbox=_LABEL_BOX)
        else:
            st.label(ax, mean_text, (0, n), va="center", ha="left", fontsize=st.LABEL_SIZE,
                     color=st.MUTED, gid="uso-mean-label")

    ax.set_ylim(n_rows - 0.5, -0.5)
    st.row_labels(ax, y, names, rows["_hl"])
    ax.xaxis.set_visible(False)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    return fig
