"""Line charts over years: levels, base-year indices and population projections.

The municipality is the one strong line; the group averages (comparison municipalities, the
USO network, the country) are reference lines with their own colour *and* dash pattern, so they
stay apart in greyscale print and for colour-blind readers. A missing year is a gap in the
line, not a dip to zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from uso_lib.errors import DataError
from uso_lib.viz import theme as st
from uso_lib.viz.frames import has_values, wide

PLOT_HEIGHT = 2.5  # inches

_COUNTRY = {"color": "#3a3a3a", "linestyle": (0, (1, 1.6)), "linewidth": 1.6}
_PEER = {"color": st.PALETTE[1], "linestyle": (0, (5, 2)), "linewidth": 1.6}
_NETWORK = {"color": st.PALETTE[2], "linestyle": (0, (7, 2, 1.5, 2)), "linewidth": 1.6}
_OTHERS = [{"color": st.PALETTE[i], "linestyle": ls, "linewidth": 1.5}
           for i, ls in ((4, (0, (3, 1.5))), (5, (0, (8, 2))), (9, (0, (2, 2))),
                         (6, (0, (4, 1, 1, 1))))]


def reference_style(label: str, position: int) -> dict:
    """Consistent styles for group lines across all charts of a report: a label containing
    "koko maa" is the country, "verkosto"/"USO" the network, "vrt"/"verro"/"vertailu" the
    comparison municipalities; anything else takes the next free style."""
    low = label.lower()
    if "koko maa" in low or low in {"sss", "suomi", "finland"}:
        return _COUNTRY
    if "verkosto" in low or "uso" in low:
        return _NETWORK
    if "vrt" in low or "verro" in low or "vertailu" in low:
        return _PEER
    return _OTHERS[position % len(_OTHERS)]


def _pick_highlight(data: pd.DataFrame, highlight: str | None, chart: str) -> str | None:
    if highlight is None:
        return data.columns[0] if len(data.columns) else None
    if str(highlight) not in data.columns:
        raise DataError(f"{chart}: no series {highlight!r} to highlight; the series are "
                        f"{list(data.columns)}.")
    return str(highlight)


def _draw_lines(frame: st.Frame, data: pd.DataFrame, highlight: str | None,
                background: Iterable[str], background_label: str, unit: str | None,
                decimals: int | None, label_last: bool, subtitle: str | None = None) -> None:
    ax = frame.fig.axes[0]
    years = data.index.to_numpy()
    marker = "o" if len(years) <= 15 else None
    handles, labels = [], []
    grey = [c for c in data.columns if c in set(background) and c != highlight]
    for i, col in enumerate(grey):
        ax.plot(years, data[col], color=st.PEER_LINE, linewidth=0.9, zorder=2,
                marker="o" if marker else None, markersize=2, gid="uso-background")
        if i == 0:
            handles.append(Line2D([], [], color=st.PEER_LINE, linewidth=1.2))
            labels.append(background_label)
    refs = [c for c in data.columns if c not in grey and c != highlight]
    used = 0
    for col in refs:
        style = reference_style(col, used)
        used += style in _OTHERS
        (line,) = ax.plot(years, data[col], marker=marker, markersize=3, zorder=3, **style)
        handles.append(line)
        labels.append(col)
    if highlight is not None:
        (line,) = ax.plot(years, data[highlight], color=st.HIGHLIGHT, linewidth=2.4,
                          marker=marker, markersize=4, zorder=4, gid="uso-highlight")
        handles.insert(0, line)
        labels.insert(0, highlight)
        valid = data[highlight].dropna()
        if label_last and len(valid):
            st.label(ax, st.value_label(valid.iloc[-1], unit,
                                        0 if decimals is None else decimals),
                     (valid.index[-1], valid.iloc[-1]), offset=(5, 0), va="center", ha="left",
                     fontsize=st.LABEL_SIZE, fontweight="bold", color=st.HIGHLIGHT,
                     gid="uso-value")
    st.legend(frame, handles, labels)
    st.year_axis(ax, years)
    # a subtitle that is the unit already says it
    st.value_axis(ax, "y", None, label=unit if unit != subtitle else None)
    if len(years) == 1:
        ax.set_xlim(years[0] - 1, years[0] + 1)


def _chart(data: pd.DataFrame, highlight, background, background_label, *, unit, decimals,
           title, subtitle, source, label_last) -> st.Frame:
    grey = [c for c in data.columns if c in set(background) and c != highlight]
    entries = [c for c in data.columns if c not in grey]
    entries += [background_label] if grey else []
    right = 0.25
    if label_last and highlight is not None and data[highlight].notna().any():
        last = data[highlight].dropna().iloc[-1]
        right = st.text_width([st.value_label(last, unit, decimals or 0)], st.LABEL_SIZE,
                              "bold") + 0.2
    return st.new_chart(PLOT_HEIGHT, title=title, subtitle=subtitle, source=source,
                        left=0.8, right=right, legend=entries)


@st.styled
def time_series(frame, highlight: str | None = None, *, background: Iterable[str] = (),
                background_label: str = "Vertailukunnat", unit: str | None = None,
                decimals: int | None = None, title: str | None = None,
                subtitle: str | None = None, source: str, series: str | None = None,
                label_last: bool = True) -> Figure:
    """Levels over years: the municipality (``highlight``, default the first series) and the
    comparison means.

    ``frame``: long (``year``, ``value``, ``name``) or wide (index year, one column per
    series) or ``{label: Series}``. ``background``: series drawn as thin grey lines (the
    individual comparison municipalities), one legend entry ``background_label``.
    ``decimals`` is for the end-of-line value label; ticks choose their own."""
    data = wide(frame, "time_series", series=series)
    has_values(data, "time_series")
    hl = _pick_highlight(data, highlight, "time_series")
    bg = list(background)
    fr = _chart(data, hl, bg, background_label, unit=unit, decimals=decimals, title=title,
                subtitle=subtitle, source=source, label_last=label_last)
    _draw_lines(fr, data, hl, bg, background_label, unit, decimals, label_last, subtitle)
    return fr.fig


def index_frame(frame, base_year: int, *, series: str | None = None) -> pd.DataFrame:
    """Each series divided by its own base-year value x 100.

    A series without a base-year value (or with 0) cannot be indexed: it is left out and
    named in ``result.attrs["no_base"]`` instead of being rescaled from another year."""
    data = wide(frame, "indexed_series", series=series)
    if int(base_year) not in data.index:
        span = f"{data.index.min()}-{data.index.max()}" if len(data.index) else "none"
        raise DataError(f"indexed_series: the base year {base_year} is not in the data "
                        f"(years {span}).", hint="Choose a base year the series cover.")
    base = data.loc[int(base_year)]
    ok = base.notna() & (base != 0)
    out = data.loc[:, ok].div(base[ok], axis=1) * 100.0
    out.attrs["no_base"] = [c for c in data.columns if not ok[c]]
    out.attrs["base_year"] = int(base_year)
    return out


@st.styled
def indexed_series(frame, base_year: int, highlight: str | None = None, *,
                   background: Iterable[str] = (), background_label: str = "Vertailukunnat",
                   title: str | None = None, subtitle: str | None = None, source: str,
                   series: str | None = None, label_last: bool = True) -> Figure:
    """Each series as an index, ``base_year`` = 100 (the municipality, the peer mean, the
    network, the country), with a reference line at 100. Input as :func:`time_series`."""
    data = index_frame(frame, base_year, series=series)
    has_values(data, "indexed_series")
    if highlight is not None and str(highlight) in data.attrs["no_base"]:
        hl = None  # the subtitle says why the municipality has no line
    else:
        hl = _pick_highlight(data, highlight, "indexed_series")
    if subtitle is None:
        subtitle = f"Indeksi, {int(base_year)} = 100"
    if data.attrs["no_base"]:
        subtitle += f" ({st.NO_DATA} vuodelta {int(base_year)}: " \
                    + ", ".join(data.attrs["no_base"]) + ")"
    bg = list(background)
    fr = _chart(data, hl, bg, background_label, unit=None, decimals=1, title=title,
                subtitle=subtitle, source=source, label_last=label_last)
    fr.ax.axhline(100, color="#8c8c8c", linewidth=0.9, zorder=1, gid="uso-base")
    _draw_lines(fr, data, hl, bg, background_label, None, 1, label_last)
    return fr.fig


@st.styled
def projection(history, forecast, *, label: str = "Toteutunut",
               forecast_label: str = "Ennuste", unit: str | None = "henkeä",
               decimals: int = 0, title: str | None = None, subtitle: str | None = None,
               source: str) -> Figure:
    """Population history (solid) and projection (dashed) in one chart, the projection
    period shaded.

    ``history``/``forecast``: a Series indexed by year or a frame with ``year`` and
    ``value``; ``forecast`` may be ``{label: ...}`` to compare projection rounds (e.g.
    ``{"Ennuste 2019": ..., "Ennuste 2024": ...}``). The last actual figure and each
    projection's final figure are labelled."""
    chart = "projection"
    hist = wide(history, chart)
    if hist.shape[1] != 1:
        raise DataError(f"{chart}: history must be one series, got {list(hist.columns)}.")
    hist.columns = [label]
    if isinstance(forecast, Mapping):
        fc = wide(dict(forecast), chart)
    else:
        fc = wide(forecast, chart)
        if fc.shape[1] != 1:
            raise DataError(f"{chart}: pass several projections as {{label: series}}.")
        fc.columns = [forecast_label]
    fc = fc.dropna(how="all")
    hist = hist.dropna()
    has_values(np.concatenate([hist.to_numpy().ravel(), fc.to_numpy().ravel()]), chart)
    last_labels = [st.value_label(fc[c].dropna().iloc[-1], None, decimals)
                   for c in fc.columns if fc[c].notna().any()]
    right = st.text_width(last_labels or ["0"], st.LABEL_SIZE, "bold") + 0.2
    frame = st.new_chart(PLOT_HEIGHT, title=title, subtitle=subtitle, source=source,
                         left=0.8, right=right, legend=[label, *fc.columns])
    ax = frame.ax
    handles, labels = [], []
    if len(fc.index):
        ax.axvspan(fc.index.min(), fc.index.max(), color=st.SHADE, zorder=0, linewidth=0)
        st.label(ax, forecast_label if fc.shape[1] == 1 else "Ennusteet",
                 (fc.index.min(), 1), coords=("data", "axes fraction"), offset=(4, -4),
                 ha="left", va="top", fontsize=st.LABEL_SIZE, color=st.MUTED,
                 fontstyle="italic")
    if not hist.empty:
        (line,) = ax.plot(hist.index, hist[label], color=st.HIGHLIGHT, linewidth=2.4,
                          marker="o" if len(hist) <= 15 else None, markersize=3, zorder=4,
                          gid="uso-history")
        handles.append(line)
        labels.append(label)
        st.label(ax, st.value_label(hist[label].iloc[-1], None, decimals),
                 (hist.index[-1], hist[label].iloc[-1]), offset=(0, 7), ha="center",
                 va="bottom", fontsize=st.LABEL_SIZE, fontweight="bold", color=st.HIGHLIGHT,
                 gid="uso-value")
    colours = [st.HIGHLIGHT, st.PALETTE[1], st.PALETTE[2], st.PALETTE[4]]
    ends = []  # (year, value, colour) of each projection's final figure
    for i, col in enumerate(fc.columns):
        s = fc[col].dropna()
        if s.empty:
            continue
        colour = colours[i % len(colours)]
        (line,) = ax.plot(s.index, s.to_numpy(), color=colour, linewidth=2.0,
                          linestyle=(0, (4, 2)), marker="o" if len(s) <= 15 else None,
                          markersize=3.5, zorder=3, gid="uso-forecast")
        handles.append(line)
        labels.append(col)
        ends.append((s.index[-1], s.iloc[-1], colour))
    _end_labels(ax, ends, decimals)
    st.legend(frame, handles, labels)
    years = np.union1d(hist.index.to_numpy(), fc.index.to_numpy())
    st.year_axis(ax, years)
    st.value_axis(ax, "y", None, label=unit)
    return frame.fig


def _end_labels(ax, ends: list[tuple[float, float, str]], decimals: int) -> None:
    """Each projection's final figure right of its end point, in its line's colour; labels
    whose points lie closer than a line of text are moved apart (rounds of one municipality
    often end a few residents apart). Positions are taken in points, which do not change
    when the figure is later drawn at another dpi; the view limits are final here (the
    lines are drawn, and labels do not move them)."""
    if not ends:
        return
    ax.get_ylim()  # brings the pending autoscaling of the view (transData) up to date
    to_points = 72 / ax.figure.dpi
    wanted = [ax.transData.transform((x, y))[1] * to_points for x, y, _ in ends]
    placed = st.spread(wanted, st.LABEL_SIZE * 1.25)
    for (x, y, colour), y0, y1 in zip(ends, wanted, placed, strict=True):
        st.label(ax, st.value_label(y, None, decimals), (x, y), offset=(5, y1 - y0),
                 ha="left", va="center", fontsize=st.LABEL_SIZE, fontweight="bold",
                 color=colour, gid="uso-value")
