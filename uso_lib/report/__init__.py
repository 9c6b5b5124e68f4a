"""What the situation-analysis notebook calls, so that the notebook only tells the story.

``notebooks/tilanneanalyysi.ipynb`` is executed by papermill and exported to HTML without its
code, so everything a reader sees is an *output*. Each function here returns one IPython
``HTML`` object for one part of the report::

    r = report.start(kunta, verrokit, vuosi, aineisto, verkosto)   # validated parameters
    report.cover(r)              # title, date, data, peers and how chosen, maps
    report.highlights(r)         # Finnish highlight sentences
    report.summary_table(r)      # every indicator: value, peers, network, country, rank, marker
    report.composite_indices(r)  # uso's own indices, labelled as such
    report.theme_section(r, "vaestokehitys")   # ... one per theme
    report.sources_table(r); report.definitions_table(r)
    report.appendix_note(r, liite)   # writes <liite>.csv and .xlsx when liite is set

The report's state lives in :mod:`uso_lib.report.state`; the pieces in
:mod:`uso_lib.report.html` (escaping, tables, figures, source lines),
:mod:`uso_lib.report.sections` (the theme sections) and :mod:`uso_lib.report.appendix` (the
data appendix: every figure shown, with its source). :mod:`uso_lib.report.explore` and
:mod:`uso_lib.report.network` serve the exploration and network notebooks,
:mod:`uso_lib.report.index` the factory's index page.
"""

from __future__ import annotations

import os

import pandas as pd
from IPython.display import HTML

from uso_lib import catalog as catalog_mod
from uso_lib import fmt
from uso_lib import indices as indices_mod
from uso_lib import notes as notes_mod
from uso_lib import text as text_mod
from uso_lib.errors import UsoError
from uso_lib.provenance import source_text, year_span
from uso_lib.report import freshness, sections
from uso_lib.report.html import (
    CLOSE_UP_DPI,
    LICENCE,
    MAP_COLOURS,
    MAP_DPI,
    bullets,
    date_text,
    esc,
    indicator_unit,
    live_source_text,
    note,
    page,
    paragraph,
    png_data_uri,
    style,
    table_html,
)
from uso_lib.report.state import PEER_METHODS, Report, start, without_attrs

__all__ = ["PEER_METHODS", "Report", "appendix_note", "composite_indices", "cover", "cover_maps",
           "data_text", "definitions_table", "highlights", "sources_table", "start",
           "summary_table", "theme_section"]

POLARITY_FI = {"higher_better": "suurempi on parempi", "lower_better": "pienempi on parempi",
               "neutral": "ei arvotusta"}


# -- cover ----------------------------------------------------------------------------------
def cover(r: Report) -> HTML:
    """Title, date, data, the comparison municipalities and how they were chosen, and the
    maps of the municipality, its peers and its region."""
    m = r.kunta
    out = [style(), f"<h1>Tilanneanalyysi: {esc(m.name_fi)}</h1>", '<div class="uso-cover">',
           paragraph(f"{m.name_fi} ({m.code}): {m.maakunta}, {m.seutukunta}. Kuntaryhmä: "
                     f"{m.kuntaryhmitys}. Hyvinvointialue: {m.hyvinvointialue}."),
           paragraph(f"Laadittu {fmt.day(r.today)}. {data_text(r)}"),
           freshness.cover_html(r)]  # how old the figures are (#14)
    member = r.member
    if member is not None:
        out.append(paragraph(f"{m.name_fi} on {r.network.name} -verkoston jäsen "
                             f"(kausi {r.network.period.replace('-', '–')})."))
        if member.notes:
            out.append(paragraph(f"Huomio: {member.notes}", cls="uso-note"))
    if r.peers:
        names = ", ".join(p.name_fi for p in r.peers)
        out.append(paragraph(f"Vertailukunnat ({len(r.peers)}): {names}. Valinta: "
                             f"{r.peer_method_fi}."))
        if r.suggestion is not None:
            out.append(paragraph(r.suggestion.method, cls="uso-method"))
            out += [paragraph(n, cls="uso-note") for n in r.suggestion.notes]
    out += [paragraph(n, cls="uso-note") for n in r.notes]
    out += ["</div>", cover_maps(r)]
    return page(out)


def cover_maps(r: Report) -> str:
    """The locator (whole country) and the regional close-up, side by side."""
    from uso_lib import geo
    from uso_lib.viz import maps

    try:
        # the caption below carries the boundaries' credit (and each PNG's metadata), not
        # the maps' pixels too
        loc = png_data_uri(maps.locator(r.kunta.code, r.peer_codes, credit=False),
                           dpi=MAP_DPI, colours=MAP_COLOURS, source=geo.ATTRIBUTION)
        reg = png_data_uri(maps.regional(r.kunta.code, peers=r.peer_codes, level="maakunta",
                                         credit=False),
                           dpi=CLOSE_UP_DPI, colours=MAP_COLOURS, source=geo.ATTRIBUTION)
    except UsoError as exc:  # no polygons installed: say so instead of a blank space
        return note(f"Karttaa ei voitu piirtää: {exc.message}", "warning")
    name = esc(r.kunta.name_fi)
    peers = "musta reuna ja sininen: vertailukunnat; " if r.peers else ""
    return (f'<figure class="uso-maps"><img src="{loc}" alt="{name} ja vertailukunnat Suomen '
            f'kartalla"/><img src="{reg}" alt="{name} ja maakunta {esc(r.kunta.maakunta)}"/>'
            f'<figcaption class="uso-source">Oranssi: {name}; {peers}vaalea alue: maakunta '
            f"{esc(r.kunta.maakunta)}. {esc(geo.ATTRIBUTION)}.</figcaption></figure>")


def data_text(r: Report) -> str:
    """Which data the report uses and how recent it is."""
    index = r.store.index
    dates = sorted(v for v in index.distinct("vintage") if v)
    span = (f"{date_text(dates[0])}–{date_text(dates[-1])}" if len(dates) > 1 else
            date_text(dates[0]) if dates else "–")
    what = ("Aineisto: uso-työkalun mukana tuleva offline-aineisto"
            if r.aineisto == "snapshot" else
            "Aineisto: paikallinen tietovarasto (haetut ja tuodut tiedot) offline-aineiston "
            "päällä")
    extra = (" Mukana verkosta haettuja tai tuotuja tietoja."
             if {"live", "cached", "file"} & set(index.distinct("origin")) else "")
    return f"{what}; tietojen päiväykset {span}.{extra}"


# -- summary --------------------------------------------------------------------------------
def highlights(r: Report) -> HTML:
    """The Finnish highlight sentences (nostot)."""
    items = text_mod.highlights(r.kunta.code, r.peer_codes, r.network_codes or None,
                                year=r.year, store=r.store,
                                overview_df=without_attrs(r.overview()))
    own = notes_mod.section_html(r.huomiot, notes_mod.SUMMARY_KEY)
    if not items:
        return page([own, note("Nostoja ei voitu muodostaa: vertailuun tarvittavat tiedot "
                               "puuttuvat.")])
    return page([own, bullets(items, cls="uso-highlights")])


def summary_table(r: Report) -> HTML:
    """Every indicator in one table, theme by theme: the whole picture at a glance."""
    inds = [ind for theme, _ in catalog_mod.catalog().by_theme()
            for _, members in sections.blocks(theme.id) for ind in members]
    return page([
        sections.overview_table(r, inds, link=True, theme_rows=True),
        paragraph("Arvio: kunnan ero vertailukuntien keskiarvoon suhteessa kuntien väliseen "
                  "keskihajontaan; alle 0,25 keskihajontaa on samaa tasoa. ▲ parempi, "
                  "▼ heikompi (mittarin suunnan mukaan); △/▽ korkeampi tai matalampi, kun "
                  "suuntaa ei arvoteta. Sija 1 = paras vertailuryhmässä (kunta ja sen "
                  "vertailukunnat). Vrt. kunnat ka. on kunnan ja sen vertailukuntien "
                  "keskiarvo (kuten esitteen vertailussa); arvio verrataan vertailukuntien "
                  "keskiarvoon ilman kuntaa. Koko maa on vain tilaston koko maan luku "
                  "(lukumäärissä koko maan yhteismäärä, osuuksissa koko maan osuus); Kuntien "
                  "ka. on kuntien lukujen keskiarvo silloin, kun koko maan lukua ei ole. "
                  "Lukumääriä (syntyneet, työpaikat ...) ei verrata erikokoisten kuntien "
                  "kesken: ne näkyvät kunnan omina lukuina koko maan yhteismäärän rinnalla, ja "
                  "syntyneitä, kuolleita, muuttoa ja pendelöintiä verrataan 1 000 asukasta "
                  "kohden tai osuuksina.", cls="uso-note")])


def composite_indices(r: Report) -> HTML:
    """The project's own composite indices, labelled as such."""
    try:
        results = [indices_mod.vitality_index(r.store), indices_mod.wellbeing_index(r.store)]
    except UsoError as exc:
        return page([note(f"Yhdistelmäindeksejä ei voitu laskea: {exc.message}", "warning")])
    rows, notes = [], []
    for res in results:
        d = res.for_kunta(r.kunta.code)
        comps = [c["label"] for c in d["components"] if c["available"]]
        if d["value"] is None:
            value = fmt.MISSING
        elif res.key == "elinvoiman_muutosindeksi":
            value = fmt.number(d["value"], 2, signed=True)
        else:
            value = fmt.number(d["value"], 1)
        rank = f"{d['rank']}/{d['n_ranked']}" if d["rank"] is not None else "–"
        rows.append({"Indeksi": d["label"], r.kunta.name_fi: value, "Sija koko maassa": rank,
                     "Osatekijät": "; ".join(comps) or "ei tietoa"})
        notes.append(f"{res.label}: {res.description}")
        notes += res.notes
    own = indices_mod.OWN_LABEL
    return page([table_html(pd.DataFrame(rows), numeric=[r.kunta.name_fi, "Sija koko maassa"]),
                 paragraph(own[:1].upper() + own[1:] + ". Sija 1 = paras.", cls="uso-note")]
                + [paragraph(n, cls="uso-method") for n in notes])


# -- themes ---------------------------------------------------------------------------------
def theme_section(r: Report, theme_id: str) -> HTML:
    """Every indicator of one theme (the theme's heading and introduction are markdown in the
    notebook)."""
    catalog_mod.catalog().theme(theme_id)  # an unknown theme fails here, by name
    parts = [freshness.section_html(r, theme_id),  # the year of its latest figure (#14)
             notes_mod.section_html(r.huomiot, theme_id)]
    if theme_id == "talous":  # the seed's finance theme starts with the crisis criteria
        from uso_lib.report.crisis import crisis_html

        parts.append(crisis_html(r))
    from uso_lib.report.theme_maps import theme_map_html

    parts.append(theme_map_html(r, theme_id))  # where it stands in its region
    return page([*parts, sections.theme_section(r, theme_id)])


# -- sources, definitions, appendix ---------------------------------------------------------
def sources_table(r: Report) -> HTML:
    """Every source of the figures shown, with years, data dates and licence."""
    rows = []
    for (source, table_id), grp in _by_source(r.appendix.frame()).items():
        dates = sorted({v for v in grp["vintage"] if v})
        rows.append({"Lähde": source_text(source, table_id),
                     "Vuodet": year_span(grp["year"]),
                     "Aineiston päiväys": ", ".join(date_text(v) for v in dates),
                     "Mittarit": ", ".join(sorted(set(grp["label"]))),
                     "Lisenssi": (f"pohjatiedot THL, {LICENCE}; indeksi Diak"
                                  if str(source).startswith("Diak") else LICENCE)})
    rows.append({"Lähde": "Tilastokeskus / Maanmittauslaitos: kuntarajat 1:4 500 000",
                 "Vuodet": "kuntajako 2023", "Aineiston päiväys": "", "Mittarit": "kartat",
                 "Lisenssi": LICENCE})
    return page([table_html(pd.DataFrame(rows), cls="uso-table uso-definitions")])


def _by_source(df: pd.DataFrame) -> dict[tuple[str, str], dict[str, list]]:
    """The appendix rows' vintage, year and label by (source, table), sorted by source (as
    ``df.groupby(["source", "table"])``, which drops a missing key, but on plain lists: a
    pandas group per source costs more than the few thousand rows)."""
    out: dict[tuple[str, str], dict[str, list]] = {}
    for src, tab, vintage, year, label in zip(*(df[c].tolist() for c in (
            "source", "table", "vintage", "year", "label")), strict=True):
        if pd.isna(src) or pd.isna(tab):
            continue
        grp = out.setdefault((src, tab), {"vintage": [], "year": [], "label": []})
        grp["vintage"].append(vintage)
        grp["year"].append(year)
        grp["label"].append(label)
    return dict(sorted(out.items()))


def definitions_table(r: Report) -> HTML:
    """What each indicator means, its unit and direction, and where it comes from, theme by
    theme (four columns, so that the table fits a printed page)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in
                   ("Mittari", "Määritelmä", "Yksikkö ja suunta", "Lähteet"))
    body = []
    for theme, inds in catalog_mod.catalog().by_theme():
        body.append(f'<tr class="uso-theme"><th colspan="4">{esc(theme.title)}</th></tr>')
        for ind in inds:
            off = ind.offline
            offline = "ei offline-aineistoa"
            if off and off.files:
                offline = ", ".join(x for x in (off.publisher, off.table, off.years) if x)
                if off.proxy:
                    offline += f" (korvaava mittari: {off.proxy})"
            live = live_source_text(ind).replace("`", "") or "–"
            cells = [ind.label, ind.description or "",
                     f"{indicator_unit(ind) or '–'}; {POLARITY_FI[ind.polarity]}",
                     f"Offline: {offline}. Verkossa: {live}."]
            body.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return page([f'<table class="uso-table uso-definitions"><thead><tr>{head}</tr></thead>'
                 f'<tbody>{"".join(body)}</tbody></table>'])


def appendix_note(r: Report, liite: str | os.PathLike | None) -> HTML:
    """Write the data appendix when ``liite`` is set, and say where it went."""
    n = len(r.appendix.frame())
    if not liite:
        return page([note(f"Raportin {n} lukua lähteineen voi tallentaa liitteeksi (CSV ja "
                          "Excel) parametrilla liite.")])
    meta = {"kunta": f"{r.kunta.name_fi} ({r.kunta.code})",
            "vertailukunnat": ", ".join(p.name_fi for p in r.peers) or "–",
            "vertailukuntien valinta": r.peer_method_fi,
            "verkosto": f"{r.network.name} {r.network.period}" if r.network else "–",
            "vuosi": str(r.year or "viimeisin"), "aineisto": r.aineisto,
            "laadittu": r.today.isoformat(),
            "lisenssi": f"Tilastokeskus, THL, MML: {LICENCE}"}
    paths = r.appendix.write(liite, meta=meta)
    return page([note(f"Liite: raportin {n} lukua lähteineen tiedostoissa "
                      + " ja ".join(p.name for p in paths) + ".")])
