"""Light artists: the house legend, axes, bars and row labels, built on matplotlib's public
artists (Text, Line2D, LineCollection, Rectangle) and laid out when the chart is drawn."""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import TICKDOWN, TICKLEFT, Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    Formatter,
    Locator,
    MaxNLocator,
    NullLocator,
)
from matplotlib.transforms import IdentityTransform, offset_copy

from uso_lib import fmt
from uso_lib.viz.layout import Frame
from uso_lib.viz.style import GRID, LABEL_SIZE, MUTED, NO_DATA, TEXT, WIDTH


def legend(frame: Frame, handles: list, labels: list[str]) -> LightLegend | None:
    """The legend above the axes, aligned with the title (no box), in the columns that
    :func:`new_chart` made room for."""
    if not handles:
        return None
    return LightLegend(frame.fig, handles, labels, x=0.1 / WIDTH - 0.005, top=frame.legend_y,
                       ncols=frame.legend_ncols, fontsize=LABEL_SIZE + 0.5)


class LightLegend(Artist):
    """A legend of line and patch entries, laid out when the chart is drawn.

    Matplotlib's Legend packs every entry into offset boxes (a drawing area, a text area and
    two packers per entry) and measures them again when drawn, a cost some thirty legends per
    report pay again and again (benchmarks/README.md). This keeps matplotlib's layout, in font-size
    units (handle 2.2 em long, 0.5 em to the label, 1.5 em between columns, 0.5 em between
    rows, 0.4 em border, entries filled column by column, the columns sharing the first row's
    baseline and each stacked down by its labels' measured heights), and draws each entry's
    handle and label straight onto the figure. Handles copy the style of the artists they
    stand for, as matplotlib's legend handlers do; a test compares the pixels."""

    HANDLE_LENGTH = 2.2
    HANDLE_HEIGHT = 0.7
    HANDLE_TEXT_PAD = 0.5
    COLUMN_SPACING = 1.5
    LABEL_SPACING = 0.5
    BORDER_PAD = 0.4

    def __init__(self, fig: Figure, handles: Sequence[Artist], labels: Sequence[str], *,
                 x: float, top: float, ncols: int = 1, fontsize: float = LABEL_SIZE + 0.5
                 ) -> None:
        super().__init__()
        for handle in handles:
            if not isinstance(handle, (Line2D, Patch)):
                raise TypeError(f"a legend entry stands for a line or a patch, not "
                                f"{type(handle).__name__}")
        self.entries = list(zip(handles, [str(label) for label in labels], strict=True))
        self.x, self.top = x, top  # figure fraction of the legend's upper left corner
        self.ncols = max(1, ncols)
        self.font = FontProperties(family=mpl.rcParams["font.family"], size=fontsize)
        self.colour = TEXT
        self.set_zorder(5)  # where matplotlib puts a legend
        self.set_gid("uso-legend")
        self._drawn: list[Artist] = []
        fig.add_artist(self)

    def labels(self) -> list[str]:
        return [label for _, label in self.entries]

    def get_children(self) -> list[Artist]:
        return list(self._drawn)

    def columns(self) -> list[list[int]]:
        """Entry numbers per column: the first columns take one more when they do not divide
        evenly (``[[0, 1], [2, 3], [4]]``), as in matplotlib."""
        n = len(self.entries)
        per, extra = divmod(n, self.ncols)
        out, start = [], 0
        for c in range(self.ncols):
            size = per + (c < extra)
            if size:
                out.append(list(range(start, start + size)))
            start += size
        return out

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.entries:
            return
        fig = self.figure
        fs = renderer.points_to_pixels(self.font.get_size_in_points())
        _, lp_h, lp_d = renderer.get_text_width_height_descent("lp", self.font, ismath=False)
        identity = IdentityTransform()
        texts = [Text(0, 0, label, fontproperties=self.font, color=self.colour, ha="left",
                      va="baseline", transform=identity, gid="uso-legend-label")
                 for _, label in self.entries]
        # each label's extent as matplotlib lays the text out (the line height and descent
        # rules differ between matplotlib versions): its width, its height above the baseline
        # at 0 and its depth below it, combined as matplotlib's text area does
        extents = []
        for t in texts:
            t.set_figure(fig)
            extents.append(t.get_window_extent(renderer))
        widths = [e.width for e in extents]
        below = [-e.y0 for e in extents]
        above = [max(lp_h - lp_d, e.y1, self.HANDLE_HEIGHT * fs) for e in extents]
        handle_w = self.HANDLE_LENGTH * fs
        x = self.x * fig.bbox.width + self.BORDER_PAD * fs
        columns = self.columns()
        # the columns share the first row's baseline, below the tallest first label
        first = self.top * fig.bbox.height - self.BORDER_PAD * fs \
            - max(above[col[0]] for col in columns)
        art: list[Artist] = []
        for col in columns:
            y = first + above[col[0]]
            for i in col:
                handle = self.entries[i][0]
                baseline = y - above[i]
                art.append(self._handle(handle, x, baseline, handle_w, self.HANDLE_HEIGHT * fs))
                texts[i].set_position((x + handle_w + self.HANDLE_TEXT_PAD * fs, baseline))
                art.append(texts[i])
                y = baseline - below[i] - self.LABEL_SPACING * fs
            x += handle_w + self.HANDLE_TEXT_PAD * fs + max(widths[i] for i in col) \
                + self.COLUMN_SPACING * fs
        for a in art:
            a.set_figure(fig)
            a.draw(renderer)
        self._drawn = art
        self.stale = False

    @staticmethod
    def _handle(orig: Artist, x: float, baseline: float, width: float, height: float
                ) -> Artist:
        """The entry's key in the style of ``orig``: a line through the middle of the key's
        box with one marker at its centre, or a box filled like the patch."""
        if isinstance(orig, Line2D):
            key: Artist = Line2D([x, x + width / 2, x + width], [baseline + height / 2] * 3,
                                 markevery=[1])
        else:
            key = Rectangle((x, baseline), width, height)
        key.update_from(orig)
        key.set_transform(IdentityTransform())
        key.set_clip_box(None)
        key.set_clip_path(None)
        return key


def legend_labels(fig: Figure) -> list[str]:
    """The labels of a chart's legend, in order (tests, notebooks)."""
    for artist in fig.artists:
        if isinstance(artist, LightLegend):
            return artist.labels()
    return []



# --- tick labels -------------------------------------------------------------------------

class FinnishFormatter(Formatter):
    """Tick labels in Finnish (``1 250``, ``12,5``, ``−3``) via :mod:`uso_lib.fmt`.

    With ``decimals=None`` it uses as many decimals as the tick values need, so 0.5-steps read
    ``0,5 1,0 1,5`` and 2.5-steps ``7,5 10,0``: a label never shows a rounded value at a
    tick that is not there (``8`` at 7.5)."""

    def __init__(self, decimals: int | None = None, unit: str | None = None,
                 absolute: bool = False) -> None:
        self.decimals = decimals
        self.unit = unit
        self.absolute = absolute
        self._auto = 0

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        finite = sorted(v for v in locs if math.isfinite(v))
        steps = [b - a for a, b in zip(finite, finite[1:], strict=False) if b - a > 0]
        tolerance = min(steps, default=1.0) * 1e-6
        self._auto = next((d for d in range(3) if all(abs(round(v, d) - v) <= tolerance
                                                       for v in finite)), 3)

    def __call__(self, x, pos=None) -> str:
        decimals = self.decimals if self.decimals is not None else self._auto
        return fmt.with_unit(abs(x) if self.absolute else x, self.unit, decimals)


class YearFormatter(Formatter):
    """Years are labels, not quantities: ``2021``, never ``2 021``."""

    def __call__(self, x, pos=None) -> str:
        return str(int(round(x))) if abs(x - round(x)) < 1e-6 else ""


class LightAxis(Artist):
    """One axis's tick marks, tick labels, grid lines and title, made when the chart is drawn.

    Matplotlib's own ticks are full artists (two marker lines, a grid line and two texts each,
    copied from a template, and recomputed again for the axis label's place), and a report
    of some fifty small charts pays for all of them (benchmarks/README.md). This draws the
    same things from the final view limits: one line of tick marks, one collection of grid
    lines and a text per label. Its properties are taken from the house style when it is
    made, as drawing happens outside :func:`styled`."""

    def __init__(self, ax: Axes, axis: str, locator: Locator, formatter: Formatter, *,
                 grid: bool = True, label: str | None = None) -> None:
        super().__init__()
        self.axis = axis
        self.locator = locator
        self.formatter = formatter
        self.grid = grid
        self.label = label or None
        self.font = FontProperties(family=mpl.rcParams["font.family"],
                                   size=mpl.rcParams[f"{axis}tick.labelsize"])
        self.label_font = FontProperties(family=mpl.rcParams["font.family"],
                                         size=mpl.rcParams["axes.labelsize"])
        self.mark_colour = mpl.rcParams[f"{axis}tick.color"]
        self.mark_size = mpl.rcParams[f"{axis}tick.major.size"]
        self.mark_width = mpl.rcParams[f"{axis}tick.major.width"]
        self.pad = mpl.rcParams[f"{axis}tick.major.pad"]
        self.set_zorder(0.6)  # under the data, as set_axisbelow(True) puts matplotlib's grid
        self.set_gid(f"uso-{axis}axis")
        self._drawn: list[Artist] = []
        getattr(ax, f"{axis}axis").set_major_locator(NullLocator())  # no matplotlib ticks
        ax.add_artist(self)

    def ticks(self) -> list[tuple[float, str]]:
        """(position, label) of every tick inside the view limits."""
        lo, hi = sorted(self.axes.get_ylim() if self.axis == "y" else self.axes.get_xlim())
        eps = (hi - lo) * 1e-9
        locs = [float(v) for v in self.locator.tick_values(lo, hi) if lo - eps <= v <= hi + eps]
        self.formatter.set_locs(locs)
        return [(v, self.formatter(v, i)) for i, v in enumerate(locs)]

    def get_children(self) -> list[Artist]:
        return list(self._drawn)

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        ax, fig = self.axes, self.axes.figure
        ticks = self.ticks()
        y = self.axis == "y"
        along = ax.get_yaxis_transform() if y else ax.get_xaxis_transform()
        out = self.mark_size + self.pad  # points from the spine to the labels
        shift = (-out, 0) if y else (0, -out)
        art: list[Artist] = []
        if self.grid and ticks:
            segments = [[(0, v), (1, v)] if y else [(v, 0), (v, 1)] for v, _ in ticks]
            art.append(LineCollection(segments, colors=GRID, linewidths=0.7,
                                      transform=along, gid="uso-grid"))
        pos = [v for v, _ in ticks]
        art.append(Line2D([0] * len(pos) if y else pos, pos if y else [0] * len(pos),
                          transform=along, linestyle="none", color=self.mark_colour,
                          marker=TICKLEFT if y else TICKDOWN, markersize=self.mark_size,
                          markeredgewidth=self.mark_width, gid="uso-tickmarks"))
        at = offset_copy(along, fig, *shift, units="points")  # one for all the labels
        labels = [Text(0 if y else v, v if y else 0, text, fontproperties=self.font,
                       color=TEXT, ha="right" if y else "center",
                       va="center_baseline" if y else "top", gid="uso-tick", transform=at)
                  for v, text in ticks if text]
        art += labels
        for a in art:
            a.set_figure(fig)
            a.draw(renderer)
        if self.label:
            art.append(self._title(renderer, labels))
        self._drawn = art
        self.stale = False

    def _title(self, renderer, labels: list[Text]) -> Text:
        """The axis title beyond the widest (y) or below the (x) tick labels."""
        fig = self.axes.figure
        y = self.axis == "y"
        extents = [t.get_window_extent(renderer) for t in labels]
        depth = max((e.width if y else e.height for e in extents), default=0) * 72 / fig.dpi
        away = -(self.mark_size + self.pad + depth + 4)  # points from the spine
        title = Text(0 if y else 0.5, 0.5 if y else 0, self.label, fontproperties=self.label_font,
                     color=MUTED, rotation=90 if y else 0, ha="center",
                     va="bottom" if y else "top", gid="uso-axis-title",
                     transform=offset_copy(self.axes.transAxes, fig, *((away, 0) if y else
                                                                       (0, away)),
                                           units="points"))
        title.set_figure(fig)
        title.draw(renderer)
        return title


def axis_ticks(ax: Axes, axis: str = "y") -> list[tuple[float, str]]:
    """(position, label) of the ticks a :class:`LightAxis` draws (tests, notebooks)."""
    for artist in ax.artists:
        if isinstance(artist, LightAxis) and artist.axis == axis:
            return artist.ticks()
    return []


def year_axis(ax: Axes, years: Iterable[int], *, label: str | None = None) -> LightAxis:
    years = sorted(set(int(y) for y in years))
    if 0 < len(years) <= 8:
        locator: Locator = FixedLocator(years)
    else:
        locator = MaxNLocator(nbins=8 if len(years) <= 12 else 9, integer=True)
    return LightAxis(ax, "x", locator, YearFormatter(), grid=False, label=label)


def category_axis(ax: Axes, positions: Sequence[float], labels: Sequence[str], *,
                  axis: str = "x") -> LightAxis:
    """Fixed labels at fixed positions (a bar per year, say)."""
    return LightAxis(ax, axis, FixedLocator(list(positions)),
                     FixedFormatter(list(labels)), grid=False)


def value_axis(ax: Axes, axis: str = "y", decimals: int | None = None, *, grid: bool = True,
               absolute: bool = False, label: str | None = None) -> LightAxis:
    # steps of 1, 2, 2.5 or 5 times a power of ten: 1.5 or 3 steps read awkwardly
    return LightAxis(ax, axis, MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]),
                     FinnishFormatter(decimals, absolute=absolute), grid=grid, label=label)


def bars(ax: Axes, positions, values, *, width: float, color, horizontal: bool = True,
         base=None, zorder: float = 2, gid: str | None = None, edgecolor: str = "none",
         linewidth: float = 0.0) -> list[Rectangle]:
    """Bars as plain rectangles (``barh``/``bar`` with ``align="center"``), for charts that
    set both axis limits themselves.

    ``Axes.bar`` also updates the data limits patch by patch and builds a container; every
    house bar chart fixes its limits to make room for the value labels, so that work would
    be thrown away."""
    positions = np.asarray(positions, dtype=float)
    values = np.asarray(values, dtype=float)
    bases = np.zeros(len(values)) if base is None else np.asarray(base, dtype=float)
    colours = [color] * len(values) if isinstance(color, str) else list(color)
    out = []
    for p, v, b, c in zip(positions, values, bases, colours, strict=True):
        xy, w, h = ((b, p - width / 2), v, width) if horizontal else ((p - width / 2, b), width, v)
        rect = Rectangle(xy, w, h, facecolor=c, edgecolor=edgecolor, linewidth=linewidth,
                         zorder=zorder, gid=gid)
        ax.add_artist(rect)
        out.append(rect)
    return out


def bar_rows(ax: Axes, positions: list[float], names: list[str]) -> None:
    """Finish a horizontal bar chart: one row per name from the top, the names as row labels,
    no value axis (the bars carry their value labels) and no frame on the left or bottom."""
    ax.set_ylim(len(names) - 0.5, -0.5)
    row_labels(ax, positions, names)
    ax.xaxis.set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


def row_labels(ax: Axes, positions: Iterable[float], names: Iterable[str],
               bold: Iterable[bool] = ()) -> None:
    """Category names left of horizontal bars, as plain texts (gid ``uso-row``).

    Cheaper than y tick labels: every matplotlib tick carries two lines and two texts that
    are built and drawn even at length 0, and bar charts are most of a report."""
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    bold = list(bold)
    for i, (y, name) in enumerate(zip(positions, names, strict=True)):
        label(ax, name, (0, y), coords=("axes fraction", "data"), offset=(-5, 0), ha="right",
              va="center", fontsize=LABEL_SIZE + 0.5, color=TEXT,
              fontweight="bold" if i < len(bold) and bold[i] else "normal", gid="uso-row")


def label(ax: Axes, text: str, xy: tuple[float, float], *, offset: tuple[float, float] = (0, 0),
          coords: str | tuple[str, str] = "data", **kwargs) -> Text:
    """A text ``offset`` points from ``xy``: what ``ax.annotate(..., xytext=offset,
    textcoords="offset points")`` draws, as a plain Text placed by a fixed transform.

    An Annotation works out its position and whether its point is in view on every draw, and
    a report draws some five hundred value and row labels. ``coords``: ``"data"``,
    ``"axes fraction"`` or a pair of them (x, y), as ``xycoords``. The text is drawn even
    when ``xy`` is outside the view (``annotation_clip=False``)."""
    return ax.text(xy[0], xy[1], text, transform=_placement(ax, coords, offset), **kwargs)


# the transforms of an axes' labels, by (coords, offset): the labels of a chart share a
# handful of them instead of each making its own (a transform is built, and its matrix
# computed at every draw, per object); kept with the axes, which a recycled skeleton reuses
_placements: weakref.WeakKeyDictionary[Axes, dict] = weakref.WeakKeyDictionary()


def _placement(ax: Axes, coords: str | tuple[str, str], offset: tuple[float, float]):
    key = (coords if isinstance(coords, str) else tuple(coords), tuple(offset))
    known = _placements.get(ax)
    if known is None:
        known = _placements[ax] = {}
    transform = known.get(key)
    if transform is None:
        transforms = {"data": ax.transData, "axes fraction": ax.transAxes,
                      ("axes fraction", "data"): ax.get_yaxis_transform(),
                      ("data", "axes fraction"): ax.get_xaxis_transform()}
        transform = transforms[key[0]]
        if any(offset):
            transform = offset_copy(transform, ax.figure, *offset, units="points")
        known[key] = transform
    return transform


def value_label(value: float, unit: str | None, decimals: int) -> str:
    return fmt.with_unit(value, unit, decimals, missing=NO_DATA)

