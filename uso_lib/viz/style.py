"""The house style: colours, font sizes and the rcParams every chart is drawn under.

Charts are drawn on plain :class:`matplotlib.figure.Figure` objects with an Agg canvas, never
through pyplot: a report batch draws thousands of charts, and figures outside pyplot's registry
are freed as soon as nobody holds them (no ``plt.close`` bookkeeping, no global backend switch
that would break a notebook's inline display).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import matplotlib as mpl
import seaborn as sns
from cycler import cycler

# seaborn's colour-blind-safe palette (derived from Okabe & Ito):
# blue, orange, green, vermillion, pink, brown, light pink, grey, yellow, sky blue.
PALETTE: list[str] = sns.color_palette("colorblind").as_hex()
HIGHLIGHT = PALETTE[0]       # the municipality: one strong colour
PEER = "#bdbdbd"             # comparison municipalities: muted grey
PEER_LINE = "#c8c8c8"
TEXT = "#262626"
MUTED = "#666666"            # subtitles, source lines, "ei tietoa"
GRID = "#e6e6e6"
SHADE = "#ebebeb"            # light fills (projection period, land outside the region); a
                             # lighter grey merges with white in the report's 48-colour PNGs
POSITIVE = PALETTE[0]        # growth in diverging bars
NEGATIVE = PALETTE[3]        # decline in diverging bars
MEN, WOMEN = PALETTE[0], PALETTE[1]
CATEGORY_COLOURS: list[str] = [PALETTE[i] for i in (0, 1, 2, 3, 4, 9, 5, 8, 6, 7)]

NO_DATA = "ei tietoa"

P = ParamSpec("P")
R = TypeVar("R")

WIDTH = 7.0   # inches
DPI = 100
BASE_SIZE = 9.0
TITLE_SIZE = 11.0
SUBTITLE_SIZE = 8.5
SOURCE_SIZE = 7.5
LABEL_SIZE = 8.0

RC: dict[str, object] = {
    **sns.axes_style("ticks"),
    "font.family": "sans-serif",
    # bundled with matplotlib, so every machine draws the same glyphs (incl. U+00A0, U+2212)
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": BASE_SIZE,
    "axes.titlesize": BASE_SIZE + 1,
    "axes.labelsize": BASE_SIZE,
    "axes.labelcolor": MUTED,
    "xtick.labelsize": LABEL_SIZE + 0.5,
    "ytick.labelsize": LABEL_SIZE + 0.5,
    "legend.fontsize": LABEL_SIZE + 0.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c8c8c",
    "axes.linewidth": 0.8,
    "xtick.color": "#8c8c8c",
    "ytick.color": "#8c8c8c",
    "xtick.labelcolor": TEXT,
    "ytick.labelcolor": TEXT,
    "axes.prop_cycle": cycler(color=CATEGORY_COLOURS),
    "axes.unicode_minus": True,
    "axes.formatter.use_locale": False,
    "grid.color": GRID,
    "grid.linewidth": 0.7,
    "lines.linewidth": 1.8,
    "patch.force_edgecolor": False,
    "text.color": TEXT,
    "figure.figsize": (WIDTH, 3.4),
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
}


@contextmanager
def style() -> Iterator[None]:
    """``with viz.style(): ...`` draws ad-hoc matplotlib/seaborn charts in the house style;
    the chart functions use it themselves."""
    with mpl.rc_context(RC):
        yield


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Draw a chart function's artists under the house rcParams whatever the session's own
    settings are (rcParams are read when an artist is created)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpl.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def apply_style() -> None:
    """Set the house style for the whole session (a notebook drawing its own charts)."""
    mpl.rcParams.update(RC)

