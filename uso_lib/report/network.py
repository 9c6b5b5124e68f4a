"""The network overview (``notebooks/verkosto.ipynb``): the members on a map, their
population and yearly fee tier, and a headline comparison across the members.

The fee tier follows the member's latest population in the store (the rule itself lives in
:func:`uso_lib.params.fee_tier`); a member without a population figure gets no tier, and the
table says so rather than guessing.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from IPython.display import HTML

from uso_lib import catalog as catalog_mod
from uso_lib import compare, fmt, viz
from uso_lib.errors import NoData
from uso_lib.params import Network, fee_tier, fee_tier_label
from uso_lib.report.html import (
    chart_source,
    chart_unit,
    esc,
    figure_html,
    map_html,
    note,
    page,
    paragraph,
    source_html,
    style,
    table_html,
    value_text,
)
from uso_lib.store import Store
from uso_lib.viz import maps

POPULATION = "vaesto"
HEADLINE = ("vaesto_muutos_pct", "yli64_osuus", "tyottomyysaste", "tyollisyysaste",
            "taloudellinen_huoltosuhde", "vuosikate_eur_as", "lainakanta_eur_as")


def _latest(st: Store, indicator: str, codes: list[str]) -> pd.DataFrame:
    """Each member's latest figure (own year per member), as store rows."""
    rows = st.rows(indicator)
    rows = rows[(rows["category"] == "") & rows["kunta"].isin(codes) & rows["value"].notna()]
    return rows.sort_values("year").groupby("kunta", sort=False).tail(1)


def members_frame(network: Network, st: Store) -> pd.DataFrame:
    """One row per member: code, name, maakunta, population and its year, fee and tier."""
    codes = network.codes()
    pop = _latest(st, POPULATION, codes).set_index("kunta")
    rows = []
    for m in network.members:
        k = m.kunta
        value = float(pop.at[k.code, "value"]) if k.code in pop.index else None
        rows.append({"kunta": k.code, "nimi": k.name_fi, "maakunta": k.maakunta,
                     "vaesto": value,
                     "vuosi": int(pop.at[k.code, "year"]) if k.code in pop.index else None,
                     "maksu": fee_tier(value) if value is not None else None,
                     "maksuluokka": fee_tier_label(value) if value is not None else "ei tietoa",
                     "verrokit": ", ".join(p.name_fi for p in m.verrokit),
                     "huom": m.notes})
    df = pd.DataFrame(rows)
    df.attrs["rows"] = pop.reset_index()
    return df


def title(network: Network) -> HTML:
    return page([style(), f"<h1>{esc(network.name)}: verkoston yleiskuva</h1>",
                 paragraph(f"Kausi {network.period.replace('-', '–')}, "
                           f"{len(network.members)} jäsenkuntaa. "
                           f"Laadittu {fmt.day(date.today())}.")])


def members_table(network: Network, st: Store) -> HTML:
    """Members, population, fee tier; the total of the yearly fees."""
    df = members_frame(network, st)
    show = pd.DataFrame({
        "Kunta": df["nimi"], "Maakunta": df["maakunta"],
        "Väkiluku": [value_text(v, "henkeä") for v in df["vaesto"]],
        "Vuosi": [str(y) if y else "–" for y in df["vuosi"]],
        "Maksuluokka": df["maksuluokka"],
        "Vuosimaksu": [fmt.euro(v) if v is not None else fmt.MISSING for v in df["maksu"]],
        "Omat vertailukunnat": [v or "ehdotetaan" for v in df["verrokit"]],
    })
    total = df["maksu"].dropna()
    missing = df.loc[df["maksu"].isna(), "nimi"].tolist()
    parts = [table_html(show, numeric=["Väkiluku", "Vuosi", "Vuosimaksu"]),
             paragraph(f"Vuosimaksut yhteensä {fmt.euro(total.sum())} ({len(total)} kuntaa)"
                       + (f"; ei väkilukua: {', '.join(missing)}" if missing else "") + ". "
                       "Maksu väkiluvun mukaan: alle 9 000 asukasta 9 000 €, 9 000–45 000 "
                       "asukasta 12 000 €, yli 45 000 asukasta 16 000 €, lisäksi asiantuntijoiden "
                       "matkakulut toteutuneen mukaan.", cls="uso-note"),
             source_html(df.attrs["rows"])]
    return page(parts)


def members_map(network: Network, st: Store) -> HTML:
    """Population of every municipality in quintiles, the members outlined and named."""
    rows = st.cross_section(POPULATION)
    if rows.empty:
        return page([note("Väkilukua ei ole aineistossa: karttaa ei voi piirtää.", "warning")])
    fig = maps.choropleth(rows, outline=network.codes(), label=network.codes(),
                          title=f"{network.name}: jäsenkunnat", legend_title="Väkiluku",
                          unit=None, decimals=0, credit=False)
    return page([map_html(fig, alt=f"{network.name}: jäsenkunnat kartalla", rows=rows)])


def headline_table(network: Network, st: Store,
                   indicators: tuple[str, ...] = HEADLINE) -> HTML:
    """The members side by side on the headline indicators (each member's latest year),
    with the members' mean."""
    cat = catalog_mod.catalog()
    codes = network.codes()
    names = {m.kunta.code: m.kunta.name_fi for m in network.members}
    table = pd.DataFrame({"Kunta": [names[c] for c in codes]})
    shown, heads = [], []
    for iid in indicators:
        if iid not in cat.ids():
            continue
        ind = cat.get(iid)
        rows = _latest(st, iid, codes).set_index("kunta")
        if rows.empty:
            continue
        years = sorted({int(y) for y in rows["year"]})
        head = f"{ind.label} ({years[-1]})" if len(years) == 1 else ind.label
        table[head] = [value_text(rows["value"].get(c), ind.unit, ind.decimals) for c in codes]
        mean = rows["value"].mean()
        heads.append((head, value_text(mean, ind.unit, ind.decimals)))
        shown.append(rows.reset_index())
    if not shown:
        return page([note("Vertailuindikaattoreita ei ole aineistossa.", "warning")])
    mean_row = {"Kunta": "Jäsenkuntien ka."} | dict(heads)
    table = pd.concat([table, pd.DataFrame([mean_row])], ignore_index=True)
    return page([table_html(table, numeric=list(table.columns[1:])),
                 source_html(pd.concat(shown))])


def _member_ranking(network: Network, st: Store, ind) -> tuple[str, object, int] | str:
    """The members ranked on ``ind`` as the brochure's chart (its figure HTML with the source
    line, the ranking and its year), or the note saying why there is none."""
    codes = network.codes()
    try:
        rank = compare.ranking(ind, codes[0], codes[1:], store=st)
    except NoData as exc:
        return note(f"{ind.label}: {exc.message}", "nodata")
    year = rank.attrs["year"]
    rows = st.cross_section(ind.id, year)
    rows = rows[rows["kunta"].isin(codes)]
    rank["highlight"] = False
    fig = viz.ranking_bars(rank, mean=True, mean_label="Jäsenet ka.", unit=chart_unit(ind),
                           decimals=ind.decimals, polarity=ind.polarity,
                           title=f"{ind.label}, {network.name} {year}",
                           source=chart_source(rows))
    return figure_html(fig, alt=f"{ind.label}: jäsenkunnat {year}", rows=rows), rank, year


def headline_ranking(network: Network, st: Store, indicator: str = "vaesto_muutos_pct"
                     ) -> HTML:
    """One headline indicator as the brochure's ranking chart over the members."""
    got = _member_ranking(network, st, catalog_mod.catalog().get(indicator))
    return page([got if isinstance(got, str) else got[0]])


RANKINGS = ("vaesto_muutos_pct", "yli64_osuus", "tyottomyysaste", "tyollisyysaste",
            "vuosikate_eur_as", "lainakanta_eur_as")


def headline_rankings(network: Network, st: Store, indicators: tuple[str, ...] = RANKINGS
                      ) -> HTML:
    """The members ranked on each headline indicator, with the members' mean: one block per
    indicator (heading, chart, a sentence, its source line), the workshop's slides."""
    cat = catalog_mod.catalog()
    blocks = [style()]
    for iid in indicators:
        if iid not in cat.ids():
            continue
        ind = cat.get(iid)
        got = _member_ranking(network, st, ind)
        if isinstance(got, str):
            blocks.append(got)
            continue
        fig_html, rank, year = got
        blocks.append(f'<section class="uso-indicator"><h3>{esc(ind.label)}</h3>'
                      + fig_html
                      + paragraph(ranking_sentence(rank, ind, year), cls="uso-sentence")
                      + "</section>")
    return page(blocks)


def ranking_sentence(rank: pd.DataFrame, ind, year: int) -> str:
    """``Jäsenkuntien keskiarvo 13,0 % (2020); suurin Kokkola 17,1 %, pienin Eurajoki
    9,4 %; 18 kunnalla on tieto.``"""
    have = rank[rank["value"].notna()].sort_values("value")
    if have.empty:
        return f"{ind.label}: ei jäsenkuntien tietoja vuodelta {year}."

    def v(x: object) -> str:
        return value_text(x, ind.unit, ind.decimals)

    low, high = have.iloc[0], have.iloc[-1]
    missing = len(rank) - len(have)
    text = (f"Jäsenkuntien keskiarvo {v(have['value'].mean())} ({year}); suurin "
            f"{high['name']} {v(high['value'])}, pienin {low['name']} {v(low['value'])}"
            + (f"; {missing} kunnalta ei tietoa" if missing else ""))
    return text if text.endswith(".") else text + "."  # "€/as." ends one already
