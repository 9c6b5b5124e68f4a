"""Breakdowns of one indicator by category: the table of categories and the charts made for
them (population pyramid, service-need change, jobs by industry, emissions by sector, the
categories themselves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from uso_lib import fmt, viz
from uso_lib.catalog import Indicator
from uso_lib.errors import NoData
from uso_lib.regions import COUNTRY
from uso_lib.report.html import (
    chart_source,
    chart_unit,
    figure_html,
    paragraph,
    records_html,
    source_html,
    value_text,
)

if TYPE_CHECKING:
    from uso_lib.report.state import Report


from uso_lib.report.rows import Chart, select

# Breakdowns whose categories, not the total, are the story (the total is their sum).
CATEGORY_CHARTS = {"asuntovaesto_tulokymmenyksittain", "muutto_ikaryhmittain",
                   "rikoksista_epaillyt"}


# -- breakdowns -------------------------------------------------------------------------------
def latest_category_year(r: Report, ind: Indicator, kunta: str) -> int | None:
    """The latest year of the municipality's breakdown with a value (at most the report's
    year, when it has one then)."""
    years = r.store.index.category_years(ind.id, kunta)
    if not years:
        return None
    if r.year is not None:
        years = [y for y in years if y <= r.year] or years
    return years[-1]


PREFIX_LABELS = {"m": "miehet", "n": "naiset", "tulo": "tulomuutto", "lahto": "lähtömuutto"}


def category_table(r: Report, ind: Indicator) -> str:
    """The breakdown in the latest year: the municipality and the whole country (when the
    store has it), in the catalogue's category order, with its source line. Two-part codes
    (``m:0-4``, ``tulo:20-39``) become a cross table: one row per age group, one column per
    sex or direction."""
    year = latest_category_year(r, ind, r.kunta.code)
    if year is None:
        return paragraph(f"{r.kunta.name_fi}: ei luokittaisia tietoja.", cls="uso-note")
    rows = select(r, ind.id, [r.kunta.code, COUNTRY], [year], category=None)
    rows = rows[rows["category"] != ""]
    own, ctry = _by_category(rows, r.kunta.code), _by_category(rows, COUNTRY)
    labels = ind.categories or {}
    order = [k for k in labels if k in own] + sorted(set(own) - set(labels))
    caption = f"{ind.label} luokittain, {r.kunta.name_fi} {year}"
    r.appendix.add(rows, ind)

    def cell(figures: dict[str, tuple[object, object]], k: str) -> str:
        if k not in figures:
            return fmt.MISSING
        value, status = figures[k]
        return value_text(value, ind.unit, ind.decimals, status)  # type: ignore[arg-type]

    prefixes = list(dict.fromkeys(k.split(":")[0] for k in order))
    if all(k.split(":")[0] in PREFIX_LABELS for k in order) and len(prefixes) > 1:
        rests = list(dict.fromkeys(k.split(":", 1)[1] if ":" in k else "" for k in order))
        columns = {"Ryhmä": [(PREFIX_LABELS.get(x, x) if x in PREFIX_LABELS else x)
                             or "yhteensä" for x in rests]}
        for p in prefixes:
            columns[PREFIX_LABELS[p]] = [cell(own, f"{p}:{x}" if x else p) for x in rests]
    else:
        columns = {"Luokka": [labels.get(k, k) for k in order],
                   r.kunta.name_fi: [cell(own, k) for k in order]}
        if ctry:
            columns["Koko maa"] = [cell(ctry, k) for k in order]
    records = [dict(zip(columns, cells, strict=True))
               for cells in zip(*columns.values(), strict=True)]
    return (records_html(records, columns=list(columns), numeric=list(columns)[1:],
                         caption=caption)
            + source_html(rows))


def _by_category(rows: pd.DataFrame, kunta: str) -> dict[str, tuple[object, object]]:
    """category -> (value, status) of one municipality's rows (one year's breakdown)."""
    return {k: (v, s) for c, k, v, s in zip(rows["kunta"].tolist(), rows["category"].tolist(),
                                            rows["value"].tolist(), rows["status"].tolist(),
                                            strict=True) if c == kunta}


def _breakdown(r: Report, ind: Indicator, codes: list[str], what: str
               ) -> tuple[int, pd.DataFrame]:
    """The latest year of the municipality's breakdown of ``ind`` and its rows (with the total
    row) for ``codes``; no breakdown at all is a NoData that the section shows as a note."""
    year = latest_category_year(r, ind, r.kunta.code)
    if year is None:
        raise NoData(f"{r.kunta.name_fi}: no {what}.")
    return year, select(r, ind.id, codes, [year], category=None)


def category_chart(r: Report, ind: Indicator) -> Chart:
    """The breakdown as bars in the catalogue's order (age groups and income deciles keep
    their order); a count with a total as shares of it, the whole country as markers."""
    year, rows = _breakdown(r, ind, [r.kunta.code, COUNTRY],
                            f"breakdown of {ind.id!r}")
    labels = ind.categories or {}
    frames = []
    share = False
    for code, name in ((r.kunta.code, r.kunta.name_fi), (COUNTRY, "Koko maa")):
        own = rows[rows["kunta"] == code].set_index("category")["value"]
        if own.empty:
            continue
        total = own.get("")
        share = ind.kind == "count" and total is not None and bool(total > 0) and \
            ind.id in CATEGORY_CHARTS
        cats = [k for k in labels if k in own.index] + sorted(set(own.index) - set(labels)
                                                              - {""})
        vals = own.reindex(cats) / total * 100.0 if share else own.reindex(cats)
        frames.append(pd.DataFrame({"category": cats, "value": vals.to_numpy(), "name": name}))
    frame = pd.concat(frames, ignore_index=True)
    fig = viz.category_bars(frame, series="name", highlight=r.kunta.name_fi, labels=labels,
                            unit="%" if share else chart_unit(ind),
                            decimals=1 if share else ind.decimals,
                            title=f"{ind.label}, {r.kunta.name_fi} {year}",
                            subtitle="osuus kaikista, %" if share else (ind.unit or None),
                            source=chart_source(rows))
    return figure_html(fig, alt=f"{ind.label} luokittain, {r.kunta.name_fi} {year}",
                       rows=rows), rows


def pyramid_chart(r: Report, ind: Indicator) -> Chart:
    year, rows = _breakdown(r, ind, [r.kunta.code, COUNTRY], "age structure")
    rows = rows[rows["category"] != ""]
    own = rows[rows["kunta"] == r.kunta.code]
    ctry = rows[rows["kunta"] == COUNTRY]
    fig = viz.population_pyramid(own[["category", "value"]],
                                 compare=ctry[["category", "value"]] if len(ctry) else None,
                                 share=bool(len(ctry)), title=f"{ind.label}, "
                                 f"{r.kunta.name_fi} {year}", source=chart_source(rows))
    return figure_html(fig, alt=f"Väestöpyramidi, {r.kunta.name_fi} {year}", rows=rows), rows


def service_need_chart(r: Report, ind: Indicator) -> Chart:
    year, rows = _breakdown(r, ind, [r.kunta.code], "service-need change")
    rows = rows[rows["category"] != ""]
    frame = rows[["category", "value"]].rename(columns={"value": "change_pct"})
    fig = viz.service_need_change(frame, base_year=2024, horizon=year,
                                  title=f"Palvelutarpeiden muutos, {r.kunta.name_fi}",
                                  source=chart_source(rows))
    return figure_html(fig, alt=f"Palvelutarpeiden muutos {year}, {r.kunta.name_fi}",
                       rows=rows), rows


def industry_chart(r: Report, ind: Indicator) -> Chart:
    year, rows = _breakdown(r, ind, [r.kunta.code, COUNTRY], "breakdown by industry")
    frame = rows.assign(name=np.where(rows["kunta"] == COUNTRY, "Koko maa", r.kunta.name_fi))
    fig = viz.jobs_by_industry(frame[["category", "value", "name"]], series="name",
                               highlight=r.kunta.name_fi, labels=ind.categories,
                               title=f"{ind.label}, {r.kunta.name_fi} {year}",
                               source=chart_source(rows))
    return figure_html(fig, alt=f"{ind.label}, {r.kunta.name_fi} {year}", rows=rows), rows


def emissions_chart(r: Report, ind: Indicator) -> Chart:
    rows = select(r, ind.id, [r.kunta.code], None, category=None)
    rows = rows[rows["value"].notna() | (rows["category"] == "")]
    if rows.empty:
        raise NoData(f"{r.kunta.name_fi}: no emissions by sector.")
    fig = viz.emissions_by_sector(rows[["year", "category", "value"]], unit=ind.unit or "",
                                  labels=ind.categories,
                                  title=f"{ind.label}, {r.kunta.name_fi}",
                                  source=chart_source(rows))
    return figure_html(fig, alt=f"{ind.label} sektoreittain, {r.kunta.name_fi}",
                       rows=rows), rows


SPECIAL_CHARTS: dict[str, Callable[[Report, Indicator], Chart]] = {
    "vaesto_ikaryhmittain": pyramid_chart,
    "palvelutarpeiden_muutos": service_need_chart,
    "tyopaikat_toimialoittain": industry_chart,
    "yrityskanta_toimialoittain": industry_chart,
    "kasvihuonekaasupaastot": emissions_chart,
}


