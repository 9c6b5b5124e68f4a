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

Building that key is itself on the hot path (every text is measured once or twice and drawn
once), and asking the font manager for the files each time (``_find_fonts_by_props`` copies
the properties per family and hashes them for ``findfont``'s cache, ~10 µs) cost a good part
of what the caches save. :class:`FontFileMemo` remembers the answer per font properties and
forgets everything whenever matplotlib's own ``findfont`` cache is cleared (``addfont`` does
that) or anything else the answer depends on differs: the ``font.*`` family lists, the
fallback family, the manager's font list (replaced or grown).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from math import cos, radians, sin
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg, get_hinting_flag
from matplotlib.font_manager import FontManager, FontProperties
from matplotlib.font_manager import fontManager as _font_manager

if TYPE_CHECKING:
    from matplotlib.backend_bases import GraphicsContextBase
    from matplotlib.text import Text

__all__ = [
    "BITMAP_CACHE",
    "FONT_FILES",
    "METRICS_CACHE",
    "ChartCanvas",
    "ChartRenderer",
    "FontFileMemo",
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


#: ``dict.__getitem__`` reads an rcParam without ``RcParams.__getitem__``'s checks for
#: deprecated keys and the "backend" key (a fifth of a microsecond each, eight reads per key);
#: none of the keys read here is deprecated (a test keeps that true), so the value is the same.
_rc_get = dict.__getitem__


class _ClearProbe(FontProperties):
    """A FontProperties whose "font file" is a new object each time matplotlib's
    ``FontManager._findfont_cached`` actually runs for it.

    That function is an ``lru_cache`` which ``FontManager.addfont`` empties (``cache_clear``):
    matplotlib's own signal that lookups made before may now be stale. Looking the probe up
    returns the same object for as long as the cache keeps the probe's entry and a new one
    once the cache has been cleared, so :class:`FontFileMemo` sees every clear however many
    other lookups happened in between (a count of hits and misses would not). Identity hash
    and equality keep the probe's cache entry its own and cheap to find. Should the entry
    ever be evicted (it is looked up on every text, so it stays recent), the memo is merely
    emptied once more than needed."""

    def get_file(self) -> object:  # type: ignore[override]
        """A fresh token: ``_findfont_cached`` returns (and caches) a font's file as is."""
        return object()

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


class FontFileMemo:
    """The font files (``FontManager._find_fonts_by_props``) a FontProperties resolves to,
    remembered in a small bounded dict so that a text cache key costs ~2 µs, not ~10.

    The answer depends on the properties (family list, style, variant, weight, stretch, size,
    a fixed file), on the generic family lists ``font.serif`` ... ``font.monospace`` (which
    ``findfont`` passes to its own cache as ``rc_params``), and on the fonts the manager
    knows. (``font.family`` is read when a FontProperties is made: it is the properties'
    family list then.) The properties are the memo's key, read afresh on every lookup (a
    FontProperties can change in place). Everything else is the state the entries were made
    under, checked on every lookup; the memo is emptied when

    - matplotlib's ``findfont`` cache has been cleared (``addfont`` clears it; see
      :class:`_ClearProbe`), which is exactly when matplotlib itself stops trusting earlier
      lookups,
    - the manager's ``ttflist`` is another list or another length (a rebuild after a missing
      font file replaces it; appending to it directly lengthens it),
    - ``defaultFamily["ttf"]``, the fallback when no family is found, has changed, or
    - any of the five family lists differs from a copy taken when the state was recorded
      (so a list changed in place counts too).

    Comparing the lists with copies is cheaper than making them part of every key (hashing
    some fifty names per lookup); a process that keeps switching family lists between texts
    would only lose the memo, never get a stale answer."""

    def __init__(self, max_entries: int = 512,
                 manager: FontManager = _font_manager) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._manager = manager
        self._probe = _ClearProbe()
        self._memo: dict[tuple, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        # (probe token, ttflist, its length, fallback family, copies of the family lists)
        # the entries were made under, replaced as a whole
        self._state: tuple[object, list, int, str, list[list[str]]] | None = None
        self.hits = 0
        self.misses = 0
        self.invalidations = 0

    def __len__(self) -> int:
        return len(self._memo)

    def lookup(self, prop: FontProperties) -> tuple[str, ...]:
        """The font files for ``prop`` as the base renderer's ``_prepare_font`` finds them."""
        fm = self._manager
        token = fm._findfont_cached(self._probe, "ttf", None, False, False, ())
        fonts = fm.ttflist
        fallback = fm.defaultFamily["ttf"]
        rc = mpl.rcParams
        # the rc_params of FontManager.findfont, read one by one: cheaper than a loop
        families = [_rc_get(rc, "font.serif"), _rc_get(rc, "font.sans-serif"),
                    _rc_get(rc, "font.cursive"), _rc_get(rc, "font.fantasy"),
                    _rc_get(rc, "font.monospace")]
        state = self._state
        # identity for the probe's token and the font list (a rebuilt list may be equal)
        if not (state is not None and state[0] is token and state[1] is fonts
                and state[2] == len(fonts) and state[3] == fallback
                and state[4] == families):
            with self._lock:
                if self._state is not None:
                    self.invalidations += 1
                self._memo.clear()
                state = self._state = (token, fonts, len(fonts), fallback,
                                       [list(f) for f in families])
        # what _findfont_cached matches on (FontProperties.__hash__ less the math family,
        # which plain text does not use), as a snapshot: the properties may change later
        key = (tuple(prop.get_family()), prop.get_style(), prop.get_variant(),
               prop.get_weight(), prop.get_stretch(), prop.get_size(), prop.get_file())
        files = self._memo.get(key)
        if files is not None:
            self.hits += 1
            return files
        self.misses += 1
        files = tuple(fm._find_fonts_by_props(prop))
        with self._lock:
            # not if another thread has recorded a new state while this lookup ran
            if self._state is state:
                if len(self._memo) >= self.max_entries:
                    del self._memo[next(iter(self._memo))]  # the oldest entry
                self._memo[key] = files
        return files

    def clear(self) -> None:
        """Forget every entry and the recorded state, and reset the counters."""
        with self._lock:
            self._memo.clear()
            self._state = None
            self.hits = self.misses = self.invalidations = 0


#: Font files per font properties: a report uses a few dozen (sizes times weights).
FONT_FILES = FontFileMemo()


def clear_caches() -> None:
    """Empty the text caches and the font file memo (tests; a process that has replaced its
    fonts)."""
    METRICS_CACHE.clear()
    BITMAP_CACHE.clear()
    FONT_FILES.clear()


class ChartRenderer(RendererAgg):
    """matplotlib's Agg renderer with plain-text measurements and glyph bitmaps shared through
    the process-wide caches above (see the module docstring for why and what the keys hold)."""

    def _text_key(self, s: str, prop: FontProperties) -> tuple:
        """Everything :meth:`RendererAgg._prepare_font` and ``set_text`` depend on.

        The font files are the base renderer's own lookup, memoised by :data:`FONT_FILES`,
        so a change of ``font.family`` / ``font.sans-serif``, a fixed font file or a font
        added to the font manager yields a different key rather than a stale hit. The raw
        ``text.hinting`` value stands for the load flags ``get_hinting_flag`` maps it to."""
        rc = mpl.rcParams
        return (s, FONT_FILES.lookup(prop), prop.get_size_in_points(), self.dpi,
                _rc_get(rc, "text.hinting"), _rc_get(rc, "text.hinting_factor"),
                _rc_get(rc, "text.kerning_factor"))

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
