"""Controls for ``notebooks/tutustu.ipynb``: explore without editing code.

:func:`explorer` returns one ipywidgets panel: the municipality (a combobox with type-ahead
over the 309 names), the indicator (a theme, then the theme's indicators), the year (the
years the store has for the indicator, or the latest) and the comparison municipalities
(tags with type-ahead, pre-filled with the suggested peers of the municipality, filled again
when the municipality changes). Any change redraws the description, the ranking, the time
series, the maps and the peer table -- the same pieces :mod:`uso_lib.report.explore` gives
the static notebook, so what a consultant sees is what the report shows.

The panel's parts are plain HTML widgets, so the logic runs and is tested without a browser;
the notebook's parameters cell gives the starting values, so papermill still runs the
notebook headless (``-p kunta Tornio``) and the saved notebook shows the first view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import ipywidgets as w

from uso_lib import catalog as catalog_mod
from uso_lib import peers as peers_mod
from uso_lib import regions
from uso_lib.errors import NoData, UsoError
from uso_lib.report import explore
from uso_lib.report.html import esc, note, style
from uso_lib.report.state import Report, start

LATEST = "viimeisin"
PANELS = (("ranking", "Sijoitus"), ("series", "Aikasarja"), ("map", "Kartta"),
          ("peers", "Vertailukunnat"))


def municipality_names() -> list[str]:
    """The Finnish names of the division's municipalities, sorted as a Finn would."""
    return sorted((m.name_fi for m in regions.registry()), key=_fi_key)


def _fi_key(name: str) -> tuple:
    order = "abcdefghijklmnopqrstuvwxyzåäö"
    return tuple(order.index(c) if c in order else 100 + ord(c) for c in name.lower())


def themes() -> list[tuple[str, str]]:
    """(theme title, theme id) in the catalogue's order."""
    return [(t.title, t.id) for t, _ in catalog_mod.catalog().by_theme()]


def indicators_of(theme_id: str) -> list[tuple[str, str]]:
    """(label, id) of the theme's indicators, in the catalogue's order."""
    return [(i.label, i.id) for t, inds in catalog_mod.catalog().by_theme()
            if t.id == theme_id for i in inds]


@dataclass
class Explorer:
    """The controls, the panels and what redraws them. Build with :func:`explorer`."""

    aineisto: str
    k: int
    kunta: w.Combobox
    theme: w.Dropdown
    indicator: w.Dropdown
    year: w.Dropdown
    peers: w.TagsInput
    status: w.HTML
    description: w.HTML
    panels: dict[str, w.HTML]
    view: w.VBox
    report: Report | None = None
    _hold: bool = False
    redraws: int = 0
    on_redraw: list[Callable[[Explorer], None]] = field(default_factory=list)

    # -- reactions ----------------------------------------------------------------------
    def _kunta_changed(self, change) -> None:
        name = change["new"]
        if name not in self.kunta.options:
            return  # still typing
        self._hold = True
        try:
            self.peers.value = suggested_peers(name, self.k, self.aineisto)
        finally:
            self._hold = False
        self.redraw()

    def _theme_changed(self, change) -> None:
        options = indicators_of(change["new"])
        self._hold = True
        try:
            self.indicator.options = options
            self.indicator.value = options[0][1] if options else None
        finally:
            self._hold = False
        self._years()
        self.redraw()

    def _indicator_changed(self, change) -> None:
        if self._hold:
            return
        self._years()
        self.redraw()

    def _changed(self, change) -> None:
        if not self._hold:
            self.redraw()

    def _years(self) -> None:
        """The year list follows the indicator: the years the store has for it."""
        years: list[int] = []
        if self.indicator.value:
            try:
                from uso_lib.store import default_store

                years = sorted(default_store(self.aineisto).years(self.indicator.value),
                               reverse=True)
            except UsoError:
                years = []
        keep = self.year.value if self.year.value in years else LATEST
        hold, self._hold = self._hold, True
        try:
            self.year.options = [(LATEST, LATEST)] + [(str(y), y) for y in years]
            self.year.value = keep
        finally:
            self._hold = hold

    # -- drawing --------------------------------------------------------------------------
    def redraw(self) -> None:
        """Everything again for the current choices; a problem is said in the panel, never
        raised (a half-typed name, an indicator without data)."""
        if self._hold:
            return
        ind = self.indicator.value
        vuosi = None if self.year.value == LATEST else self.year.value
        try:
            r = start(self.kunta.value, list(self.peers.value), vuosi, self.aineisto)
        except UsoError as exc:
            self.status.value = style() + note(exc.message, "warning")
            return
        self.report = r
        peers_text = ", ".join(p.name_fi for p in r.peers) or "ei vertailukuntia"
        self.status.value = (f"{style()}<p class=\"uso-note\">{esc(r.kunta.name_fi)} "
                             f"({esc(r.kunta.code)}), {esc(r.kunta.maakunta)}. "
                             f"Vertailukunnat: {esc(peers_text)}.</p>")
        self.description.value = _html(lambda: explore.describe(r, ind))
        parts = {"ranking": lambda: explore.ranking(r, ind),
                 "series": lambda: explore.series(r, ind),
                 "map": lambda: explore.country_map(r, ind),
                 "peers": lambda: explore.peer_suggestion(r, self.k)}
        for key, make in parts.items():
            self.panels[key].value = _html(make)
        self.redraws += 1
        for hook in self.on_redraw:
            hook(self)


def _html(make: Callable[[], object]) -> str:
    try:
        out = make()
    except NoData as exc:
        return style() + note(exc.message, "nodata")
    except UsoError as exc:
        return style() + note(exc.message, "warning")
    return style() + getattr(out, "data", str(out))


def suggested_peers(kunta: str, k: int = peers_mod.DEFAULT_K,
                    aineisto: str = "snapshot") -> list[str]:
    """The suggested comparison municipalities' names (empty when none can be suggested)."""
    from uso_lib.store import default_store

    try:
        sug = peers_mod.suggest(regions.lookup(kunta).code, k, store=default_store(aineisto))
    except (NoData, UsoError):
        return []
    return [p.name for p in sug.peers]


def explorer(kunta: str = "Juva", indikaattori: str = "tyottomyysaste",
             verrokit: Sequence[str] = (), vuosi: int | None = None,
             aineisto: str = "snapshot", ehdotuksia: int = peers_mod.DEFAULT_K) -> w.VBox:
    """The exploration panel, drawn for the given starting values (the notebook's
    parameters). ``verrokit`` empty: the suggested peers. Returns the widget to display; its
    :class:`Explorer` is ``.explorer``."""
    return build(kunta, indikaattori, verrokit, vuosi, aineisto, ehdotuksia).view


def build(kunta: str = "Juva", indikaattori: str = "tyottomyysaste",
          verrokit: Sequence[str] = (), vuosi: int | None = None,
          aineisto: str = "snapshot", ehdotuksia: int = peers_mod.DEFAULT_K) -> Explorer:
    m = regions.lookup(kunta)  # a typo stops here with the closest names
    ind = catalog_mod.catalog().get(indikaattori)
    names = municipality_names()
    wide = w.Layout(width="32em")
    box = w.Combobox(value=m.name_fi, options=names, ensure_option=True,
                     description="Kunta", placeholder="kirjoita kunnan nimi", layout=wide)
    theme = w.Dropdown(options=themes(), value=ind.theme, description="Teema", layout=wide)
    indicator = w.Dropdown(options=indicators_of(ind.theme), value=ind.id,
                           description="Mittari", layout=wide)
    year = w.Dropdown(options=[(LATEST, LATEST)], value=LATEST, description="Vuosi")
    given = [regions.lookup(v).name_fi for v in verrokit]
    tags = w.TagsInput(value=given or suggested_peers(m.name_fi, ehdotuksia, aineisto),
                       allowed_tags=names, allow_duplicates=False)
    panels = {key: w.HTML() for key, _ in PANELS}
    tabs = w.Tab(children=[panels[key] for key, _ in PANELS],
                 titles=[title for _, title in PANELS])
    status, description = w.HTML(), w.HTML()
    controls = w.VBox([w.HBox([box, year]), theme, indicator,
                       w.HBox([w.Label("Vertailukunnat"), tags])])
    view = w.VBox([controls, status, description, tabs])
    ex = Explorer(aineisto=aineisto, k=ehdotuksia, kunta=box, theme=theme,
                  indicator=indicator, year=year, peers=tags, status=status,
                  description=description, panels=panels, view=view)
    ex._years()
    if vuosi is not None:
        year.value = int(vuosi) if int(vuosi) in [v for _, v in year.options] else LATEST
    box.observe(ex._kunta_changed, names="value")
    theme.observe(ex._theme_changed, names="value")
    indicator.observe(ex._indicator_changed, names="value")
    year.observe(ex._changed, names="value")
    tags.observe(ex._changed, names="value")
    view.explorer = ex
    ex.redraw()
    return ex
