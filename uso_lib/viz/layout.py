"""Figure geometry: a chart's size and margins computed in inches from measured text.

Layout is computed from the font's glyph advances instead of ``tight_layout`` or constrained
layout, which draw the figure to measure it; every chart is 7 in wide (A4 text width with a
little room) at 100 dpi, so a PNG is 700 px wide and stays small.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags

from uso_lib import provenance
from uso_lib.viz.style import (
    DPI,
    LABEL_SIZE,
    MUTED,
    RC,
    SOURCE_SIZE,
    SUBTITLE_SIZE,
    TEXT,
    TITLE_SIZE,
    WIDTH,
)


class Chart(Figure):
    """A Figure that shows itself as PNG in a notebook even when pyplot's inline backend was
    never loaded (the charts never go through pyplot), and draws its text unhinted.

    Text is most of the drawing time of these small charts, and FreeType's hinting a good
    part of that; at 100 dpi unhinted glyphs look as good (and match the widths the layout
    measured). The setting must hold while drawing, wherever the caller draws."""

    #: the source line drawn at the bottom of the image (set by :func:`new_chart`), and the
    #: height in inches of the band it has to itself there
    source: str = ""
    source_band: float = 0.0

    def hide_source(self) -> int:
        """Leave the source line out of the image, for a page that prints it as the caption
        right below; returns the pixel rows at the bottom (at the figure's dpi) that held it
        and are now blank, for the caller to crop."""
        for text in self.texts:
            if text.get_gid() == "uso-source":
                text.set_visible(False)
        return int(self.source_band * self.dpi)

    def recycle(self) -> bool:
        """Called by :func:`viz.export.close`: keep this closed chart's skeleton for the next
        chart (:func:`release`). A method, so that export needs no import of this module
        (which imports export to show itself as PNG)."""
        return release(self)

    def draw(self, renderer) -> None:
        old = mpl.rcParams["text.hinting"]
        mpl.rcParams["text.hinting"] = "no_hinting"
        try:
            super().draw(renderer)
        finally:
            mpl.rcParams["text.hinting"] = old

    def _repr_png_(self) -> bytes:
        from uso_lib.viz.export import to_png_bytes

        return to_png_bytes(self, close=False)


# --- text measurement --------------------------------------------------------------------

@cache
def _ft_font(weight: str):
    return get_font(findfont(FontProperties(family="DejaVu Sans", weight=weight)))


@cache
def _advance(char: str, weight: str) -> float:
    """Advance width of one glyph in points per point of font size (unhinted)."""
    font = _ft_font(weight)
    font.set_size(100, 72)
    glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
    return glyph.linearHoriAdvance / 65536 / 100


def text_width(texts: Iterable[str], size: float = LABEL_SIZE + 0.5,
               weight: str = "normal") -> float:
    """Widest of ``texts`` in inches, from the font's glyph advances.

    Summing cached advances costs far less than asking a renderer for each string, which
    matters when every chart sizes its margins and wraps its source line. Charts draw
    unhinted (:class:`Chart`), so the advances are what is drawn; 3 % covers kerning and
    rounding."""
    widest = 0.0
    for t in texts:
        if t:
            widest = max(widest, sum(_advance(c, weight) for c in str(t)))
    return widest * size / 72 * 1.03


def wrap(text: str | None, size: float, width_in: float = WIDTH - 0.3,
         weight: str = "normal") -> list[str]:
    """Wrap a title or source line to the figure width, measuring the words as drawn (a
    fixed character count wraps Finnish compound words too early or too late)."""
    if not text:
        return []
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and text_width([candidate], size, weight) > width_in:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def line_height(size: float) -> float:
    return size * 1.35 / 72


# --- figures -----------------------------------------------------------------------------

def source_text(source: str | Iterable[str] | None) -> str:
    """``"Tilastokeskus, StatFin 11re, 2021"`` -> ``"Lähde: Tilastokeskus, StatFin 11re, 2021"``.

    A chart without a source is a bug, so an empty source raises."""
    line = provenance.source_line(source) if source is not None else ""
    if not line:
        raise ValueError("every chart needs a source line (source='Tilastokeskus, ...')")
    return line


@dataclass
class Frame:
    """A figure with one axes laid out in inches: title, subtitle and legend above, tick
    labels and the source line below."""

    fig: Chart
    ax: Axes
    legend_y: float     # figure fraction of the legend's top edge (if any)
    left: float         # inches
    top_in: float       # inches from the figure top to the axes top
    legend_ncols: int = 1


def new_chart(plot_height: float, *, title: str | None, subtitle: str | None, source,
              left: float = 0.75, right: float = 0.25, bottom: float = 0.45,
              legend: Sequence[str] = ()) -> Frame:
    """Create a Chart whose axes area is ``plot_height`` inches tall, with room above it for
    a legend of the given labels (drawn later with :func:`legend`)."""
    ncols, legend_rows = legend_layout(legend)
    title_lines = wrap(title, TITLE_SIZE, weight="bold")
    subtitle_lines = wrap(subtitle, SUBTITLE_SIZE)
    source_lines = wrap(source_text(source), SOURCE_SIZE)
    pad = 0.12
    top = pad + len(title_lines) * line_height(TITLE_SIZE) \
        + len(subtitle_lines) * line_height(SUBTITLE_SIZE)
    legend_top = top + (0.04 if legend_rows else 0)
    top = legend_top + legend_rows * 0.22 + 0.16
    below = bottom + len(source_lines) * line_height(SOURCE_SIZE) + 0.1
    height = top + plot_height + below
    fig, ax = _skeleton(height)
    fig.subplots_adjust(left=left / WIDTH, right=1 - right / WIDTH, top=1 - top / height,
                        bottom=below / height)
    x0 = 0.1 / WIDTH
    y = 1 - pad / height
    if title_lines:
        fig.text(x0, y, "\n".join(title_lines), ha="left", va="top", fontsize=TITLE_SIZE,
                 fontweight="bold", color=TEXT, linespacing=1.1)
        y -= len(title_lines) * line_height(TITLE_SIZE) / height
    if subtitle_lines:
        fig.text(x0, y, "\n".join(subtitle_lines), ha="left", va="top",
                 fontsize=SUBTITLE_SIZE, color=MUTED, linespacing=1.1)
    fig.text(x0, 0.08 / height, "\n".join(source_lines), ha="left", va="bottom",
             fontsize=SOURCE_SIZE, color=MUTED, linespacing=1.1, gid="uso-source")
    fig.source = source_text(source)
    fig.source_band = len(source_lines) * line_height(SOURCE_SIZE) + 0.02
    return Frame(fig, ax, 1 - legend_top / height, left, top, ncols)


# -- chart skeletons: a figure with its axes, reused once a chart is closed ------------------
# Making an Axes is a good part of a small chart's cost (matplotlib builds its spines, patch,
# transforms and a first tick of each axis, which a house chart never shows), and every house
# chart has the same skeleton: one Axes in the house style, matplotlib's axes hidden. A chart
# closed through viz.close (the report closes every chart it embeds) gives its skeleton back,
# emptied, for the next chart of the same thread; tests/test_viz.py checks that a chart drawn
# on a reused skeleton has the pixels of a fresh one.
_pool = threading.local()
POOL_SIZE = 4


def _skeleton(height: float) -> tuple[Chart, Axes]:
    free: list[Chart] = _pool.__dict__.setdefault("free", [])
    if free:
        fig = free.pop()
        fig.set_size_inches(WIDTH, height)
        fig.set_dpi(DPI)
        return fig, fig.axes[0]
    with mpl.rc_context(RC):  # the skeleton in the house style wherever it is made
        fig = Chart(figsize=(WIDTH, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        # the light axes (viz.artists) draw every tick and label a house chart shows, so
        # matplotlib's own axes are never drawn: no tick layout, no tick label measurements
        ax.xaxis.set_visible(False)
        ax.yaxis.set_visible(False)
    return fig, ax


def release(fig: Chart) -> bool:
    """Empty a closed house chart and keep its skeleton for the next chart of this thread;
    False (nothing kept) when it is not a plain house chart any more or the pool is full."""
    free: list[Chart] = _pool.__dict__.setdefault("free", [])
    axes = fig.axes
    if (len(free) >= POOL_SIZE or len(axes) != 1 or fig in free
            or axes[0].xaxis.have_units() or axes[0].yaxis.have_units()
            or axes[0].xaxis.get_visible() or axes[0].yaxis.get_visible()):
        return False
    ax = axes[0]
    for group in (ax.lines, ax.patches, ax.texts, ax.collections, ax.images, ax.artists,
                  ax.tables, fig.texts, fig.artists, fig.images, fig.lines, fig.patches,
                  fig.legends):
        for artist in list(group):
            artist.remove()
    ax.relim()  # no data left: the data limits are empty again
    ax.set_xlim(0, 1, auto=True)
    ax.set_ylim(0, 1, auto=True)
    ax.set_prop_cycle(RC["axes.prop_cycle"])
    for side, spine in ax.spines.items():
        spine.set_visible(bool(RC.get(f"axes.spines.{side}", True)))
    fig.source, fig.source_band = "", 0.0
    free.append(fig)
    return True


def legend_layout(labels: Sequence[str], max_cols: int = 4) -> tuple[int, int]:
    """(columns, rows) so that the widest entry fits every column of the 7-inch figure."""
    if not labels:
        return 1, 0
    # handle 2.2 em + gap 0.5 em + column spacing 1.5 em at 9 pt ~ 0.55 in
    column = text_width(labels, LABEL_SIZE + 0.5) + 0.55
    ncols = max(1, min(max_cols, len(labels), int((WIDTH - 0.2) // column)))
    return ncols, math.ceil(len(labels) / ncols)



def spread(positions: Sequence[float], gap: float) -> list[float]:
    """``positions`` moved as little as possible so that any two are at least ``gap`` apart,
    in the same order: the end labels of lines that finish close together (two population
    projections of one municipality often end within a few residents) otherwise print over
    each other. A run of labels that would overlap moves as one block, centred where its
    members want to be (the least-squares placement)."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    blocks: list[list[float]] = []  # [start, sum of (wanted - offset in block), size]
    for i in order:
        blocks.append([positions[i], positions[i], 1])
        while len(blocks) > 1 and blocks[-2][0] + blocks[-2][2] * gap > blocks[-1][0]:
            top = blocks.pop()
            low = blocks[-1]
            low[1] += top[1] - low[2] * gap * top[2]
            low[2] += top[2]
            low[0] = low[1] / low[2]
    out = [0.0] * len(positions)
    k = 0
    for start, _, size in blocks:
        for j in range(int(size)):
            out[order[k]] = start + j * gap
            k += 1
    return out
