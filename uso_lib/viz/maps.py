"""Maps for the reports: a national choropleth, a regional close-up and a cover locator.

Design choices, and why:

- Classes are Sotkanet-style quantiles over the municipalities that have data (each class
  holds about a fifth of them), so a map reads as "where does this municipality sit among all
  municipalities" rather than being dominated by Helsinki's outliers. Equal values always fall
  in the same class. The legend shows each class's real minimum and maximum in Finnish format.
- Municipalities without a figure are drawn light grey and hatched, with "ei tietoa" in the
  legend: a missing value must never look like a low one.
- The palette is ColorBrewer's YlGnBu (sequential, colour-blind safe); the municipality itself
  is outlined in orange and its peers in black with a white halo, which stay distinguishable
  for the common colour-vision deficiencies and on every class colour.
- Every polygon layer is ONE matplotlib collection (the classes are an index array on a
  ListedColormap), so a map costs a handful of draw calls, not 309. Figures are plain
  :class:`matplotlib.figure.Figure` objects (no pyplot state to leak in long notebook runs).
- Every map carries the boundary credit :data:`uso_lib.geo.ATTRIBUTION` and, when the values
  come from the store, the figure's source, table and year: in the image, or (``credit=False``)
  in the caption of the page that shows it, never in both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from uso_lib import geo
from uso_lib.atomic import atomic_write
from uso_lib.errors import DataError, ParamsError, UnknownMunicipality
from uso_lib.provenance import source_line, sources_with_years
from uso_lib.regions import COUNTRY, registry
from uso_lib.viz import layers
from uso_lib.viz.classes import PALETTE, Classification, classify

NO_DATA = "ei tietoa"
NO_DATA_COLOR = "#e3e3e3"
NO_DATA_HATCH = "/////"
NO_DATA_HATCH_COLOR = "#9e9e9e"
# land outside the region in a close-up; a lighter grey merges with the white background in
# the report's 48-colour PNGs (report.html.png_data_uri)
OUTSIDE_COLOR = "#ebebeb"
HIGHLIGHT_COLOR = "#d95f02"
PEER_COLOR = "#1a1a1a"
BORDER_COLOR = "#6e6e6e"
EDGE_COLOR = "white"
TEXT_COLOR = "#333333"
CREDIT_COLOR = "#666666"
PEERS_LABEL = "vertailukunnat"

_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


# -- input ----------------------------------------------------------------------------------
def _code(query: object) -> str:
    return registry().get(query).code


def _codes(queries: object) -> list[str]:
    if queries is None:
        return []
    if isinstance(queries, (str, int)):
        queries = [queries]
    out: list[str] = []
    for q in queries:  # type: ignore[union-attr]
        c = _code(q)
        if c not in out:
            out.append(c)
    return out


def map_values(values: pd.Series | pd.DataFrame) -> tuple[pd.Series, str | None]:
    """The values to draw as a float Series indexed by 3-digit code (the country row ``SSS``
    is dropped: it is no polygon), and a source line when the input is store rows."""
    source = None
    if isinstance(values, pd.DataFrame):
        if not {"kunta", "value"} <= set(values.columns):
            raise DataError("A map needs a Series indexed by municipality code, or store rows "
                            f"with 'kunta' and 'value' columns; got columns "
                            f"{list(values.columns)}.")
        for col in ("indicator", "year", "category"):
            if col in values.columns and values[col].nunique() > 1:
                raise DataError(f"A map shows one cross-section, but these rows have several "
                                f"{col} values {sorted(map(str, values[col].unique()))[:5]}; "
                                "select one (e.g. Store.cross_section(indicator, year)).")
        source = _source_line(values)
        values = pd.Series(values["value"].to_numpy(), index=values["kunta"].astype(str))
    if not isinstance(values, pd.Series):
        raise DataError(f"A map needs a pandas Series or DataFrame, got {type(values).__name__}.")
    try:
        num = pd.to_numeric(values, errors="raise").astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"Map values must be numbers: {exc}") from None
    keep, codes, bad = [], [], []
    for key in num.index:
        if str(key).upper() == COUNTRY:
            keep.append(False)
            continue
        try:
            codes.append(_code(key))
            keep.append(True)
        except UnknownMunicipality:
            bad.append(str(key))
            keep.append(False)
    if bad:
        raise DataError(f"Map values for codes that are not municipalities of the 2023 "
                        f"division: {bad[:8]}", hint="Map older codes with "
                        "uso_lib.regions.registry().map_code(code, from_division) first.")
    out = pd.Series(num[np.asarray(keep, dtype=bool)].to_numpy(), index=codes, dtype="float64")
    dup = out.index[out.index.duplicated()].unique().tolist()
    if dup:
        raise DataError(f"Map values have several rows for the municipalities {dup[:8]}.")
    return out, source


def _source_line(df: pd.DataFrame) -> str | None:
    if "source" not in df.columns:
        return None
    n = len(df)
    parts = sources_with_years(df["source"].fillna("").astype(str).tolist(),
                               df["table"].fillna("").astype(str).tolist()
                               if "table" in df.columns else [""] * n,
                               df["year"].tolist() if "year" in df.columns else [None] * n)
    return source_line(parts) or None


# -- geometry to matplotlib -----------------------------------------------------------------
def _polygon_path(geom) -> MplPath:
    """A compound path of all parts and holes (the stored polygons are oriented, exterior
    counter-clockwise and holes clockwise, which matplotlib needs to leave holes empty)."""
    polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    rings = []
    for p in polys:
        rings.append(MplPath(np.asarray(p.exterior.coords)[:, :2], closed=True))
        rings.extend(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in p.interiors)
    return MplPath.make_compound_path(*rings)


@cache
def _kunta_paths(geo_dir: str) -> dict[str, MplPath]:
    gdf = geo.municipalities()
    return {code: _polygon_path(g) for code, g in zip(gdf.index, gdf.geometry, strict=True)}


def _paths() -> dict[str, MplPath]:
    return _kunta_paths(str(geo.GEO_DIR))


def _collection(codes: Iterable[str], **kw) -> PathCollection:
    """The polygons of ``codes`` as one collection of their paths (a PathPatch per polygon
    would only add an identity transform to each, at the cost of an artist apiece)."""
    paths = _paths()
    return PathCollection([paths[c] for c in codes], **kw)


def _border_collection(level: str, *, within: object = None, **kw) -> LineCollection:
    """Region borders as one line collection (optionally only regions meeting ``within``)."""
    reg = geo.regions(level)
    if within is not None:
        reg = reg[reg.intersects(within)]
    segs = []
    for b in reg.boundary:
        for line in getattr(b, "geoms", [b]):
            segs.append(np.asarray(line.coords)[:, :2])
    return LineCollection(segs, **kw)


# -- figure furniture -----------------------------------------------------------------------
def _axes(ax, figsize: tuple[float, float], title: str | None, *, right: float = 0.98,
          credit: bool = True, figure_class: type[Figure] = Figure):
    """A map's figure and axes; the bottom band holds the credit lines (when drawn)."""
    if ax is None:
        fig = figure_class(figsize=figsize)
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.02, right=right, bottom=0.05 if credit else 0.01,
                            top=0.93 if title else 0.99)
    else:
        fig = ax.figure
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, loc="left", fontsize=10, color=TEXT_COLOR)
    return fig, ax


def _credit(ax, source: str | None):
    text = "\n".join(t for t in (source, geo.ATTRIBUTION) if t)
    return ax.annotate(text, xy=(0, 0), xycoords="axes fraction", xytext=(0, -2),
                textcoords="offset points", ha="left", va="top", fontsize=5.5,
                color=CREDIT_COLOR, annotation_clip=False)


def _outline(ax, codes: list[str], *, color: str, lw: float, gid: str, zorder: float,
             halo: bool = True):
    if not codes:
        return None
    effects = [patheffects.withStroke(linewidth=lw + 1.0, foreground="white")] if halo else []
    coll = _collection(codes, facecolor="none", edgecolor=color, linewidth=lw, zorder=zorder,
                       path_effects=effects)
    coll.set_gid(gid)
    return ax.add_collection(coll, autolim=False)


def _labels(ax, gdf, codes: list[str], *, bold: str | None, size: float = 6.5,
            offset: tuple[float, float] = (0, 0), ha: str = "center",
            va: str = "center", beside: bool = False) -> list:
    """Names at the label points; on the national map they sit just above the point
    (``offset`` in points), so that a small municipality is not hidden under its own name."""
    if not codes:
        return []
    pts = geo.label_points(gdf.loc[codes])
    out = []
    for code, pt in zip(codes, pts, strict=True):
        # beside: start at the polygon's right edge (a cover map must show the fill)
        x = gdf.geometry.loc[code].bounds[2] if beside else pt.x
        out.append(ax.annotate(gdf.at[code, "name_fi"], xy=(x, pt.y), xytext=offset,
                    textcoords="offset points", ha=ha, va=va, fontsize=size,
                    color="black" if code == bold else TEXT_COLOR,
                    fontweight="bold" if code == bold else "normal", path_effects=_HALO,
                    annotation_clip=True, zorder=6))
    return out


def _class_handles(cls: Classification) -> list:
    handles = [Patch(facecolor=c, edgecolor="none", label=lab)
               for c, lab, n in zip(cls.colors, cls.labels, cls.counts, strict=True) if n]
    return handles[::-1]  # highest class on top


def _no_data_handle() -> Patch:
    return Patch(facecolor=NO_DATA_COLOR, edgecolor=NO_DATA_HATCH_COLOR, linewidth=0,
                 hatch=NO_DATA_HATCH, label=NO_DATA)


def _marker_handles(highlight: str | None, outline: list[str], gdf) -> list:
    out = []
    if highlight:
        out.append(Patch(facecolor="none", edgecolor=HIGHLIGHT_COLOR, linewidth=1.6,
                         label=gdf.at[highlight, "name_fi"]))
    if outline:
        out.append(Patch(facecolor="none", edgecolor=PEER_COLOR, linewidth=0.9,
                         label=PEERS_LABEL))
    return out


def _legend(ax, cls: Classification, *, missing: bool, highlight: str | None,
            outline: list[str], gdf, title: str, size: float, **placement):
    """The map's key: the classes (highest on top), "ei tietoa" where a figure is missing,
    then the outlined municipality and its comparison municipalities."""
    handles = _class_handles(cls) + ([_no_data_handle()] if missing else [])
    handles += _marker_handles(highlight, outline, gdf)
    return ax.legend(handles=handles, fontsize=size, title=title, title_fontsize=size + 0.5,
              frameon=False, alignment="left", handlelength=1.4, handleheight=1.0,
              **placement)


def _fill(ax, codes: list[str], cls: Classification, **kw) -> None:
    """The data polygons: one collection, class numbers mapped through the class colormap."""
    if not codes:
        return
    coll = _collection(codes, cmap=cls.cmap(), norm=cls.norm(), **kw)
    coll.set_array(cls.index.loc[codes].to_numpy())
    coll.set_gid("fill")
    ax.add_collection(coll, autolim=False)


def _no_data(ax, codes: list[str], *, edgecolor, linewidth: float, zorder: float) -> None:
    """Municipalities without a figure: light grey, hatched, with the usual borders.

    Matplotlib (3.10) draws a collection's hatch in its edge colour, so the hatched fill is
    one collection whose edges are the hatch colour at width 0, and the borders another."""
    if not codes:
        return
    fill = _collection(codes, facecolor=NO_DATA_COLOR, edgecolor=NO_DATA_HATCH_COLOR,
                       linewidth=0, hatch=NO_DATA_HATCH, zorder=zorder)
    fill.set_hatch_linewidth(0.4)
    fill.set_gid("no-data")
    ax.add_collection(fill, autolim=False)
    borders = _collection(codes, facecolor="none", edgecolor=edgecolor, linewidth=linewidth,
                          zorder=zorder)
    borders.set_gid("no-data-borders")
    ax.add_collection(borders, autolim=False)


# -- maps -----------------------------------------------------------------------------------
def choropleth(values: pd.Series | pd.DataFrame, *, highlight: object = None,
               outline: Iterable[object] = (), label: Iterable[object] | None = None,
               title: str | None = None, unit: str | None = None, decimals: int = 0,
               classes: str | int | Sequence[float] = "quintile",
               legend_title: str | None = None, source: str | None = None,
               cmap: str = PALETTE, figsize: tuple[float, float] = (4.2, 7.0),
               credit: bool = True, ax=None) -> Figure:
    """The whole country in quantile classes, the municipality ``highlight`` outlined in orange
    and ``outline`` (its peers) in black; ``label`` names municipalities on the map (default:
    the highlighted one and the peers). ``values``: a Series indexed by municipality code, or
    store rows of one indicator and year (e.g. ``Store.cross_section("vaesto", 2021)``), whose
    source, table and year are then printed under the map (``source`` overrides).
    ``credit=False`` leaves the source and boundary credit out of the image, for a page that
    prints them in the map's caption (:func:`uso_lib.report.html.map_html`)."""
    vals, auto_source = map_values(values)
    hi = _code(highlight) if highlight is not None else None
    peers = [c for c in _codes(outline) if c != hi]
    labels = _codes(label) if label is not None else ([hi] if hi else []) + peers
    cls = classify(vals, classes, unit=unit, decimals=decimals, cmap=cmap)
    gdf = geo.municipalities()

    fig, ax = _axes(ax, figsize, title, credit=credit)
    have = [c for c in gdf.index if c in cls.index.index]
    missing = [c for c in gdf.index if c not in cls.index.index]
    _fill(ax, have, cls, edgecolor=EDGE_COLOR, linewidth=0.15, zorder=1)
    _no_data(ax, missing, edgecolor=EDGE_COLOR, linewidth=0.15, zorder=1)
    borders = _border_collection("maakunta", colors=BORDER_COLOR, linewidths=0.35, zorder=2)
    borders.set_gid("borders")
    ax.add_collection(borders, autolim=False)
    _outline(ax, peers, color=PEER_COLOR, lw=0.9, gid="peers", zorder=3)
    _outline(ax, [hi] if hi else [], color=HIGHLIGHT_COLOR, lw=1.6, gid="highlight", zorder=4)
    _labels(ax, gdf, labels, bold=hi, offset=(0, 3.5), va="bottom")

    xmin, ymin, xmax, ymax = gdf.total_bounds
    pad = 0.01 * (ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)

    # the Gulf of Bothnia, left of the map's middle, is empty in every Finland map
    _legend(ax, cls, missing=missing, highlight=hi, outline=peers, gdf=gdf, title=legend_title,
            size=6.5, loc="center left", bbox_to_anchor=(0.0, 0.50), borderaxespad=0.2)
    if credit:
        _credit(ax, source or auto_source)
    return fig


def _region_context(code, peers, level: str):
    """The municipality's code, its peers' codes (without itself), the polygons and the code
    of its region at ``level`` -- what the regional and locator maps both start from."""
    if level not in ("maakunta", "seutukunta", "hyvinvointialue"):
        raise ParamsError(f"unknown region level {level!r}; use maakunta, seutukunta or "
                          "hyvinvointialue", field="level")
    hi = _code(code)
    peer_codes = [c for c in _codes(peers) if c != hi]
    gdf = geo.municipalities()
    return hi, peer_codes, gdf, gdf.at[hi, f"{level}_code"]


def regional(code: object, values: pd.Series | pd.DataFrame | None = None, *,
             peers: Iterable[object] = (), level: str = "maakunta",
             label: str | Iterable[object] | None = "region", title: str | None = None,
             unit: str | None = None, decimals: int = 0,
             classes: str | int | Sequence[float] = "quintile",
             legend_title: str | None = None, source: str | None = None,
             cmap: str = PALETTE, figsize: tuple[float, float] | None = None,
             credit: bool = True, ax=None, reuse: bool = False) -> Figure:
    """A close-up of the municipality's region (``level``: maakunta, seutukunta or
    hyvinvointialue) with its neighbours in view and the region's municipalities named.

    With ``values`` the municipalities are coloured by the same national classes as
    :func:`choropleth` (so the colours mean the same on both maps); municipalities outside the
    region are faded. ``label``: ``"region"`` (the region's municipalities and the peers),
    a list of codes, or None (only the municipality). ``credit`` as in :func:`choropleth`.

    ``reuse`` (with ``values``, without ``ax``): the coloured base (polygons, borders, title)
    is kept per thread and drawn once (:mod:`uso_lib.viz.layers`); the next map of the same
    region, values and title draws only its outlines, names and legend on it. Such a figure is
    shared: turn it into a PNG (:func:`uso_lib.viz.export.to_png_bytes`, which closes it)
    before asking for the next one, as a report does."""
    hi, peer_codes, gdf, rcode = _region_context(code, peers, level)
    cls = auto_source = None
    if values is not None:
        vals, auto_source = map_values(values)
        cls = classify(vals, classes, unit=unit, decimals=decimals, cmap=cmap)
    if figsize is None:
        figsize = (6.4, 5.2) if cls is not None else (5.2, 5.2)

    def build(figure_class: type[Figure] = Figure):
        return _regional_base(hi, rcode, level, gdf, cls, figsize=figsize, title=title,
                              credit=credit, ax=ax, figure_class=figure_class)

    def build_layered() -> layers.LayeredFigure:
        fig, _, fig.context = build(layers.LayeredFigure)
        return fig

    fig = None
    if reuse and ax is None and cls is not None:
        key = (level, rcode, tuple(figsize), title, credit, tuple(cls.colors),
               tuple(cls.index.items()))
        fig = layers.reuse(key, build_layered)
    if fig is None:
        fig, ax, ctx = build()
    else:
        ax, ctx = fig.axes[0], fig.context

    in_view, inside = ctx["in_view"], ctx["inside"]
    peers_in_view = [c for c in peer_codes if c in in_view]
    overlay = [_outline(ax, peers_in_view, color=PEER_COLOR, lw=0.9, gid="peers", zorder=3),
               _outline(ax, [hi], color=HIGHLIGHT_COLOR, lw=1.8, gid="highlight", zorder=4)]
    if label == "region":
        names = ctx["members"] + [c for c in peers_in_view if c not in inside]
    elif label is None:
        names = [hi]
    else:
        names = _codes(label)
    overlay += _labels(ax, gdf, names, bold=hi, size=7)
    if cls is not None:
        overlay.append(_legend(ax, cls, missing=ctx["missing"], highlight=hi,
                               outline=peers_in_view, gdf=gdf, title=legend_title, size=7,
                               loc="upper left", bbox_to_anchor=(1.01, 1.0),
                               borderaxespad=0.0))
    if credit:
        overlay.append(_credit(ax, source or auto_source))
    if isinstance(fig, layers.LayeredFigure):
        fig.add_overlay(overlay)
    return fig


def _regional_base(hi: str, rcode: str, level: str, gdf, cls: Classification | None, *,
                   figsize: tuple[float, float], title: str | None, credit: bool, ax,
                   figure_class: type[Figure]) -> tuple[Figure, object, dict]:
    """The part of a regional map that does not depend on which municipality of the region
    it is drawn for (with values): the view, the coloured polygons, the borders, the title.
    Returns the figure, its axes and what the overlay needs to know of the view."""
    region_geom = geo.regions(level).geometry.loc[rcode]
    members = gdf.index[gdf[f"{level}_code"] == rcode].tolist()
    right = 0.74 if cls is not None else 0.98
    fig, ax = _axes(ax, figsize, title, right=right, credit=credit, figure_class=figure_class)

    # the view: the region plus a margin, widened to the axes' shape so neighbours fill it
    xmin, ymin, xmax, ymax = region_geom.bounds
    pad = 0.06 * max(xmax - xmin, ymax - ymin)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    bbox = ax.get_position()
    box_ratio = (bbox.height * fig.get_figheight()) / (bbox.width * fig.get_figwidth())
    w, h = xmax - xmin, ymax - ymin
    if h / w < box_ratio:
        grow = (w * box_ratio - h) / 2
        ymin, ymax = ymin - grow, ymax + grow
    else:
        grow = (h / box_ratio - w) / 2
        xmin, xmax = xmin - grow, xmax + grow
    view = gdf.cx[xmin:xmax, ymin:ymax]
    in_view = view.index.tolist()
    inside = set(members)

    fade = 0.45  # share of the colour kept outside the region
    if cls is None:
        colors = {c: ("#fdd0a2" if c == hi else "#dbe7f3" if c in inside else OUTSIDE_COLOR)
                  for c in in_view}
        missing = []
    else:
        missing = [c for c in in_view if c not in cls.index.index]
        colors = {c: cls.colors[int(cls.index.loc[c])] for c in in_view if c not in missing}
    have = [c for c in in_view if c not in missing]
    facecolors = []
    for c in have:
        rgba = np.array(to_rgba(colors[c]))
        if cls is not None and c not in inside:
            rgba[:3] = 1 - fade * (1 - rgba[:3])
        facecolors.append(rgba)
    if have:
        fill = _collection(have, facecolors=facecolors, edgecolor=EDGE_COLOR, linewidth=0.4,
                           zorder=1)
        fill.set_gid("fill")
        ax.add_collection(fill, autolim=False)
    _no_data(ax, missing, edgecolor=EDGE_COLOR, linewidth=0.4, zorder=1)

    borders = _border_collection(level, within=gdf.loc[in_view].union_all(),
                                 colors=BORDER_COLOR, linewidths=0.5, zorder=2)
    borders.set_gid("borders")
    ax.add_collection(borders, autolim=False)
    own = LineCollection(_ring_segments(region_geom), colors=TEXT_COLOR, linewidths=1.2,
                         zorder=2.5)
    own.set_gid("region")
    ax.add_collection(own, autolim=False)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    return fig, ax, {"members": members, "in_view": in_view, "inside": inside,
                     "missing": missing}


def _ring_segments(geom) -> list[np.ndarray]:
    b = geom.boundary
    return [np.asarray(line.coords)[:, :2] for line in getattr(b, "geoms", [b])]


def locator(code: object, peers: Iterable[object] = (), *, level: str = "maakunta",
            title: str | None = None, legend: bool = True,
            figsize: tuple[float, float] = (2.3, 3.9), credit: bool = True,
            ax=None) -> Figure:
    """A small whole-country map for a report cover: the municipality (orange), its peers
    (blue) and its region (light blue), with region borders. ``credit`` as in
    :func:`choropleth`."""
    hi, peer_codes, gdf, rcode = _region_context(code, peers, level)
    inside = set(gdf.index[gdf[f"{level}_code"] == rcode])
    peer_set = set(peer_codes)
    region_color, peer_color, base = "#b9d3ea", "#2c7fb8", "#e6e6e6"
    facecolors = [HIGHLIGHT_COLOR if c == hi else peer_color if c in peer_set
                  else region_color if c in inside else base for c in gdf.index]

    fig, ax = _axes(ax, figsize, title, credit=credit)
    if title is None and ax.figure is fig:
        fig.subplots_adjust(top=0.995)
    fill = _collection(gdf.index, facecolors=facecolors, edgecolor="none", linewidth=0,
                       zorder=1)
    fill.set_gid("fill")
    ax.add_collection(fill, autolim=False)
    borders = _border_collection(level, colors="white", linewidths=0.4, zorder=2)
    borders.set_gid("borders")
    ax.add_collection(borders, autolim=False)
    own = LineCollection(_ring_segments(geo.regions(level).geometry.loc[rcode]),
                         colors=TEXT_COLOR, linewidths=0.7, zorder=3)
    own.set_gid("region")
    ax.add_collection(own, autolim=False)
    _outline(ax, [hi], color=HIGHLIGHT_COLOR, lw=0.9, gid="highlight", zorder=4, halo=False)
    _labels(ax, gdf, [hi], bold=hi, size=7, offset=(2, 0), ha="left", beside=True)

    xmin, ymin, xmax, ymax = gdf.total_bounds
    pad = 0.01 * (ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    if legend:
        rname = geo.regions(level).at[rcode, "name"]
        handles = [Line2D([], [], marker="s", ls="", markersize=6, color=HIGHLIGHT_COLOR,
                          label=gdf.at[hi, "name_fi"])]
        if peer_codes:
            handles.append(Line2D([], [], marker="s", ls="", markersize=6, color=peer_color,
                                  label=PEERS_LABEL))
        handles.append(Line2D([], [], marker="s", ls="", markersize=6, color=region_color,
                              label=rname))
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(0.0, 0.52),
                  fontsize=6, frameon=False, handletextpad=0.3, borderaxespad=0.1)
    if credit:
        _credit(ax, None)
    return fig


def save(fig: Figure, path: str | os.PathLike, *, dpi: int = 200) -> Path:
    """Write a map atomically (a temp file in the same folder, then a rename), so a report
    never picks up half a PNG."""
    path = Path(path)
    return atomic_write(path, lambda tmp: fig.savefig(
        tmp, dpi=dpi, bbox_inches="tight", pad_inches=0.05,
        format=path.suffix.lstrip(".") or "png"), what=f"the map {path}")
