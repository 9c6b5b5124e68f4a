"""uso_lib.viz.agg: charts drawn through ChartCanvas are the pixels matplotlib's own Agg canvas
draws, while their text is measured and rasterised once per process.

The chart is a real house chart (Juva's population from the embedded snapshot store, indexed,
with the whole country and grey peer lines) plus texts chosen so that a cache key missing any
ingredient would hand out a wrong entry: the same string rotated, bold, multi-line, in another
font file, without antialiasing, drawn hinted and unhinted, and at the report's 90 dpi.
"""

from __future__ import annotations

import io
import types

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends import backend_agg
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager

from uso_lib import viz
from uso_lib.store import Store
from uso_lib.viz import agg
from uso_lib.viz.agg import ChartCanvas, ChartRenderer, TextCache

SERIES = {"178": "Juva", "SSS": "Koko maa", "623": "Puumala", "681": "Rantasalmi",
          "768": "Sulkava"}
PEERS = ["Puumala", "Rantasalmi", "Sulkava"]


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    store = Store("snapshot")
    frames = []
    for code, name in SERIES.items():
        s = store.series("vaesto", code, category=None)
        frames.append(s[s["year"] >= 2010].assign(name=name))
    return pd.concat(frames)


@pytest.fixture(autouse=True)
def _empty_caches():
    agg.clear_caches()
    yield
    agg.clear_caches()


def house_chart(population: pd.DataFrame) -> Figure:
    """An indexed population chart as a report draws it, with extra texts that share strings
    and sizes but differ in one key ingredient each."""
    fig = viz.indexed_series(
        population[["year", "name", "value"]], 2010, "Juva", background=PEERS,
        title="Väkiluvun kehitys Juvalla, vertailukunnissa ja koko maassa vuodesta 2010 "
              "alkaen (indeksi) ja pitkä otsikko joka rivittyy",
        source=population["source"].iloc[0])
    ax = fig.axes[0]
    size = 9.5
    fig.text(0.30, 0.45, "Juva", fontsize=size)
    fig.text(0.38, 0.45, "Juva", fontsize=size, rotation=35)             # rotated
    fig.text(0.46, 0.45, "Juva", fontsize=size, rotation=90)
    fig.text(0.54, 0.45, "Juva", fontsize=size, fontweight="bold")       # bold
    fig.text(0.62, 0.45, "Juva", fontsize=size, family="DejaVu Serif")   # another font file
    fig.text(0.70, 0.45, "Juva", fontsize=size, antialiased=False)       # black-and-white
    fig.text(0.78, 0.45, "Juva", fontsize=size + 2)                      # another size
    ax.text(0.25, 0.3, "Koko maa\n2023\nJuva", transform=ax.transAxes, rotation=20,
            fontsize=size, linespacing=1.3)                              # multi-line, rotated
    ax.text(0.5, 0.3, r"$\Delta$ Juva 2023", transform=ax.transAxes)     # math: base renderer
    return fig


def render(fig: Figure, canvas_cls: type[FigureCanvasAgg], *, dpi: float | None = None,
           hinted: bool = False, rc: dict | None = None) -> np.ndarray:
    """The RGBA pixels of ``fig`` drawn through a new ``canvas_cls`` (under ``rc``); ``hinted``
    draws it as a plain Figure would (outside Chart.draw, which turns hinting off)."""
    if dpi is not None:
        fig.set_dpi(dpi)
    canvas = canvas_cls(fig)
    if hinted:
        fig.draw = types.MethodType(Figure.draw, fig)
    try:
        with mpl.rc_context({**({"text.hinting": "force_autohint"} if hinted else {}),
                             **(rc or {})}):
            canvas.draw()
    finally:
        if hinted:
            del fig.draw
    assert isinstance(canvas.get_renderer(), ChartRenderer) == (canvas_cls is ChartCanvas)
    return np.asarray(canvas.buffer_rgba()).copy()


def assert_same_pixels(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    differ = np.argwhere((a != b).any(axis=-1))
    assert len(differ) == 0, f"{len(differ)} pixels differ, first at {differ[:3].tolist()}"


class CountingFont:
    """An FT2Font stand-in that counts ``set_text`` (the FreeType layout the caches save)."""

    def __init__(self, font, counter: list[int]) -> None:
        self._font = font
        self._counter = counter

    def set_text(self, *args, **kwargs):
        self._counter[0] += 1
        return self._font.set_text(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._font, name)


@pytest.fixture
def set_text_calls(monkeypatch) -> list[int]:
    """The number of FT2Font.set_text calls made by renderers from now on (ChartRenderer only:
    matplotlib's own draw_text hands the font object itself to Agg, which a proxy cannot be)."""
    counter = [0]
    real = backend_agg.get_font
    monkeypatch.setattr(backend_agg, "get_font",
                        lambda *a, **k: CountingFont(real(*a, **k), counter))
    return counter


# --- (a) the same pixels ------------------------------------------------------------------

def test_chart_canvas_draws_the_pixels_of_matplotlibs_canvas(population):
    # the chart's own 100 dpi, then the report's PNG_DPI (90) with the 100-dpi text cached
    for dpi in (100, 90):
        plain = render(house_chart(population), FigureCanvasAgg, dpi=dpi)
        misses = agg.BITMAP_CACHE.misses, agg.METRICS_CACHE.misses
        first = render(house_chart(population), ChartCanvas, dpi=dpi)     # fills the caches
        assert agg.BITMAP_CACHE.misses > misses[0] + 20
        assert agg.METRICS_CACHE.misses > misses[1] + 20
        hits = agg.BITMAP_CACHE.hits, agg.METRICS_CACHE.hits
        second = render(house_chart(population), ChartCanvas, dpi=dpi)    # a new figure: hits
        assert agg.BITMAP_CACHE.hits > hits[0] + 20 and agg.METRICS_CACHE.hits > hits[1] + 20
        assert (plain[..., :3] < 128).any()  # something dark (text) was drawn at all
        assert_same_pixels(first, plain)
        assert_same_pixels(second, plain)


def test_hinted_and_unhinted_text_are_cached_apart(population):
    """Chart.draw draws unhinted; the same chart drawn as a plain Figure gets hinted metrics
    and glyphs, not the unhinted ones cached a moment before (and the other way round)."""
    unhinted_ours = render(house_chart(population), ChartCanvas)
    hinted_ours = render(house_chart(population), ChartCanvas, hinted=True)
    unhinted_again = render(house_chart(population), ChartCanvas)
    hinted_plain = render(house_chart(population), FigureCanvasAgg, hinted=True)
    unhinted_plain = render(house_chart(population), FigureCanvasAgg)
    # the case can tell the keys apart: hinting changes the pixels of this chart
    assert (hinted_plain != unhinted_plain).any(axis=-1).sum() > 100
    assert_same_pixels(hinted_ours, hinted_plain)
    assert_same_pixels(unhinted_ours, unhinted_plain)
    assert_same_pixels(unhinted_again, unhinted_plain)


@pytest.mark.parametrize("rc", [{"text.hinting_factor": 1}, {"text.kerning_factor": 6}])
def test_font_shaping_rcparams_are_part_of_the_key(population, rc):
    """hinting_factor and kerning_factor shape the FT2Font itself: text cached under the
    defaults is not reused under another value."""
    default = render(house_chart(population), ChartCanvas)
    ours = render(house_chart(population), ChartCanvas, rc=rc)
    plain = render(house_chart(population), FigureCanvasAgg, rc=rc)
    assert (plain != default).any(axis=-1).sum() > 100
    assert_same_pixels(ours, plain)


def test_savefig_png_through_chart_canvas_is_byte_identical(population):
    """viz.to_png_bytes (savefig) keeps the figure's canvas class for PNG."""
    def png(canvas_cls):
        fig = house_chart(population)
        canvas_cls(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
        return buf.getvalue()

    plain = png(FigureCanvasAgg)
    png(ChartCanvas)
    assert agg.BITMAP_CACHE.misses > 0  # savefig drew through ChartRenderer
    assert png(ChartCanvas) == plain


# --- (b) the caches hit and stay bounded ------------------------------------------------------

def test_second_identical_chart_makes_no_freetype_layout(population, set_text_calls):
    render(house_chart(population), ChartCanvas)
    first = set_text_calls[0]
    assert first > 20  # measuring and drawing the first chart did lay out its text
    render(house_chart(population), ChartCanvas)
    assert set_text_calls[0] == first
    assert len(agg.FONT_FILES) > 2 and agg.FONT_FILES.hits > 100  # sizes, weights, families
    # math text never enters the caches: the base renderer measures and draws it
    keys = [k[0] for k in agg.METRICS_CACHE._data] + [k[0][0] for k in agg.BITMAP_CACHE._data]
    assert "Juva" in keys and not any("$" in k or "Delta" in k for k in keys)
    agg.clear_caches()  # a process that replaced its fonts starts the memo afresh, too
    assert len(agg.FONT_FILES) == len(agg.METRICS_CACHE) == 0


def test_caches_are_bounded_and_stay_correct_when_full(population, monkeypatch):
    assert agg.METRICS_CACHE.max_entries <= 100_000
    assert agg.BITMAP_CACHE.max_entries <= 100_000
    assert agg.BITMAP_CACHE.max_bytes is not None and agg.BITMAP_CACHE.max_bytes <= 2**30
    plain = render(house_chart(population), FigureCanvasAgg)
    monkeypatch.setattr(agg, "METRICS_CACHE", TextCache(max_entries=5))
    monkeypatch.setattr(agg, "BITMAP_CACHE", TextCache(max_entries=50, max_bytes=8000))
    for _ in range(2):
        assert_same_pixels(render(house_chart(population), ChartCanvas), plain)
        assert len(agg.METRICS_CACHE) == 5  # full, never over
        assert 0 < len(agg.BITMAP_CACHE) <= 50 and agg.BITMAP_CACHE.nbytes <= 8000
    assert agg.BITMAP_CACHE.hits > 0  # small entries survived from the first chart


def test_text_cache_evicts_least_recently_used_by_count_and_bytes():
    c = TextCache(max_entries=3)
    for k in "abc":
        c.put(k, k.upper())
    assert c.get("a") == "A"  # "a" is now the most recently used
    c.put("d", "D")
    assert c.get("b") is None and [c.get(k) for k in "acd"] == ["A", "C", "D"]
    assert len(c) == 3 and (c.hits, c.misses) == (4, 1)

    b = TextCache(max_entries=100, max_bytes=1000)
    for i in range(10):
        b.put(i, i, nbytes=200)
    assert b.nbytes == 1000 and len(b) == 5 and b.get(4) is None and b.get(9) == 9
    b.put("huge", 0, nbytes=251)  # over a quarter of the budget: not kept
    assert b.get("huge") is None and b.nbytes == 1000
    b.put(9, 9, nbytes=100)  # replacing an entry counts its bytes once
    assert b.nbytes == 900
    b.clear()
    assert len(b) == 0 and b.nbytes == 0 and b.hits == 0


def test_renderer_is_reused_until_size_or_dpi_changes(population):
    fig = house_chart(population)
    canvas = ChartCanvas(fig)
    r = canvas.get_renderer()
    assert isinstance(r, ChartRenderer) and canvas.get_renderer() is r
    fig.set_dpi(90)
    r90 = canvas.get_renderer()
    assert r90 is not r and isinstance(r90, ChartRenderer) and r90.dpi == 90


# --- (c) the font file memo behind the keys ------------------------------------------------------

def text_figure() -> Figure:
    """A small plain figure whose texts take their family from ``font.family`` when made and
    resolve it through the generic lists (``font.sans-serif`` ...) in force when drawn."""
    fig = Figure(figsize=(3.0, 1.2), dpi=100)
    fig.text(0.05, 0.6, "Juva 2023 Koko maa", fontsize=12)
    fig.text(0.05, 0.2, "Väkiluku", fontsize=10, rotation=5, fontweight="bold")
    return fig


def differing_pixels(a: np.ndarray, b: np.ndarray) -> int:
    return int((a != b).any(axis=-1).sum())


SANS_FIRST = {"font.sans-serif": ["DejaVu Sans", "DejaVu Serif"]}
SERIF_FIRST = {"font.sans-serif": ["DejaVu Serif", "DejaVu Sans"]}


def test_generic_family_list_changed_between_draws_gives_the_new_fonts_pixels():
    """The same figure drawn under one ``font.sans-serif`` order and then another: the second
    draw is in the other font, not the first draw's memoised one."""
    fig = text_figure()
    sans = render(fig, ChartCanvas, rc=SANS_FIRST)
    assert_same_pixels(sans, render(text_figure(), FigureCanvasAgg, rc=SANS_FIRST))
    serif_ours = render(fig, ChartCanvas, rc=SERIF_FIRST)
    serif_plain = render(text_figure(), FigureCanvasAgg, rc=SERIF_FIRST)
    assert differing_pixels(sans, serif_plain) > 100  # the order does change the font
    assert_same_pixels(serif_ours, serif_plain)
    assert_same_pixels(render(fig, ChartCanvas, rc=SANS_FIRST), sans)  # and back again


def test_generic_family_list_changed_in_place_is_noticed():
    """findfont copies the lists into its own cache key, so reordering the list object
    itself changes the font; the memo compares contents, not the list's identity."""
    fig = text_figure()
    with mpl.rc_context(SANS_FIRST):  # restores the list object, not its contents: a copy
        sans = render(fig, ChartCanvas)
        mpl.rcParams["font.sans-serif"].reverse()
        serif_ours = render(fig, ChartCanvas)
    serif_plain = render(text_figure(), FigureCanvasAgg, rc=SERIF_FIRST)
    assert differing_pixels(sans, serif_plain) > 100
    assert_same_pixels(serif_ours, serif_plain)


def test_font_family_changed_between_figures_gives_the_new_fonts_pixels():
    """``font.family`` is read when a text is made: figures made under "serif" after ones made
    under "sans-serif" draw in the serif font through the same process-wide memo."""
    drawn = {}
    for family in ("sans-serif", "serif", "monospace", "sans-serif"):
        with mpl.rc_context({"font.family": family}):
            ours = render(text_figure(), ChartCanvas)
            plain = render(text_figure(), FigureCanvasAgg)
        assert_same_pixels(ours, plain)
        drawn[family] = plain
    assert differing_pixels(drawn["sans-serif"], drawn["serif"]) > 100
    assert differing_pixels(drawn["serif"], drawn["monospace"]) > 100


def test_fallback_family_changed_between_draws_is_noticed(monkeypatch):
    """A family the manager does not know falls back to ``defaultFamily["ttf"]``, which
    ``_find_fonts_by_props`` reads on every call (outside findfont's cache)."""
    fig = text_figure()
    for text in fig.texts:
        text.set_family("No Such Family")
    default = render(fig, ChartCanvas)
    monkeypatch.setitem(fontManager.defaultFamily, "ttf", "DejaVu Serif")
    ours = render(fig, ChartCanvas)
    plain = render(fig, FigureCanvasAgg)
    assert differing_pixels(default, plain) > 100
    assert_same_pixels(ours, plain)


@pytest.fixture
def without_dejavu_serif():
    """The font manager's font list for one test as a copy without "DejaVu Serif" (the
    original list, and a findfont cache without the test's lookups, come back afterwards);
    yields the bundled DejaVu Serif file and its entry, for a test to add back."""
    fm = fontManager
    saved = fm.ttflist
    entry = next(e for e in saved if e.name == "DejaVu Serif"
                 and e.fname.endswith("mpl-data/fonts/ttf/DejaVuSerif.ttf"))
    fm.ttflist = [e for e in saved if e.name != "DejaVu Serif"]
    fm._findfont_cached.cache_clear()
    try:
        yield entry
    finally:
        fm.ttflist = saved
        fm._findfont_cached.cache_clear()


def serif_first_figure() -> Figure:
    fig = text_figure()
    for text in fig.texts:
        text.set_family(["DejaVu Serif", "sans-serif"])
    return fig


def test_font_added_to_the_manager_between_draws_is_used(without_dejavu_serif):
    """Texts asking for DejaVu Serif first draw in DejaVu Sans while the manager lacks it, and
    in DejaVu Serif once ``addfont`` has registered the file: not from the memo of before."""
    fig = serif_first_figure()
    before = render(fig, ChartCanvas)
    assert_same_pixels(before, render(serif_first_figure(), FigureCanvasAgg))
    fontManager.addfont(without_dejavu_serif.fname)
    ours = render(fig, ChartCanvas)
    plain = render(serif_first_figure(), FigureCanvasAgg)
    assert differing_pixels(before, plain) > 100  # the added font is drawn
    assert_same_pixels(ours, plain)


def test_cleared_findfont_cache_is_noticed_without_the_font_list_changing_length(
        without_dejavu_serif):
    """matplotlib's signal that earlier lookups are stale is clearing findfont's cache (what
    addfont does after appending); a font list edited in place, same object and length, then
    cleared must not be answered from the memo."""
    fm = fontManager
    fig = serif_first_figure()
    before = render(fig, ChartCanvas)
    fonts = fm.ttflist
    n = len(fonts)
    i = next(i for i, e in enumerate(fonts) if e.name == "cmr10")  # unused by these texts
    fonts[i] = without_dejavu_serif
    fm._findfont_cached.cache_clear()
    assert fm.ttflist is fonts and len(fonts) == n
    ours = render(fig, ChartCanvas)
    plain = render(serif_first_figure(), FigureCanvasAgg)
    assert differing_pixels(before, plain) > 100
    assert_same_pixels(ours, plain)


@pytest.mark.parametrize("change", [
    "cache_clear", "replace_list", "append_font", "fallback",
    "font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace"])
def test_memo_forgets_on_every_change_its_answer_depends_on(change, monkeypatch):
    """Each ingredient of the memo's state, changed alone, empties it (the next lookup asks
    the font manager again), and an unchanged state keeps it."""
    fm = fontManager
    monkeypatch.setattr(fm, "ttflist", list(fm.ttflist))  # a copy to append to
    memo = agg.FontFileMemo(max_entries=8)
    prop = FontProperties(family="sans-serif", size=9)
    files = memo.lookup(prop)
    assert files == tuple(fm._find_fonts_by_props(prop))
    assert memo.lookup(prop) is files and (memo.hits, memo.misses) == (1, 1)
    with mpl.rc_context():
        if change == "cache_clear":
            fm._findfont_cached.cache_clear()
        elif change == "replace_list":  # as a rebuild does: an equal list, another object
            monkeypatch.setattr(fm, "ttflist", list(fm.ttflist))
        elif change == "append_font":
            fm.ttflist.append(fm.ttflist[0])
        elif change == "fallback":
            monkeypatch.setitem(fm.defaultFamily, "ttf", "DejaVu Serif")
        else:
            mpl.rcParams[change] = [*mpl.rcParams[change], "Another Font"]
        misses = memo.misses
        assert memo.lookup(prop) == tuple(fm._find_fonts_by_props(prop))
        assert memo.invalidations == 1 and memo.misses == misses + 1 and len(memo) == 1
        memo.lookup(prop)
        assert memo.invalidations == 1 and memo.misses == misses + 1


def test_memo_is_bounded_and_keys_on_a_snapshot_of_the_properties():
    memo = agg.FontFileMemo(max_entries=3)
    props = [FontProperties(family="sans-serif", size=s) for s in (8, 9, 10, 11, 12)]
    for p in props:
        memo.lookup(p)
    assert len(memo) == 3
    prop = props[-1]
    sans = memo.lookup(prop)
    prop.set_family("DejaVu Serif")  # the same object, changed after it was memoised
    serif = memo.lookup(prop)
    assert serif != sans and "DejaVuSerif" in serif[0] and len(memo) == 3
    # set_family keeps the caller's list, which may then change in place
    families = ["DejaVu Sans"]
    prop = FontProperties(family=families, size=9)
    assert "DejaVuSans.ttf" in memo.lookup(prop)[0]
    families[0] = "DejaVu Serif"
    assert memo.lookup(prop) == serif == tuple(fontManager._find_fonts_by_props(prop))


def test_rcparams_read_without_their_checks_are_not_deprecated():
    """The keys are read with dict.__getitem__, skipping RcParams' redirects of deprecated
    names; that is only the same value while none of them is deprecated."""
    keys = ["font.serif", "font.sans-serif", "font.cursive", "font.fantasy", "font.monospace",
            "text.hinting", "text.hinting_factor", "text.kerning_factor"]
    assert not [k for k in keys if k in mpl._deprecated_map or k in mpl._deprecated_ignore_map]
    assert all(dict.__getitem__(mpl.rcParams, k) == mpl.rcParams[k] for k in keys)
