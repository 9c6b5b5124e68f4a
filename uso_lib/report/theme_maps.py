"""One map per theme: where the municipality stands in its region on one key measure.

A regional close-up (the municipality's maakunta and its neighbours) coloured by classes over
all municipalities of the country, the municipality outlined in orange and its comparison
municipalities in black, municipalities without a figure hatched as missing. The classes come
from mapclassify (quintiles of the national distribution, ``Quantiles``), turned into explicit
breaks so that the map's own legend writes them in Finnish; the caption names the figures'
source, table and year and the boundaries' credit.

Emissions are mapped per resident (a total in tonnes would only show size): the figure is
derived here from the store's total and the population of the same year, and the caption says
so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib.errors import UsoError
from uso_lib.provenance import source_text
from uso_lib.regions import COUNTRY
from uso_lib.report.html import CLOSE_UP_DPI, MAP_COLOURS, esc, map_html, note
from uso_lib.store.index import per_store

if TYPE_CHECKING:
    from uso_lib.catalog import Indicator
    from uso_lib.report.state import Report
    from uso_lib.store import Store

# theme -> the indicator mapped (the first that has figures)
THEME_MAPS: dict[str, tuple[str, ...]] = {
    "vaestokehitys": ("vaesto_muutos_pct",),
    "elinvoima": ("tyottomat_tyonhakijat_osuus", "tyottomyysaste"),
    "hyvinvointi": ("lasten_pienituloisuusaste", "syrjaytymisriski_nuoret_indeksi"),
    "talous": ("lainakanta_eur_as", "konsernin_lainakanta_eur_as"),
    "ymparisto": ("kasvihuonekaasupaastot",),
}
PER_RESIDENT = {"kasvihuonekaasupaastot"}  # mapped per resident (t CO2-ekv./as.)
K = 5


def breaks(values: pd.Series, k: int = K) -> list[float]:
    """Quintile breaks of the present values by mapclassify (the upper bounds of the lower
    classes, duplicates of tied values dropped)."""
    import mapclassify

    present = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if len(np.unique(present)) < 2:
        raise UsoError("too few distinct values to classify")
    q = mapclassify.Quantiles(present, k=min(k, len(np.unique(present))))
    return sorted({float(b) for b in q.bins[:-1]})


def _per_resident(store: Store, rows: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Emission totals (1 000 t) per resident (t) with the population of the same year."""
    year = int(rows["year"].iloc[0])
    pop = store.cross_section("vaesto", year)
    out = rows.merge(pop[["kunta", "value", "source", "table"]].rename(
        columns={"value": "pop", "source": "pop_source", "table": "pop_table"}), on="kunta",
        how="left")
    out["value"] = out["value"] * 1000.0 / out["pop"]
    first = out.iloc[0]
    src = (f"Laskettu: {source_text(first['source'], first['table'], year)} / väkiluku 31.12. "
           f"({source_text(first['pop_source'], first['pop_table'], year)}) × 1 000")
    return out[list(rows.columns)], src


@dataclass(frozen=True)
class MapInput:
    """What a theme's map shows, the same for every report of a store: the indicator, its
    latest cross-section (per resident where mapped so), the words and the class breaks, or
    why the classes could not be made."""

    ind: Indicator
    rows: pd.DataFrame
    year: int
    unit: str | None
    decimals: int
    label: str
    derived: str | None
    classes: list[float] | None
    error: str | None


@per_store
def map_inputs(store: Store) -> dict[str, MapInput | None]:
    """Each theme's map input, computed once per loaded store (a run's reports share it):
    the first of the theme's indicators with figures for at least :data:`K` municipalities,
    or None."""
    cat = catalog_mod.catalog()
    out: dict[str, MapInput | None] = {}
    for theme_id, ids in THEME_MAPS.items():
        out[theme_id] = None
        for ind_id in ids:
            ind = cat.get(ind_id)
            rows = store.cross_section(ind_id)
            rows = rows[rows["kunta"] != COUNTRY]
            if rows.empty or rows["value"].notna().sum() < K:
                continue
            year = int(rows["year"].iloc[0])
            unit, decimals, label, derived = ind.unit, ind.decimals, ind.label, None
            if ind_id in PER_RESIDENT:
                rows, derived = _per_resident(store, rows)
                unit, decimals, label = "t/as.", 1, f"{ind.label} asukasta kohden"
            classes, error = None, None
            try:
                classes = breaks(rows["value"])
            except UsoError as exc:
                error = exc.message
            out[theme_id] = MapInput(ind, rows, year, unit, decimals, label, derived, classes,
                                     error)
            break
    return out


def theme_map_html(r: Report, theme_id: str) -> str:
    """The theme's map as a ``<figure>``, or a note saying why there is none."""
    from uso_lib.viz import maps

    m = map_inputs(r.store).get(theme_id)
    if m is None:
        return note("Teeman karttaa ei voitu piirtää: kartan mittarilla ei ole lukuja.",
                    "nodata")
    try:
        if m.error is not None:
            raise UsoError(m.error)
        # reuse: the region's coloured base is drawn once per run (viz.layers)
        fig = maps.regional(r.kunta.code, m.rows, peers=r.peer_codes, level="maakunta",
                            classes=m.classes, unit=m.unit, decimals=m.decimals,
                            legend_title=f"{m.unit or ''}, {m.year}".lstrip(", "),
                            title=f"{m.label} {m.year}", credit=False, reuse=True)
    except UsoError as exc:
        return note(f"Karttaa ei voitu piirtää: {exc.message}", "warning")
    name = esc(r.kunta.name_fi)
    html = map_html(fig, alt=f"{m.label} {m.year}: {r.kunta.name_fi} ja maakunta "
                    f"{r.kunta.maakunta}", rows=m.rows, dpi=CLOSE_UP_DPI, colours=MAP_COLOURS)
    legend = (f'<p class="uso-note">Oranssi reuna: {name}; musta reuna: vertailukunnat. '
              "Luokat: koko maan kuntien kvintiilit (mapclassify); vinoviivoitettu: ei "
              "tietoa." + (f" {esc(m.derived)}." if m.derived else "") + "</p>")
    r.appendix.add(m.rows, m.ind)
    return f'<div class="uso-theme-map">{html}{legend}</div>'
