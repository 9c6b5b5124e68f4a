"""The theme sections of the report: every catalogue indicator, in the INDICATORS.md row order,
with a chart, a short comparison table and a source line -- or a note saying the figure is
missing and how to get it.

Indicators that belong together (births, deaths and their difference; in-, out- and net
migration; the three job-sector shares ...) are shown as one block: one chart of the
municipality's series and one table with a row per indicator. That reads better than a dozen
near-identical charts, and it keeps a report within its time and size budget (every chart
costs drawing time and bytes of the page). Breakdowns get the chart made for them (population
pyramid, service-need change, jobs by industry, emissions by sector, commuting, the population
projection).

A chart that cannot be drawn (an unexpected shape of data) never stops the report: the block
falls back to the plain comparison and says so.

The breakdowns by category are in :mod:`uso_lib.report.breakdowns`, the whole-picture rows
(summary and group tables) in :mod:`uso_lib.report.overview`, and the store rows behind a chart
or table in :mod:`uso_lib.report.rows`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib import compare, fmt, viz
from uso_lib import text as text_mod
from uso_lib.catalog import Indicator
from uso_lib.errors import NoData, UsoError
from uso_lib.regions import COUNTRY
from uso_lib.report.breakdowns import (
    CATEGORY_CHARTS,
    SPECIAL_CHARTS,
    category_chart,
    category_table,
)
from uso_lib.report.html import (
    RELATIVE_INDEX_LABEL,
    anchor,
    chart_source,
    chart_unit,
    esc,
    figure_html,
    no_data_note,
    note,
    paragraph,
    records_html,
    source_html,
    table_html,
    value_text,
)
from uso_lib.report.overview import overview_table
from uso_lib.report.rows import (
    CHART_YEARS,
    Chart,
    comparison_codes,
    has_categories,
    has_total,
    own_years,
    select,
    store_rows,
)

if TYPE_CHECKING:
    from uso_lib.report.state import Report


# Blocks of indicators shown together: (heading, member ids). A member missing from the
# catalogue is skipped; a block with fewer than two members is shown as single indicators.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Ikärakenne", ("alle15_osuus", "ika15_64_osuus", "yli64_osuus")),
    ("Syntyneet ja kuolleet", ("syntyneet", "kuolleet", "luonnollinen_vaestonlisays")),
    # the same per 1 000 residents: what is compared across municipalities (#17)
    ("Syntyneet ja kuolleet 1 000 asukasta kohden",
     ("syntyneet_1000as", "kuolleet_1000as", "luonnollinen_vaestonlisays_1000as")),
    ("Kuntien välinen muutto 1 000 asukasta kohden",
     ("tulomuutto_1000as", "lahtomuutto_1000as", "nettomuutto_1000as")),
    ("Maahan- ja maastamuutto 1 000 asukasta kohden",
     ("maahanmuutto_1000as", "maastamuutto_1000as", "nettomaahanmuutto_1000as")),
    ("Kuntien välinen muutto", ("tulomuutto", "lahtomuutto", "nettomuutto")),
    ("Maahan- ja maastamuutto", ("maahanmuutto", "maastamuutto", "nettomaahanmuutto")),
    ("Väestöennuste", ("vaestoennuste", "vaestoennuste_2019")),
    ("Työpaikkojen jakautuminen", ("alkutuotanto_osuus", "jalostus_osuus", "palvelut_osuus")),
    ("Työttömät työnhakijat ja työvoima", ("tyottomat_tyonhakijat", "tyovoima")),
    ("Pendelöinti", ("asuinkunnassa_tyossakayvat", "tulopendelointi", "lahtopendelointi",
                     "omassa_seutukunnassa_tyossakayvat")),
    ("Pendelöinti osuuksina", ("tulopendelointi_osuus", "lahtopendelointi_osuus")),
    ("Koulutustaso", ("tutkinto_osuus", "korkea_aste_osuus")),
    ("Pienituloisuus", ("pienituloisuusaste", "lasten_pienituloisuusaste")),
    ("Lainakanta", ("lainakanta_eur_as", "konsernin_lainakanta_eur_as")),
    ("Kotitalouksien tulot", ("kotitalouksien_tulot_mediaani",
                              "kotitalouksien_tulot_keskiarvo")),
)



# -- ordering and blocks ----------------------------------------------------------------------
def row_key(row: str) -> tuple[int, str]:
    """INDICATORS.md rows in natural order: 1, 1b, 2, ..., 10, 11."""
    m = re.match(r"(\d+)(.*)", row or "")
    return (int(m.group(1)), m.group(2)) if m else (10**6, row or "")


def blocks(theme_id: str) -> list[tuple[str | None, list[Indicator]]]:
    """The theme's blocks in row order: (group heading or None, indicators)."""
    cat = catalog_mod.catalog()
    inds = [i for i in cat.indicators if i.theme == theme_id]
    order = {i.id: n for n, i in enumerate(inds)}
    inds.sort(key=lambda i: (row_key(i.row), order[i.id]))
    ids = {i.id for i in inds}
    group_of: dict[str, tuple[str, list[str]]] = {}
    for title, members in GROUPS:
        present = [m for m in members if m in ids]
        if len(present) >= 2:
            for m in present:
                group_of[m] = (title, present)
    out: list[tuple[str | None, list[Indicator]]] = []
    done: set[str] = set()
    by_id = {i.id: i for i in inds}
    for ind in inds:
        if ind.id in done:
            continue
        if ind.id in group_of:
            title, members = group_of[ind.id]
            out.append((title, [by_id[m] for m in members]))
            done.update(members)
        else:
            out.append((None, [ind]))
            done.add(ind.id)
    return out


def theme_section(r: Report, theme_id: str) -> str:
    """Every indicator of one theme, as HTML (the theme's h2 is in the notebook)."""
    parts = [f'<div class="uso-theme" id="{anchor("teema", theme_id)}">']
    for title, members in blocks(theme_id):
        if title is None:
            parts.append(indicator_block(r, members[0]))
        else:
            parts.append(group_block(r, title, members))
    parts.append("</div>")
    return "\n".join(parts)


# -- one indicator ------------------------------------------------------------------------------
def indicator_block(r: Report, ind: Indicator) -> str:
    """One indicator: heading, notes, chart, comparison table, sentence, source line. The link
    target of the summary table is the section (the HTML export re-numbers heading ids)."""
    body = "\n".join(_indicator_parts(r, ind))
    return (f'<section class="uso-indicator" id="{anchor("ind", ind.id)}">\n'
            f"<h3>{esc(ind.label)}</h3>\n{body}\n</section>")


def _tags(ind: Indicator, *, description: bool = True) -> list[str]:
    out = []
    if description and ind.description:
        out.append(paragraph(ind.description, cls="uso-description"))
    if ind.relative_index:
        out.append(paragraph(f"Yksikkö: {RELATIVE_INDEX_LABEL}. Indeksi kertoo kunnan "
                             "sijoittumisen muihin kuntiin nähden, ei mittarin omaa arvoa.",
                             cls="uso-tag"))
    if ind.offline and ind.offline.proxy:
        out.append(note(f"Korvaava mittari: {ind.offline.proxy}", "proxy"))
    return out


def _indicator_parts(r: Report, ind: Indicator) -> list[str]:
    out = _tags(ind)
    total, cats = has_total(r, ind), has_categories(r, ind)
    if not total and not cats:
        return out + [no_data_note(ind)]
    c = None
    if total:
        try:
            c = r.comparison(ind)
        except NoData as exc:
            out.append(note(f"{exc.message}", "nodata"))
    special = SPECIAL_CHARTS.get(ind.id)
    if special is None and cats and (not total or ind.id in CATEGORY_CHARTS):
        special = category_chart
    makers = [special] if special is not None else []
    if c is not None:
        makers.append(lambda r, ind: series_chart(r, ind, c))
    chart = None
    for make in makers:
        try:
            chart = make(r, ind)
            break
        except NoData:  # nothing to draw this way (e.g. no breakdown): try the next
            continue
        except UsoError as exc:  # the data has an unexpected shape: fall back, and say so
            out.append(note(f"Kaaviota ei voitu piirtää ({exc.message}).", "warning"))
    if chart is None:
        out.append(note(f"{r.kunta.name_fi} ja vertailukunnat: ei arvoja kaaviota varten.",
                        "nodata"))
    if chart is not None:
        out.append(chart[0])
        r.appendix.add(chart[1], ind)
    if c is not None:
        out.append(comparison_table(r, ind, c))
        out.append(paragraph(text_mod.comparison_sentence(c, "peers" if r.peers else
                                                          "country"), cls="uso-sentence"))
        out += [paragraph(n, cls="uso-note") for n in text_mod.comparison_notes(c)]
        r.appendix.add(select(r, ind.id, comparison_codes(r) + [COUNTRY], [c.year]), ind)
    if cats:
        out.append(category_table(r, ind))
    return out




def series_chart(r: Report, ind: Indicator, c: compare.Comparison) -> Chart:
    """Several years: the municipality over time against the group averages; one or two years
    or a relative index: the ranking among the comparison municipalities (the brochure's
    shape)."""
    name = r.kunta.name_fi
    # no line across a series break: only the years of the comparison year's definition
    years = [y for y in own_years(r, ind, c.year) if ind.break_within(y, c.year) is None]
    codes = [r.kunta.code, *r.peer_codes]
    title = f"{ind.label}, {name}"
    unit = chart_unit(ind)
    if ind.relative_index or len(years) < 3:
        rank = compare.ranking(ind, r.kunta.code, r.peer_codes, year=c.year, store=r.store)
        rows = select(r, ind.id, codes, [c.year])
        sub = (RELATIVE_INDEX_LABEL if ind.relative_index else
               f"{c.year}, {'vertailukunnat' if r.peers else 'kunta'}")
        fig = viz.ranking_bars(rank, highlight=r.kunta.code,
                               mean=None if ind.relative_index or not r.peers else True,
                               unit=unit, decimals=ind.decimals, polarity=ind.polarity,
                               title=title, subtitle=sub, source=chart_source(rows))
        return figure_html(fig, alt=f"{ind.label}: {name} ja vertailukunnat {c.year}",
                           rows=rows), rows
    tab = r.store.table(ind.id)
    groups = [g for g in r.groups() if g.key in ("peers", "network")]
    frame = compare.series_frame(ind, r.kunta.code, groups, store=r.store, years=years)
    frame = frame.rename(columns={g.key: group_label(r, g.key) for g in groups})
    frame.attrs = {}  # the chart needs the numbers; pandas deep-copies attrs into each subset
    country = tab.values[COUNTRY].reindex(years) if COUNTRY in tab.values.columns else None
    if country is not None and country.notna().sum() < 2:
        country = None  # a single country figure is no line; the table shows it
    if country is not None:
        frame["Koko maa"] = country
    rows = select(r, ind.id, [*codes, *r.network_codes] + ([COUNTRY] if country is not None
                                                           else []), years)
    if ind.kind == "count":
        # a count's level differs by orders of magnitude between a municipality and the
        # groups: compare the development as an index, where every value is positive
        usable = frame.dropna(axis=1, how="all")
        if (usable > 0).all().all() and usable.iloc[0].notna().all() and name in usable:
            fig = viz.indexed_series(usable, years[0], highlight=name, title=title,
                                     source=chart_source(rows))
            return figure_html(fig, alt=f"{ind.label}: kehitys, {years[0]} = 100",
                               rows=rows), _drawn(r, rows)
        frame = frame[[name]]
        rows = rows[rows["kunta"] == r.kunta.code]
    fig = viz.time_series(frame, highlight=name, unit=unit, decimals=ind.decimals,
                          title=title, subtitle=ind.unit or None, source=chart_source(rows))
    return figure_html(fig, alt=f"{ind.label}: {name} {years[0]}–{years[-1]}",
                       rows=rows), _drawn(r, rows)


def _drawn(r: Report, rows: pd.DataFrame) -> pd.DataFrame:
    """The figures a time-series chart draws as such: the municipality and the country (the
    group lines are means of the members' figures, which the comparison table's year lists)."""
    return rows[rows["kunta"].isin([r.kunta.code, COUNTRY])]


def group_label(r: Report, key: str) -> str:
    # the peers' own mean (the municipality excluded): not the brochure's "Vrt. kunnat ka."
    return {"peers": "Vertailukunnat ka. (ilman kuntaa)",
            "network": r.network_label or "Verkosto ka."}.get(
        key, key)


def comparison_table(r: Report, ind: Indicator, c: compare.Comparison) -> str:
    """The municipality and its groups in the comparison year, and the change over the
    period (percentage points for a percentage)."""
    d, unit = ind.decimals, ind.unit
    ch = c.change
    value_col = f"Arvo {c.year}"
    change_col = f"Muutos {ch.start}–{ch.end}" if ch else None

    def change_text(absolute: float | None, pct: float | None) -> str:
        if unit == "%":
            return fmt.with_unit(absolute, "%-yks.", d, signed=True)
        return fmt.change_pct(pct) if pct is not None else fmt.MISSING

    own = {"": r.kunta.name_fi, value_col: value_text(c.value, unit, d, c.status)}
    if change_col:
        own[change_col] = change_text(ch.absolute, ch.pct)
    rows = [own]
    if ind.relative_index:
        for key, title in (("peers", "Sija vertailukunnissa"), ("country", "Sija koko maassa")):
            g = c.groups.get(key)
            if g and g.rank is not None:
                rows.append({"": title, value_col: f"{g.rank_text}/{g.n_ranked}"})
        return _comparison_html(rows)
    for key, g in c.groups.items():
        if key == "country":
            continue
        label = (group_label(r, key) if key in ("peers", "network")
                 else f"{text_mod.group_label(g)} ka.")
        row = {"": f"{label} ({g.n_with_data}/{g.n_members})",
               value_col: value_text(g.mean, unit, d)}
        if change_col:
            gc = ch.groups.get(key)
            row[change_col] = change_text(gc.mean_absolute, gc.mean_pct) if gc else fmt.MISSING
        rows.append(row)
    own_country = c.country_value is not None
    rows.append({"": "Koko maa" if own_country else "Kuntien ka. (koko maa)",
                 value_col: value_text(c.country_value if own_country
                                       else c.groups["country"].mean, unit, d)})
    peer = c.groups.get("peers")
    if peer and peer.rank is not None:
        own["Sija vrt."] = f"{peer.rank_text}/{peer.n_ranked}"  # the last column
    return _comparison_html(rows)


def _comparison_html(rows: list[dict[str, str]]) -> str:
    """The comparison rows as a table: the first row (the municipality) highlighted, every
    column but the row titles right-aligned."""
    columns = dict.fromkeys(k for row in rows for k in row)
    return records_html(rows, numeric=[col for col in columns if col], highlight=0)


# -- blocks of several indicators ------------------------------------------------------------
def group_block(r: Report, title: str, members: list[Indicator]) -> str:
    """Indicators shown together: one chart, one table with a row per indicator (the rows
    are the link targets of the summary table), notes, source lines."""
    out = [f'<section class="uso-indicator uso-group" id="{anchor("ryhma", members[0].id)}">',
           f"<h3>{esc(title)}</h3>"]
    for ind in members:
        out += _tags(ind, description=False)  # descriptions: see the definitions
    with_data = [m for m in members if has_total(r, m)]
    chart = None
    if with_data:
        maker = GROUP_CHARTS.get(title, group_series_chart)
        try:
            chart = maker(r, title, with_data)
        except NoData:
            out.append(note(f"{r.kunta.name_fi}: ei arvoja kaaviota varten.", "nodata"))
        except UsoError as exc:
            out.append(note(f"Kaaviota ei voitu piirtää ({exc.message}).", "warning"))
    if chart is not None:
        out.append(chart[0])
        for ind in with_data:
            r.appendix.add(chart[1][chart[1]["indicator"] == ind.id], ind)
    out.append(overview_table(r, members))
    for ind in members:
        if ind not in with_data and not has_categories(r, ind):
            out.append(f'<div id="{anchor("ind", ind.id)}-puuttuu">'
                       f"{paragraph(ind.label, cls='uso-tag')}{no_data_note(ind)}</div>")
    shown = []
    for ind in with_data:
        row = r.overview_row(ind.id)
        year = row["year"] if row is not None else None
        if year is not None and not pd.isna(year):
            rows = select(r, ind.id, comparison_codes(r) + [COUNTRY], [int(year)])
            r.appendix.add(rows, ind)
            shown.append(rows)
    if shown:
        out.append(source_html(pd.concat(shown)))
    for ind in members:
        if ind.categories and has_categories(r, ind) and ind.id not in ("vaestoennuste_2019",):
            out.append(category_table(r, ind) if ind.id != "vaestoennuste"
                       else projection_table(r, ind))
    out.append("</section>")
    return "\n".join(out)


def group_series_chart(r: Report, title: str, members: list[Indicator]) -> Chart:
    """The municipality's series of every member in one chart."""
    series, parts = {}, []
    last = r.year
    for ind in members:
        years = own_years(r, ind, last)
        if not years:
            continue
        rows = select(r, ind.id, [r.kunta.code], years)
        series[ind.label] = _by_year(rows)
        parts.append(rows)
    if not series:
        raise NoData(f"{r.kunta.name_fi}: no values for {title}.")
    rows = pd.concat(parts)
    units = {m.unit for m in members}
    unit = chart_unit(members[0]) if len(units) == 1 else None
    frame = pd.DataFrame(series)
    fig = viz.time_series(frame, unit=unit, decimals=members[0].decimals,
                          title=f"{title}, {r.kunta.name_fi}",
                          subtitle=members[0].unit if len(units) == 1 else None,
                          source=chart_source(rows))
    years = sorted(frame.index)
    return figure_html(fig, alt=f"{title}, {r.kunta.name_fi} {years[0]}–{years[-1]}",
                       rows=rows), rows


def _by_year(rows: pd.DataFrame) -> pd.Series:
    """The rows' values by year (what ``rows.set_index("year")["value"].sort_index()`` gives,
    without rebuilding the frame for one column)."""
    return pd.Series(rows["value"].to_numpy(), name="value",
                     index=pd.Index(rows["year"].to_numpy(), name="year")).sort_index()


def projection_chart(r: Report, title: str, members: list[Indicator]) -> Chart:
    """Population history and the projections of every round in one chart."""
    hist = select(r, "vaesto", [r.kunta.code])
    first = min(int(store_rows(r, m.id)["year"].min()) for m in members)
    hist = hist[(hist["year"] >= first - CHART_YEARS) & hist["value"].notna()]
    forecasts, parts = {}, [hist]
    for ind in members:
        rows = select(r, ind.id, [r.kunta.code])
        rows = rows[rows["value"].notna()]
        if rows.empty:
            continue
        label = re.sub(r"\s*\(.*\)$", "", ind.label)
        forecasts[label] = _by_year(rows)
        parts.append(rows)
    if not forecasts:
        raise NoData(f"{r.kunta.name_fi}: no population projection.")
    rows = pd.concat(parts)
    fig = viz.projection(_by_year(hist), forecasts,
                         title=f"Väkiluku ja väestöennusteet, {r.kunta.name_fi}",
                         source=chart_source(rows))
    return figure_html(fig, alt=f"Väestöennuste, {r.kunta.name_fi}", rows=rows), rows


def projection_table(r: Report, ind: Indicator) -> str:
    """The service-need age groups of the projection, every projection year."""
    rows = select(r, ind.id, [r.kunta.code], None, category=None)
    labels = ind.categories or {}
    cats = [k for k in ("", "0-6", "7-15", "16-18", "75+", "85+")
            if k in set(rows["category"])]
    if not cats:
        return ""
    piv = rows.pivot_table(index="category", columns="year", values="value", aggfunc="first")
    table = pd.DataFrame({"Ikäryhmä": ["Koko väestö" if k == "" else labels.get(k, k)
                                       for k in cats]})
    for y in piv.columns:
        table[str(y)] = [value_text(piv.at[k, y], ind.unit, 0) for k in cats]
    shown = rows[rows["category"].isin(cats)]
    r.appendix.add(shown, ind)
    return (table_html(table, numeric=list(table.columns[1:]),
                       caption=f"{ind.label}: palvelujen ikäryhmät, {r.kunta.name_fi}")
            + source_html(shown))


def commuting_chart(r: Report, title: str, members: list[Indicator]) -> Chart:
    """Working in the own municipality, in- and out-commuting over the years (the other
    members, e.g. working in the own sub-region, are in the table only)."""
    from uso_lib.viz.structure import commuting_kind

    flows = [m for m in members if commuting_kind(m.id)]
    if not flows:
        raise NoData("no commuting flows among the members")
    parts = [select(r, m.id, [r.kunta.code], own_years(r, m, r.year)) for m in flows]
    rows = pd.concat(parts)
    rows = rows[rows["value"].notna()]
    if rows.empty:
        raise NoData(f"{r.kunta.name_fi}: no commuting figures.")
    fig = viz.commuting(rows[["indicator", "year", "value"]], category="indicator",
                        title=f"Pendelöinti, {r.kunta.name_fi}", source=chart_source(rows))
    return figure_html(fig, alt=f"Pendelöinti, {r.kunta.name_fi}", rows=rows), rows


GROUP_CHARTS: dict[str, Callable[[Report, str, list[Indicator]], Chart]] = {
    "Väestöennuste": projection_chart,
    "Pendelöinti": commuting_chart,
}


