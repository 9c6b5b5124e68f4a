"""Figures whose static part is drawn once: the base kept as pixels, and per use only what
differs drawn on top of it.

A report run draws each theme's regional map for every municipality of a region: the same
coloured polygons, borders and title each time, with another municipality outlined and named.
Matplotlib's blitting API (the Agg renderer's ``copy_from_bbox`` and ``restore_region``, which
its animation guide uses to redraw only what moves) lets the base be drawn once per thread and
size, and each later use draw only its overlay artists.

The pixels are those of a full draw as long as a full draw would also draw every overlay artist
after every base artist it touches: the overlay's zorders are above the base's (a base text
outside the axes, such as the title, may share a zorder, as it never meets the overlay).
``tests/test_maps.py`` compares the PNG of a reused base with a map drawn from scratch.
A base keeps the style (rcParams) it was built and drawn with; the report factory puts the
same style back before every report, and :func:`clear` forgets the bases after a change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from matplotlib.artist import Artist
from matplotlib.figure import Figure

# bases kept per thread: a run over every municipality meets each region's theme maps (19
# regions x 5 themes) in the order of the municipality codes, so all of them must fit to be
# met again; each keeps its pixels (about 1.3 MB at the report's size)
MAX_BASES = 100

_local = threading.local()


class LayeredFigure(Figure):
    """A Figure drawn in two layers: its artists form the base, and those given to
    :meth:`add_overlay` the layer drawn anew each time (:func:`uso_lib.viz.export.to_png_bytes`
    calls :meth:`draw_layers`). Closing it (:func:`uso_lib.viz.export.close`) removes the
    overlay and leaves the base for the next use."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.overlay: list[Artist] = []
        self.backgrounds: dict[tuple, object] = {}  # (renderer size, dpi) -> base pixels
        self.in_use = False
        self.context: dict = {}  # what the builder of the base knows and the overlay needs

    def add_overlay(self, artists: Iterable[Artist | None]) -> None:
        self.overlay.extend(a for a in artists if a is not None)

    def draw_layers(self, renderer) -> None:
        """Draw on an Agg renderer: the base's pixels (drawn now the first time at this size
        and dpi, then copied back), then the overlay in zorder."""
        key = (renderer.width, renderer.height, round(self.dpi, 6))
        background = self.backgrounds.get(key)
        if background is None:
            shown = [a for a in self.overlay if a.get_visible()]
            for a in shown:
                a.set_visible(False)
            try:
                self.draw(renderer)
            finally:
                for a in shown:
                    a.set_visible(True)
            background = renderer.copy_from_bbox(self.bbox)
            self.backgrounds[key] = background
        else:
            renderer.restore_region(background)
        for a in sorted(self.overlay, key=lambda a: a.get_zorder()):
            a.draw(renderer)

    def recycle(self) -> bool:
        """Called by :func:`uso_lib.viz.export.close`: remove the overlay, keep the base."""
        for a in self.overlay:
            a.remove()
        self.overlay.clear()
        self.in_use = False
        return True


def reuse(key: Hashable, build: Callable[[], LayeredFigure]) -> LayeredFigure | None:
    """This thread's base for ``key``, built by ``build`` the first time; None when that base
    is still in use (its figure not closed yet), so the caller draws a figure of its own."""
    bases: OrderedDict = _local.__dict__.setdefault("bases", OrderedDict())
    fig = bases.get(key)
    if fig is None:
        fig = build()
        bases[key] = fig
        while len(bases) > MAX_BASES:
            bases.popitem(last=False)
    elif fig.in_use:
        return None
    bases.move_to_end(key)
    fig.in_use = True
    return fig


def clear() -> None:
    """Forget this thread's bases (tests; a kernel reset)."""
    _local.__dict__.pop("bases", None)
