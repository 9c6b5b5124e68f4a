"""An Agg canvas whose text is measured and rasterised once per process, not once per chart.

A report draws some fifty small charts, and most of their text is the same from chart to chart
and report to report: the municipality's name, "Koko maa", years, tick labels, source lines, at
a handful of font sizes. With matplotlib's own Agg renderer every one of those strings costs a
FreeType layout (``FT2Font.set_text``, ~110 µs) when it is measured and again when it is drawn:
matplotlib caches measurements per renderer only (``text._get_text_metrics_with_cache`` keys on
a weak reference to it), and every figure has its own canvas and renderer, so nothing carries
over from one chart to the next (~0.25 s CPU per report).

:class:`ChartCanvas` hands out a :class:`ChartRenderer`, which keeps two bounded, process-wide
caches for plain (non-math) text:

- the width, height and descent of a string (``get_text_width_height_descent``), and
- the glyph bitmap of a string and the offsets that place it (``draw_text``); the bitmap is
  still composited by Agg's own ``draw_text_image`` with the same rounding and rotation as
  matplotlib's renderer, so the pixels are the same.

Both are keyed on everything the base renderer's result depends on (matplotlib 3.10,
``backends/backend_agg.py``): the string; the font files the properties resolve to (family,
style, weight, stretch, variant, a fixed file, and the ``font.*`` family lists in force, by the
very lookup the base renderer makes), the size in points and the renderer's dpi; the FreeType
load flags from ``text.hinting`` (:class:`uso_lib.viz.theme.Chart` draws unhinted, other
figures hinted); ``text.hinting_factor`` and ``text.kerning_factor``, which shape the
``FT2Font`` itself; and for bitmaps also the antialiasing of the graphics context (from the
text's ``antialiased`` / ``text.antialiased``). Math text and TeX go to the base renderer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from math import cos, radians, sin
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontProperties
from matplotlib.font_manager import fontManager as _font_manager

if TYPE_CHECKING:
    from matplotlib.backend_bases import GraphicsContextBase
    from matplotlib.text import Text

__all__ = [
    "BITMAP_CACHE",
    "METRICS_CACHE",
    "ChartCanvas",
    "ChartRenderer",
    "TextCache",
    "clear_caches",
]


class TextCache:
    """A thread-safe least-recently-used mapping bounded by entry count and, optionally, bytes.

    Report batches draw thousands of charts in one process (and may draw from several
    threads), so the caches must not grow with the number of distinct strings ever drawn
    (years, values and names keep changing) and must not be corrupted by concurrent use.
    A byte budget bounds the bitmaps, whose size varies with the string (a wrapped source
    line is a hundred times a tick label); an entry larger than a quarter of the budget is
    not kept, so one huge title cannot flush everything else."""

    def __init__(self, max_entries: int, max_bytes: int | None = None) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any | None:
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return item[0]

    def put(self, key: Hashable, value: Any, nbytes: int = 0) -> None:
        """Store ``value`` (``nbytes`` counted against the byte budget), evicting the least
        recently used entries beyond the bounds."""
        if self.max_bytes is not None and nbytes > self.max_bytes // 4:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._data[key] = (value, nbytes)
            self.nbytes += nbytes
            while len(self._data) > self.max_entries or (
                    self.max_bytes is not None and self.nbytes > self.max_bytes):
                _, (_, size) = self._data.popitem(last=False)
                self.nbytes -= size

    def clear(self) -> None:
        """Forget every entry and reset the hit/miss counters."""
        with self._lock:
            self._data.clear()
            self.nbytes = 0
            self.hits = 0
            self.misses = 0


#: (width, height, descent) in pixels of a string: three floats, so many entries are cheap;
#: a report measures some 500-1000 distinct strings, a batch a few thousand more.
METRICS_CACHE = TextCache(max_entries=8192)

#: (bitmap, descent, x offset, y offset) of a drawn string; a tick label's bitmap is ~1 kB, a
#: two-line source line ~15 kB, so 32 MB holds several reports' worth of text.
BITMAP_CACHE = TextCache(max_entries=4096, max_bytes=32 * 2**20)


def clear_caches() -> None:
    """Empty both text caches (tests; a process that has replaced its fonts)."""
    METRICS_CACHE.clear()
    BITMAP_CACHE.clear()


class ChartRenderer(RendererAgg):
    """matplotlib's Agg renderer with plain-text measurements and glyph bitmaps shared through
    the process-wide caches above (see the module docstring for why and what the keys hold)."""

    def _text_key(self, s: str, prop: FontProperties) -> tuple:
        """Everything :meth:`RendererAgg._prepare_font` and ``set_text`` depend on.

        The font files come from the same lookup as the base renderer's, so a change of
        ``font.family`` / ``font.sans-serif``, a fixed font file or a font added to the font
        manager yields a different key rather than a stale hit."""
        rc = mpl.rcParams
        return (s, tuple(_font_manager._find_fonts_by_props(prop)),
                prop.get_size_in_points(), self.dpi, get_hinting_flag(),
                rc["text.hinting_factor"], rc["text.kerning_factor"])

    def get_text_width_height_descent(
            self, s: str, prop: FontProperties, ismath: bool | str
    ) -> tuple[float, float, float]:
        """Width, height and descent of ``s`` in pixels, from the shared cache for plain text
        (math and TeX are measured by the base renderer)."""
        if ismath:  # True or "TeX" (the base renderer validates the value)
            return super().get_text_width_height_descent(s, prop, ismath)
        key = self._text_key(s, prop)
        metrics = METRICS_CACHE.get(key)
        if metrics is None:
            metrics = super().get_text_width_height_descent(s, prop, ismath)
            METRICS_CACHE.put(key, metrics)
        return metrics

    def draw_text(self, gc: GraphicsContextBase, x: float, y: float, s: str,
                  prop: FontProperties, angle: float, ismath: bool | str = False,
                  mtext: Text | None = None) -> None:
        """Draw plain text from a cached glyph bitmap, placed and rotated exactly as
        :meth:`RendererAgg.draw_text` places the bitmap it renders (math text goes to the
        base renderer)."""
        if ismath:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        antialiased = bool(gc.get_antialiased())
        key = (self._text_key(s, prop), antialiased)
        glyphs = BITMAP_CACHE.get(key)
        if glyphs is None:
            font = self._prepare_font(prop)
            # angle 0: the bitmap is rotated in raster space by draw_text_image
            font.set_text(s, 0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=antialiased)
            # a copy of the font's buffer (which the next text overwrites); it stays
            # writeable because draw_text_image refuses read-only arrays, and nothing but
            # draw_text_image (which only reads it) ever sees it
            image = font.get_image()
            xo, yo = font.get_bitmap_offset()
            glyphs = (image, font.get_descent() / 64.0, xo / 64.0, yo / 64.0)
            BITMAP_CACHE.put(key, glyphs, image.nbytes)
        image, d, xo, yo = glyphs
        # the descent is adjusted for the angle, as in the base renderer
        xd = d * sin(radians(angle))
        yd = d * cos(radians(angle))
        x = round(x + xo + xd)
        y = round(y + yo + yd)
        self._renderer.draw_text_image(image, x, y + 1, angle, gc)


class ChartCanvas(FigureCanvasAgg):
    """A :class:`FigureCanvasAgg` that draws with a :class:`ChartRenderer`, so charts share
    text layouts and glyph bitmaps across figures; otherwise the same canvas (PNG, buffer,
    renderer reuse while the size and dpi stay the same)."""

    def get_renderer(self) -> ChartRenderer:
        """The renderer for the figure's current size and dpi (a new one when either changed,
        as in :meth:`FigureCanvasAgg.get_renderer`)."""
        w, h = self.figure.bbox.size
        key = w, h, self.figure.dpi
        if self._lastKey != key:
            self.renderer = ChartRenderer(w, h, self.figure.dpi)
            self._lastKey = key
        return self.renderer
