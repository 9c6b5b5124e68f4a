"""Exploration for consultants (``notebooks/tutustu.ipynb``): one municipality and one
indicator at a time -- its definition, the ranking among the peers and in the whole country,
the time series, the map -- and the suggested peers with the reasons.

The same building blocks as the report (:mod:`uso_lib.report.sections`), so what a consultant
sees while exploring is what the report will show.
"""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from uso_lib import catalog as catalog_mod
from uso_lib import compare, fmt, peers, viz
from uso_lib import text as text_mod
from uso_lib.errors import NoData
from uso_lib.provenance import year_span
from uso_lib.report import sections
from uso_lib.report.html import (
    CLOSE_UP_DPI,
    chart_source,
    chart_unit,
    esc,
    figure_html,
    indicator_unit,
    live_source_text,
    map_html,
    no_data_note,
    note,
    page,
    paragraph,
    style,
    table_html,
)
from uso_lib.report.state import Report
from uso_lib.viz import maps


def indicator_list(r: Report) -> HTML:
    """Every catalogue indicator with its theme, unit and the years the store has."""
    cat = catalog_mod.catalog()
    rows = []
    for theme, inds in cat.by_theme():
        for ind in inds:
            years = r.store.years(ind.id)
            rows.append({"Tunnus": ind.id, "Mittari": ind.label, "Teema": theme.title,
                         "Yksikkö": indicator_unit(ind),
                         "Vuodet": year_span(years) if years else "ei tietoa"})
    return page([style(), table_html(pd.DataFrame(rows), cls="uso-table uso-definitions")])


def describe(r: Report, indicator: str) -> HTML:
    """What the indicator is and where it comes from; the municipality's comparison in one
    sentence."""
    ind = catalog_mod.catalog().get(indicator)
    parts = [f"<h2>{esc(ind.label)}</h2>"]
    if ind.description:
        parts.append(paragraph(ind.description))
    parts.append(paragraph(f"Yksikkö: {indicator_unit(ind) or '–'}. Verkkolähde: "
                           f"{live_source_text(ind) or '–'}.", cls="uso-note"))
    try:
        c = _comparison(r, indicator)
    except NoData:
        return page(parts + [no_data_note(ind)])
    g = c.groups["country"]
    parts.append(paragraph(text_mod.comparison_sentence(
        c, "peers" if r.peers else "country")))
    if g.rank is not None:
        pct = fmt.number(c.percentile, 0) if c.percentile is not None else "–"
        basis = text_mod.RANK_BASIS[c.polarity]
        parts.append(paragraph(f"Koko maassa sija {g.rank_text}/{g.n_ranked} "
                               f"({basis}); persentiili {pct}, viidennes {c.quintile} "
                               "(1 = pienimmät arvot).", cls="uso-note"))
    return page(parts)


def _comparison(r: Report, indicator: str) -> compare.Comparison:
    return compare.compare(indicator, r.kunta.code, peers=r.peer_codes or None,
                           network=r.network_codes or None, year=r.year, store=r.store,
                           strict_year=False, groups=r.groups())


def ranking(r: Report, indicator: str) -> HTML:
    """The municipality among its peers (the brochure's chart)."""
    ind = catalog_mod.catalog().get(indicator)
    try:
        c = _comparison(r, indicator)
    except NoData:
        return page([no_data_note(ind)])
    rank = compare.ranking(ind, r.kunta.code, r.peer_codes, year=c.year, store=r.store)
    rows = sections.select(r, ind.id, [r.kunta.code, *r.peer_codes], [c.year])
    fig = viz.ranking_bars(rank, highlight=r.kunta.code, mean=None if ind.relative_index
                           else True, unit=chart_unit(ind), decimals=ind.decimals,
                           polarity=ind.polarity, title=f"{ind.label} {c.year}",
                           source=chart_source(rows))
    return page([figure_html(fig, alt=f"{ind.label}: sijoitus {c.year}", rows=rows)])


def series(r: Report, indicator: str) -> HTML:
    """The municipality over time against its peers, the network and the country."""
    ind = catalog_mod.catalog().get(indicator)
    try:
        c = _comparison(r, indicator)
    except NoData:
        return page([no_data_note(ind)])
    html, _rows = sections.series_chart(r, ind, c)
    return page([html, sections.comparison_table(r, ind, c)])


def country_map(r: Report, indicator: str) -> HTML:
    """The whole country in quintiles (municipality outlined in orange, peers in black) and
    the regional close-up in the same classes."""
    ind = catalog_mod.catalog().get(indicator)
    try:
        c = _comparison(r, indicator)
    except NoData:
        return page([no_data_note(ind)])
    rows = r.store.cross_section(ind.id, c.year)
    unit = chart_unit(ind)
    try:
        # the long indicator name is the section's; the legend carries unit and year
        legend = f"{indicator_unit(ind) or ind.label[:30]}, {c.year}"
        whole = maps.choropleth(rows, highlight=r.kunta.code, outline=r.peer_codes,
                                unit=unit, decimals=ind.decimals, legend_title=legend,
                                credit=False)
        close = maps.regional(r.kunta.code, rows, peers=r.peer_codes, unit=unit,
                              decimals=ind.decimals, title=r.kunta.maakunta,
                              legend_title=legend, credit=False)
    except NoData as exc:
        return page([note(exc.message, "nodata")])
    return page([map_html(whole, alt=f"{ind.label} kartalla", rows=rows),
                 map_html(close, alt=f"{ind.label}, {r.kunta.maakunta}", rows=rows,
                          dpi=CLOSE_UP_DPI)])


def peer_suggestion(r: Report, k: int = peers.DEFAULT_K) -> HTML:
    """The structurally closest municipalities, with their distance and profile."""
    try:
        sug = peers.suggest(r.kunta.code, k, store=r.store)
    except NoData as exc:
        return page([note(exc.message, "nodata")])
    labels = {f.key: f.label for f in sug.features} | {"vaesto": "Väkiluku"}
    keys = list(sug.profile)
    rows = [{"Kunta": f"{sug.name} (itse)", "Etäisyys": "–",
             **{labels.get(x, x): _num(sug.profile.get(x)) for x in keys}}]
    for p in sug.peers:
        rows.append({"Kunta": p.name, "Etäisyys": fmt.number(p.distance, 2),
                     **{labels.get(x, x): _num(p.profile.get(x)) for x in keys}})
    df = pd.DataFrame(rows)
    return page([table_html(df, numeric=list(df.columns[1:]), highlight=0),
                 paragraph(sug.method, cls="uso-method")]
                + [paragraph(n, cls="uso-note") for n in sug.notes])


def _num(v: float | None) -> str:
    if v is None:
        return fmt.MISSING
    return fmt.number(v, 0 if abs(v) >= 100 else 1)
