"""LightAxes (uso_lib.viz.axes): no matplotlib tick is made until one is needed, and whatever
a chart does with ticks draws exactly as on a plain Axes.

Each chart is built twice, on a plain ``Axes`` and on a ``LightAxes``, and the two RGBA
buffers must be equal to the byte. The charts use matplotlib's ticks in the ways that tell a
lazily made tick from one made with the Axes: rcParams in force when the Axes was made but not
when it is drawn, a grid colour with its own alpha (``Tick.__init__`` and
``Tick._apply_params`` treat it differently), spines moved (which resets the ticks), an
axis with no tick at all (whose first tick would have positioned the spines), a cleared Axes.
The house charts are built from the embedded snapshot with ``new_chart`` wired to LightAxes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import matplotlib as mpl
import matplotlib.axis as maxis
import numpy as np
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from uso_lib import compare, viz
from uso_lib.store import Store
from uso_lib.viz import theme as st
from uso_lib.viz.axes import LightAxes

Build = Callable[[Figure, type[Axes]], None]


def pixels(fig: Figure) -> np.ndarray:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def figure() -> Figure:
    return Figure(figsize=(4, 3), dpi=80)


def render(build: Build, cls: type[Axes]) -> np.ndarray:
    fig = figure()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seaborn's and matplotlib's deprecation chatter
        build(fig, cls)
    return pixels(fig)


@pytest.fixture
def ticks_made(monkeypatch) -> list:
    """Every matplotlib Tick constructed while the test runs."""
    made: list = []
    init = maxis.Tick.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(maxis.Tick, "__init__", counting)
    return made


# --- charts that use matplotlib's ticks ----------------------------------------------------

def grid_and_labels(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.grid(True)
    ax.set_xlabel("vuosi")
    ax.set_ylabel("henkeä")


def made_under_house_rc(fig, cls):
    # the ticks' sizes, colours and fonts come from the rcParams at the Axes' creation
    with mpl.rc_context(st.RC):
        ax = fig.add_subplot(axes_class=cls)
        ax.plot([1, 3, 2])
    ax.grid(True)


def made_under_other_rc(fig, cls):
    with mpl.rc_context({"xtick.color": "red", "xtick.major.size": 10, "ytick.labelsize": 14,
                         "grid.color": "green", "xtick.direction": "in", "axes.grid": True,
                         "ytick.minor.visible": True}):
        ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.grid(True, linestyle=":")


def grid_colour_with_alpha(fig, cls):
    # the grid keeps the alpha its first tick was made with (1), not the colour's 0.3
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.grid(color=(1, 0, 0, 0.3), linewidth=4)


def tick_params(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.tick_params(colors="blue", length=8, width=2, direction="inout", labelsize=12, pad=6)
    ax.tick_params(axis="x", labelrotation=45, grid_color="m", grid_alpha=0.5)
    ax.grid(True)


def minor_ticks_log_scale(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 10, 1000])
    ax.set_yscale("log")
    ax.minorticks_on()
    ax.tick_params(which="minor", color="red", length=4)
    ax.grid(True, which="both")


def xticks_with_rotated_labels(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.bar([0, 1, 2], [3, 1, 2])
    ax.set_xticks([0, 1, 2], ["yksi", "kaksi", "kolme"], rotation=30, ha="right", color="g")
    ax.invert_yaxis()


def inverted_ticks_on_top_with_title(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.invert_xaxis()
    ax.xaxis.tick_top()
    ax.yaxis.set_ticks_position("both")
    ax.set_title("otsikko")  # places itself above top tick labels (get_ticks_position)


def shared_axes(fig, cls):
    left = fig.add_subplot(1, 2, 1, axes_class=cls)
    right = fig.add_subplot(1, 2, 2, sharey=left, axes_class=cls)
    left.plot([1, 3, 2])
    right.plot([2, 5, 1])
    left.set_ylabel("arvo")
    right.label_outer()
    fig.align_ylabels()


def spines_moved(fig, cls):
    # Spine.set_position resets the axis's ticks
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([-1, 3, 2])
    ax.spines.left.set_position(("data", 0))
    ax.spines.bottom.set_position(("outward", 10))


def no_ticks_at_all(fig, cls):
    # no tick is ever made; the spines must still be where a tick would have put them
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.xaxis.set_major_locator(NullLocator())
    ax.set_yticks([])
    ax.set_xlabel("x")
    ax.set_ylabel("y")


def cleared(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.grid(True)
    ax.cla()
    ax.plot([3, 1, 2])


def ticks_after_a_first_draw(fig, cls):
    ax = fig.add_subplot(axes_class=cls)
    ax.plot([1, 3, 2])
    ax.xaxis.set_major_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    pixels(fig)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(4))
    ax.tick_params(axis="x", colors="r", labelrotation=90)


def seaborn_bars(fig, cls):
    with sns.axes_style("whitegrid"):
        ax = fig.add_subplot(axes_class=cls)
        sns.barplot(x=["a", "b", "c"], y=[1, 3, 2], ax=ax)
        sns.despine(ax=ax)


def dates_and_categories(fig, cls):
    top = fig.add_subplot(2, 1, 1, axes_class=cls)
    top.plot(["a", "b", "c"], [1, 3, 2])
    bottom = fig.add_subplot(2, 1, 2, axes_class=cls)
    bottom.plot(pd.date_range("2020-01-01", periods=5, freq="MS"), [1, 2, 3, 2, 1])


TICK_CHARTS = [grid_and_labels, made_under_house_rc, made_under_other_rc,
               grid_colour_with_alpha, tick_params, minor_ticks_log_scale,
               xticks_with_rotated_labels, inverted_ticks_on_top_with_title, shared_axes,
               spines_moved, no_ticks_at_all, cleared, ticks_after_a_first_draw, seaborn_bars,
               dates_and_categories]


@pytest.mark.parametrize("build", TICK_CHARTS, ids=lambda f: f.__name__)
def test_charts_with_matplotlib_ticks_draw_identically(build):
    plain = render(build, Axes)
    light = render(build, LightAxes)
    assert plain.shape == light.shape
    differ = int((plain != light).any(axis=2).sum())
    assert differ == 0, f"{differ} pixels differ"


def test_the_cases_are_sensitive():
    """The cases above can fail: what they check shows in the pixels or the artists."""
    # the same chart made outside the house rcParams draws differently
    def outside(fig, cls):
        ax = fig.add_subplot(axes_class=cls)
        ax.plot([1, 3, 2])
        ax.grid(True)

    assert not np.array_equal(render(made_under_house_rc, LightAxes), render(outside, Axes))
    # a tick made from the final keywords would take the colour's alpha, 0.3
    fig = figure()
    grid_colour_with_alpha(fig, LightAxes)
    pixels(fig)
    assert fig.axes[0].xaxis.get_gridlines()[0].get_alpha() == 1.0
    # a new Axes's spines are in data coordinates until a tick is made or stood in for
    fig = figure()
    no_ticks_at_all(fig, LightAxes)
    ax = fig.axes[0]
    assert ax.spines.bottom.get_transform() != ax.transData


@pytest.mark.parametrize("build", [tick_params, no_ticks_at_all, shared_axes],
                         ids=lambda f: f.__name__)
def test_tight_bbox_png_is_identical(build):
    out = []
    for cls in (Axes, LightAxes):
        fig = figure()
        build(fig, cls)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
        out.append(buf.getvalue())
    assert out[0] == out[1]


# --- tick construction ---------------------------------------------------------------------

def test_a_new_light_axes_makes_no_tick(ticks_made):
    fig = figure()
    fig.add_subplot()
    assert len(ticks_made) == 4  # plain: first major and minor tick of x and y
    del ticks_made[:]
    ax = fig.add_subplot(2, 1, 2, axes_class=LightAxes)
    assert ticks_made == []
    # nothing is lost: the first tick made later has what clear() gave it
    ticks = ax.xaxis.get_major_ticks(1)
    assert len(ticks_made) == 1 and ticks[0].gridline.get_visible() is False
    assert ticks[0].gridline.clipbox is not None  # clipped to the Axes patch
    assert "majorTicks" in ax.xaxis.__dict__ and "minorTicks" not in ax.xaxis.__dict__


def test_drawing_an_axis_without_tick_locations_makes_no_tick(ticks_made):
    fig = figure()
    ax = fig.add_subplot(axes_class=LightAxes)
    ax.plot([1, 3, 2])
    ax.xaxis.set_major_locator(NullLocator())
    ax.set_yticks([])
    pixels(fig)
    assert ticks_made == []
    # the lists are lazy again, not left as empty stand-ins
    assert not {"majorTicks", "minorTicks"} & (set(vars(ax.xaxis)) | set(vars(ax.yaxis)))
    assert len(ax.xaxis.majorTicks) == 1 and len(ticks_made) == 1


def test_ticks_are_made_when_drawn():
    fig = figure()
    ax = fig.add_subplot(axes_class=LightAxes)
    ax.plot([1, 3, 2])
    pixels(fig)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == [t.get_text() for t in _plain_labels()]
    assert len(ax.xaxis.majorTicks) > 1


def _plain_labels():
    fig = figure()
    ax = fig.add_subplot()
    ax.plot([1, 3, 2])
    pixels(fig)
    return ax.get_xticklabels()


# --- house charts from the embedded snapshot -------------------------------------------------

@pytest.fixture(scope="module")
def store() -> Store:
    return Store("snapshot")


def house_line_chart(store):
    df = store.series("vaesto", "178")
    df = df[df["year"] >= 2010]
    return viz.time_series(df.assign(name="Juva")[["year", "name", "value"]], unit="henkeä",
                           title="Väkiluku", source=df["source"].iloc[0])


def house_ranking(store):
    rk = compare.ranking("pienituloisuusaste", "Juva",
                         ["Mäntyharju", "Mikkeli", "Pertunmaa", "Kangasniemi"], store=store)
    return viz.ranking_bars(rk, mean=True, unit="%", title="Pienituloisuusaste",
                            source=rk.attrs["source"])


def house_pyramid(store):
    proj = store.series("vaestoennuste", "178", category=None)
    proj = proj[proj["year"] == 2040]
    five = proj[proj["category"].str.fullmatch(r"\d+-\d+")
                & ~proj["category"].isin(["0-6", "7-15", "16-18"])]
    return viz.population_pyramid(five, title="Juva 2040", source=five["source"].iloc[0])


def chart_axes(monkeypatch, cls: type[Axes]) -> None:
    """theme.new_chart's ``fig.add_subplot`` makes a ``cls`` (whatever new_chart asks for)."""
    add_subplot = Figure.add_subplot

    def forced(self, *args, **kwargs):
        return add_subplot(self, *args, **{**kwargs, "axes_class": cls})

    monkeypatch.setattr(st.Chart, "add_subplot", forced)


@pytest.mark.parametrize("chart", [house_line_chart, house_ranking, house_pyramid],
                         ids=lambda f: f.__name__)
def test_house_charts_draw_identically_and_make_no_tick(chart, store, ticks_made,
                                                        monkeypatch):
    chart_axes(monkeypatch, Axes)
    fig = chart(store)
    plain = pixels(fig)
    assert type(fig.axes[0]) is Axes and len(ticks_made) == 4
    del ticks_made[:]
    chart_axes(monkeypatch, LightAxes)
    fig = chart(store)
    light = pixels(fig)
    assert isinstance(fig.axes[0], LightAxes)
    assert ticks_made == []
    differ = int((plain != light).any(axis=2).sum())
    assert differ == 0, f"{differ} pixels differ"


def test_a_rasterized_axis_stays_rasterized():
    """LightXAxis.draw delegates to matplotlib's, which does the rasterizing; matplotlib must
    not wrap it as a draw method that cannot rasterize (it would warn and draw vectors)."""
    out = []
    for cls in (Axes, LightAxes):
        fig = figure()
        ax = fig.add_subplot(axes_class=cls)
        ax.plot([1, 3, 2], rasterized=True)
        ax.grid(True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ax.xaxis.set_rasterized(True)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "Producer": None})
        out.append(buf.getvalue())
    assert out[0] == out[1]
