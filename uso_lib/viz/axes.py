"""An Axes whose matplotlib ticks are made only when something needs them.

``fig.add_subplot()`` costs ~6 ms per Axes, and ~40 % of that is matplotlib making tick
objects (a Tick is three Line2D and two Text) that the house charts never show: the theme
draws its axes with its own :class:`~uso_lib.viz.theme.LightAxis` and gives matplotlib's axis a
NullLocator, and bar charts hide their axes. Matplotlib's tick lists are already lazy (the
``_LazyTickList`` descriptor makes the first tick on first access), but clearing an Axes
touches them straight away: ``grid(False)`` goes through ``Axis.set_tick_params`` and
``set_clip_path(patch)`` through ``Axis.set_clip_path``, both of which loop over the ticks;
and drawing a visible axis touches them again (``Axis._update_ticks`` asks for zero ticks
with ``len(self.majorTicks)``, the spine's extent intersects the drawn ticks with
``majorTicks``), so an axis that shows no tick at all still builds two.

:class:`LightAxes` installs axes (:class:`LightXAxis`, :class:`LightYAxis`) that, while a
tick list does not exist, let those calls see an empty stand-in list and *record* what they
would have done to the first tick; when a tick is really needed (ticks to draw, tick labels
asked for, ``get_ticks_position``...) matplotlib's descriptor makes it and the record is
replayed on it. The replay is exact, not approximate: a tick created later must look as if
it had been created when plain matplotlib created it, because

- a Tick takes its defaults (sizes, colours, fonts, grid style) from the rcParams in force
  when it is made, and the house charts are built under ``rc_context(RC)`` but drawn outside
  it: the first tick is made under the rcParams recorded at that moment;
- ``Tick.__init__(**kw)`` and ``Tick._apply_params(**kw)`` do not always agree (a grid colour
  with an alpha channel: the constructor takes the colour's alpha, ``_apply_params`` keeps
  the alpha the tick was made with), so the first tick is made with the keywords it would
  have been made with and every later ``set_tick_params`` and ``set_clip_path`` is applied to
  it in order, as plain matplotlib applied them;
- making the first tick has a side effect matplotlib relies on: its constructor asks for the
  spines' transforms, and a new Axes's spines get their position (and leave the transData
  transform they start with) only then. A new Axes that never makes a tick would draw its
  spines in data coordinates, so the moment a tick would have been made still does that.

What still makes ticks, as something reads them: tick labels or positions drawn or asked
for, ``get_ticks_position`` (an Axes title places itself with it), ``get_children`` and so
``findobj``, and ``savefig(bbox_inches="tight")`` (the spines' tight boxes read the tick
lists outside the axis's own drawing).

Further ticks are copied from the first one by matplotlib itself (``_copy_tick_props``), as
always. Use as ``fig.add_subplot(axes_class=LightAxes)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.axis import Axis, Tick, XAxis, YAxis
from matplotlib.transforms import Bbox

_NAMES = {True: "majorTicks", False: "minorTicks"}


class _StandIn(list):
    """An empty list standing in for a tick list that does not exist yet (a list subclass,
    so that it can be told from a real tick list)."""


@dataclass
class _Record:
    """What plain matplotlib would have done to a tick list that is not made yet: the first
    tick's keywords and rcParams as at the moment it would have been made, and the
    ``("params", kw)`` / ``("clip", path, transform)`` calls applied to it since."""

    kw: dict[str, Any]
    rc: dict[str, Any]
    ops: list[tuple] = field(default_factory=list)


@contextmanager
def _rc_as(snapshot: dict[str, Any]) -> Iterator[None]:
    """The rcParams of ``snapshot`` while the block runs.

    The values were validated when they were set, so they are put back without validating
    again, the way ``rc_context`` restores its own (``rc_context`` itself would validate all
    ~300 entries). Only entries that are not the very same object are swapped: rcParams
    outside a context are the same objects as when the snapshot was taken."""
    rc = mpl.rcParams
    saved = {}
    for key, value in snapshot.items():
        if key != "backend" and dict.__getitem__(rc, key) is not value:
            saved[key] = dict.__getitem__(rc, key)
            dict.__setitem__(rc, key, value)
    try:
        yield
    finally:
        dict.update(rc, saved)


class _LightAxisMixin(Axis):
    """The lazy-tick behaviour shared by :class:`LightXAxis` and :class:`LightYAxis`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # before Axis.__init__, which may already clear the axis
        self._tick_records: dict[str, _Record] = {}
        super().__init__(*args, **kwargs)

    # --- bookkeeping ---------------------------------------------------------------------

    def _tick_kw(self, name: str) -> dict[str, Any]:
        return self._major_tick_kw if name == "majorTicks" else self._minor_tick_kw

    def _record(self, name: str, kw: dict[str, Any] | None = None) -> _Record:
        """The record of tick list ``name``; begun now if there is none, as this is the
        moment plain matplotlib would make the list's first tick (with keywords ``kw``, by
        default the current ones)."""
        record = self._tick_records.get(name)
        if record is None:
            record = _Record(dict(self._tick_kw(name) if kw is None else kw),
                             dict.copy(mpl.rcParams))
            # The tick's constructor would ask the Axes for its spines' transforms, and a
            # spine whose position is unset (a new Axes) sets it then: without that a new
            # Axes's spines keep their initial transData transform and are drawn in the
            # wrong place. Setting it resets this axis's ticks (Spine.set_position), which
            # in plain matplotlib happens inside the first tick's construction and leaves
            # that tick alone, hence the record is stored only afterwards.
            self._touch_spines()
            self._tick_records[name] = record
        return record

    def _touch_spines(self) -> None:
        """Look up the tick transforms, as a tick's constructor does (spine side effects)."""
        raise NotImplementedError

    def _made(self, name: str) -> bool:
        """Whether tick list ``name`` exists (is neither lazy nor stood in for)."""
        ticks = self.__dict__.get(name)
        return ticks is not None and not isinstance(ticks, _StandIn)

    @contextmanager
    def _standing_in(self, names: tuple[str, ...]) -> Iterator[list[str]]:
        """Empty stand-ins for those of the tick lists ``names`` that do not exist, for a
        block in which plain matplotlib would touch them (and so make their first tick);
        yields the names without real ticks, whose records the block should add to.

        A stand-in placed here that is still in place and empty afterwards is removed, so
        that the lazy descriptor works again (as ``Axis.reset_ticks`` does). One that was
        replaced by real ticks in the block (see :meth:`_need_ticks`) stays replaced."""
        absent = [name for name in names if name not in self.__dict__]
        for name in absent:
            self._record(name)  # may reset the ticks: place the stand-ins afterwards
        placed: dict[str, _StandIn] = {}
        for name in absent:
            if name not in self.__dict__:
                placed[name] = self.__dict__[name] = _StandIn()
        try:
            yield [name for name in names if not self._made(name)]
        finally:
            for name, stand_in in placed.items():
                if self.__dict__.get(name) is stand_in and not stand_in:
                    del self.__dict__[name]

    def _need_ticks(self, *names: str) -> None:
        """Something needs real ticks: drop empty stand-ins so that matplotlib's descriptor
        makes the first tick (through :meth:`_get_tick`) on the next access."""
        for name in names:
            if isinstance(self.__dict__.get(name), _StandIn):
                del self.__dict__[name]

    # --- where plain matplotlib makes ticks that nothing needs -----------------------------

    def set_tick_params(self, which: str = "major", reset: bool = False,
                        **kwargs: Any) -> None:
        """As :meth:`matplotlib.axis.Axis.set_tick_params`; for tick lists not made yet the
        call is recorded instead of making a tick to apply it to (``Axes.clear`` calls this
        through ``grid(False)`` for every new Axes)."""
        if reset:  # touches no tick; reset_ticks() then calls set_clip_path
            super().set_tick_params(which, reset=True, **kwargs)
            return
        kwtrans = self._translate_tick_params(kwargs)  # raises on a bad keyword, as super()
        names = tuple(name for major, name in _NAMES.items()
                      if which in ("both", "major" if major else "minor"))
        for name in names:
            if not self._made(name):
                # plain matplotlib makes the tick after storing the new keywords
                self._record(name, {**self._tick_kw(name), **kwtrans})
        with self._standing_in(names) as stood_in:
            for name in stood_in:
                self._record(name).ops.append(("params", kwtrans))
            super().set_tick_params(which, **kwargs)

    def set_clip_path(self, path: Any, transform: Any = None) -> None:
        """As :meth:`matplotlib.axis.Axis.set_clip_path`; the ticks' clip path is recorded
        for ticks not made yet (``Axes.clear`` clips every axis to the Axes patch)."""
        with self._standing_in(tuple(_NAMES.values())) as stood_in:
            for name in stood_in:
                self._record(name).ops.append(("clip", path, transform))
            super().set_clip_path(path, transform)

    def draw(self, renderer: Any) -> None:
        """As :meth:`matplotlib.axis.Axis.draw`, making no tick if there is none to draw.

        Plain matplotlib makes the first major and minor tick of every visible axis here even
        with a NullLocator: ``get_major_ticks(0)`` checks ``len(self.majorTicks)`` and the
        spine's extent intersects the drawn ticks with ``majorTicks``. An axis with tick
        locations gets its ticks as usual (:meth:`get_major_ticks`)."""
        if not self.get_visible():
            super().draw(renderer)
            return
        with self._standing_in(tuple(_NAMES.values())):
            super().draw(renderer)

    # super().draw is wrapped by allow_rasterization and does the drawing; without this flag
    # Artist.__init_subclass__ would wrap this method in _prevent_rasterization, which stops
    # the rasterizing that a rasterized axis would otherwise continue
    draw._supports_rasterization = True  # type: ignore[attr-defined]

    def get_tightbbox(self, renderer: Any = None, *,
                      for_layout_only: bool = False) -> Bbox | None:
        """As :meth:`matplotlib.axis.Axis.get_tightbbox`, making no tick if there is none
        to measure (same reasons as :meth:`draw`)."""
        if not self.get_visible() or for_layout_only and not self.get_in_layout():
            return super().get_tightbbox(renderer, for_layout_only=for_layout_only)
        with self._standing_in(tuple(_NAMES.values())):
            return super().get_tightbbox(renderer, for_layout_only=for_layout_only)

    # --- where ticks are needed ----------------------------------------------------------

    def get_major_ticks(self, numticks: int | None = None) -> list[Tick]:
        """As :meth:`matplotlib.axis.Axis.get_major_ticks`; asking for no tick makes none
        (``set_yticks([])`` and drawing an axis without tick locations do)."""
        return self._get_ticks("majorTicks", super().get_major_ticks, numticks)

    def get_minor_ticks(self, numticks: int | None = None) -> list[Tick]:
        """As :meth:`matplotlib.axis.Axis.get_minor_ticks`; asking for no tick makes none."""
        return self._get_ticks("minorTicks", super().get_minor_ticks, numticks)

    def _get_ticks(self, name: str, get: Any, numticks: int | None) -> list[Tick]:
        if numticks == 0:  # plain matplotlib makes the first tick here, to return none of it
            with self._standing_in((name,)):
                return get(0)
        self._need_ticks(name)
        return get(numticks)

    def _get_ticks_position(self) -> int | str:
        # reads majorTicks[0] and minorTicks[0]
        self._need_ticks(*_NAMES.values())
        return super()._get_ticks_position()

    def get_tick_padding(self) -> float:
        """As :meth:`matplotlib.axis.Axis.get_tick_padding` (which reads the first ticks)."""
        self._need_ticks(*_NAMES.values())
        return super().get_tick_padding()

    def _get_tick(self, major: bool) -> Tick:
        """A new tick; the first one of a list with a record is made as plain matplotlib
        made it (keywords and rcParams of that moment) and then given the recorded
        ``set_tick_params`` and ``set_clip_path`` calls, in order. Further ticks are made
        as usual: matplotlib copies the first tick's properties onto them."""
        name = _NAMES[major]
        if self.__dict__.get(name) != []:  # not the first: the descriptor has put [] there
            return super()._get_tick(major)
        record = self._tick_records.pop(name, None)
        if record is None:  # nothing deferred: plain matplotlib makes the tick now, too
            return super()._get_tick(major)
        with _rc_as(record.rc):
            tick = self._tick_class(self.axes, 0, major=major, **record.kw)
        for op, *args in record.ops:
            if op == "params":
                tick._apply_params(**args[0])
            else:
                tick.set_clip_path(*args)
        return tick

    def reset_ticks(self) -> None:
        """As :meth:`matplotlib.axis.Axis.reset_ticks`: the ticks plain matplotlib would
        throw away here take their records with them."""
        self._tick_records.clear()
        super().reset_ticks()


class LightXAxis(_LightAxisMixin, XAxis):
    """An x axis that makes its ticks only when they are needed (see the module)."""

    def _touch_spines(self) -> None:
        # XTick.__init__: tick1line, tick2line and label transforms
        self.axes.get_xaxis_transform("tick1")
        self.axes.get_xaxis_transform("tick2")


class LightYAxis(_LightAxisMixin, YAxis):
    """A y axis that makes its ticks only when they are needed (see the module)."""

    def _touch_spines(self) -> None:
        # YTick.__init__: tick1line, tick2line and label transforms
        self.axes.get_yaxis_transform("tick1")
        self.axes.get_yaxis_transform("tick2")


class LightAxes(Axes):
    """A rectilinear Axes whose x and y axes make their ticks only when they are needed.

    Draws exactly as :class:`matplotlib.axes.Axes` (a chart with tick labels, grids, log
    scales... is pixel-identical); a house chart, which shows no matplotlib tick, makes
    none, saving the four ticks that every plain Axes builds when cleared (~3 ms CPU of the
    ~7 ms of ``add_subplot``, ~0.14 s per report of ~50 charts). Its ``name`` stays
    ``"rectilinear"``: it is not a new projection."""

    def _init_axis(self) -> None:
        # as Axes._init_axis, with the light axis classes
        self.xaxis = LightXAxis(self, clear=False)
        self.spines.bottom.register_axis(self.xaxis)
        self.spines.top.register_axis(self.xaxis)
        self.yaxis = LightYAxis(self, clear=False)
        self.spines.left.register_axis(self.yaxis)
        self.spines.right.register_axis(self.yaxis)
