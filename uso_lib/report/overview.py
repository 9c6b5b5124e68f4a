"""The whole-picture rows: the summary table of every indicator and the group tables, one row
per indicator with its value, the comparison groups, the rank and the assessment marker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib.catalog import Indicator
from uso_lib.report.html import (
    anchor,
    esc,
    value_text,
)
from uso_lib.report.rows import has_categories

if TYPE_CHECKING:
    from uso_lib.report.state import Report



# -- the whole-picture rows (summary table and group tables) ----------------------------------
MARKERS = {
    "better": ("▲", "parempi", "uso-better"),
    "worse": ("▼", "heikompi", "uso-worse"),
    "same": ("●", "samaa tasoa", "uso-same"),
    "higher": ("△", "korkeampi", "uso-neutral"),
    "lower": ("▽", "matalampi", "uso-neutral"),
}


def marker_html(assessment: str | None) -> str:
    if not assessment or assessment not in MARKERS:
        return '<span class="uso-nomark">–</span>'
    sym, text, cls = MARKERS[assessment]
    return f'<span class="{cls}" title="{esc(text)}">{sym} {esc(text)}</span>'


def ranking_mean(row: Mapping[str, Any]) -> float | None:
    """The brochure's "Vrt. kunnat ka.": the mean of the municipality and its peers with data
    (the ranking's every member), from the peers' mean and count."""
    mean, n, value = row.get("peer_mean"), row.get("peer_n"), row.get("value")
    if mean is None or pd.isna(mean) or n is None or pd.isna(n):
        return None
    if value is None or pd.isna(value):
        return float(mean)
    return (float(mean) * int(n) + float(value)) / (int(n) + 1)


def overview_columns(r: Report) -> list[str]:
    cols = ["Mittari", "Vuosi", r.kunta.name_fi, "Vrt. kunnat ka."]
    cols += [r.network_label] if r.network_label else []
    return cols + ["Koko maa", "Kuntien ka.", "Sija vrt.", "Arvio"]


def overview_table(r: Report, members: list[Indicator], *, link: bool = False,
                   theme_rows: bool = False) -> str:
    """Rows of :func:`uso_lib.compare.overview` as a table. ``link``: indicator names link to
    their section (the summary); otherwise each row is the link target itself."""
    cols = overview_columns(r)
    head = "".join(f'<th{"" if i == 0 else " class=num"}>{esc(c)}</th>'
                   for i, c in enumerate(cols))
    body = []
    cat = catalog_mod.catalog()
    last_theme = None
    for ind in members:
        if theme_rows and ind.theme != last_theme:
            last_theme = ind.theme
            body.append(f'<tr class="uso-theme"><th colspan="{len(cols)}"><a href="#'
                        f'{anchor("teema", ind.theme)}">{esc(cat.theme(ind.theme).title)}'
                        "</a></th></tr>")
        row = r.overview_row(ind.id)
        if row is not None:
            body.append(overview_row(r, row, ind, link=link))
    return (f'<table class="uso-table uso-summary"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def overview_row(r: Report, row: Mapping[str, Any], ind: Indicator, *, link: bool) -> str:
    with_network = bool(r.network_label)
    if link:
        label = f'<a href="#{anchor("ind", ind.id)}">{esc(ind.label)}</a>'
        ident = ""
    else:
        label = esc(ind.label)
        ident = f' id="{anchor("ind", ind.id)}"'
    if ind.relative_index and "indeksi" not in ind.label.lower():
        label += ' <span class="uso-tag">(indeksi, mediaani = 100)</span>'
    elif ind.offline and ind.offline.proxy and "korvaava" not in ind.label.lower():
        label += ' <span class="uso-tag">(korvaava mittari)</span>'
    if not row["has_data"]:
        n = 8 if with_network else 7
        what = ("vain luokittaiset tiedot, ks. mittarin kohta" if has_categories(r, ind)
                else "ei tietoa offline-aineistossa")
        return (f"<tr{ident}><td>{label}</td><td colspan=\"{n}\" class=\"uso-nodata\">"
                f"{what}</td></tr>")
    d = int(row["decimals"]) if not pd.isna(row["decimals"]) else 0
    unit = ind.unit

    def v(x: object) -> str:
        return esc(value_text(x, unit, d))

    rank = "–"
    if row["peer_rank_text"] and not pd.isna(row["peer_n"]):
        rank = f"{row['peer_rank_text']}/{int(row['peer_n']) + 1}"
    year = "–" if pd.isna(row["year"]) else str(int(row["year"]))
    # a count (births, jobs) is not compared across municipalities of different size: it
    # stays the municipality's own figure beside the country's total; its rate is compared
    count = ind.kind == "count"
    cells = [label, year, f"<b>{esc(value_text(row['value'], unit, d, row['status']))}</b>",
             v(None if count else ranking_mean(row))]
    if with_network:
        cells.append(v(None if count else row["network_mean"]))
    # "Koko maa" is the country's own figure only; the plain mean of municipalities, where no
    # national figure exists, has its own column (and none for a count: a mean count compares
    # nothing)
    national = not bool(row.get("country_is_mean"))
    cells += [v(row["country"] if national else None),
              v(None if national or ind.kind == "count" else row["country"]),
              esc("–" if count else rank), marker_html(None if count else row["assessment"])]
    return f"<tr{ident}>" + "".join(f'<td{"" if i == 0 else " class=num"}>{c}</td>'
                                    for i, c in enumerate(cells)) + "</tr>"
