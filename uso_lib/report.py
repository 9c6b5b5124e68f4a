"""What the situation-analysis notebook calls, so that the notebook only tells the story.

The notebook (``notebooks/tilanneanalyysi.ipynb``) is executed by papermill and exported to
HTML without its code, so everything a reader sees must be an *output*: this module returns
IPython display objects (HTML with real ``<h2 id=...>`` headings for the table of contents,
tables, figures with their source line as caption). Every string that comes from parameters or
data (municipality names, notes, source texts) is escaped here, in one place.

Each figure shown is also collected into the report's data appendix (:class:`Appendix`), so a
reader can check every number against its source; the appendix is written as CSV and XLSX next
to the report.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from IPython.display import HTML

from uso_lib import catalog as catalog_mod
from uso_lib import compare, fmt, regions
from uso_lib import indices as indices_mod
from uso_lib import params as params_mod
from uso_lib import peers as peers_mod
from uso_lib import text as text_mod
from uso_lib.catalog import Indicator
from uso_lib.errors import NoData, OutputError, ParamsError, UsoError
from uso_lib.params import Member, Network
from uso_lib.regions import COUNTRY, Municipality, registry, slugify
from uso_lib.store import Store, default_store

LICENCE = "CC BY 4.0"
RELATIVE_INDEX_LABEL = "indeksi, mediaanikunta = 100 (vain järjestys)"
NO_DATA_TEXT = "Ei tietoa offline-aineistossa; `uso data refresh` hakee sen."

APPENDIX_COLUMNS = ["indicator", "label", "kunta", "nimi", "year", "category", "value", "status",
                    "unit", "source", "table", "vintage", "origin"]


# -- escaping and small HTML pieces ------------------------------------------------------
def esc(value: object) -> str:
    """HTML-escape anything that came from parameters or data."""
    return html.escape("" if value is None else str(value), quote=True)


def anchor(*parts: str) -> str:
    """A stable ASCII id for a heading (``teema-vaestokehitys``, ``ind-vaesto``)."""
    return "-".join(slugify(p) for p in parts if p)


def heading(text: str, level: int = 2, ident: str | None = None) -> HTML:
    """A real ``<hN id=...>`` heading, so the exported HTML has a table of contents."""
    if level not in (1, 2, 3, 4):
        raise ValueError(f"heading level must be 1-4, not {level}")
    ident = ident or anchor(text)
    return HTML(f'<h{level} id="{esc(ident)}">{esc(text)}</h{level}>')


def paragraph(text: str, cls: str | None = None) -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<p{klass}>{_inline(text)}</p>"


def _inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>: notes name commands such as
    `uso data refresh`, and only the backticks are interpreted."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def note(text: str, kind: str = "note") -> HTML:
    """A boxed note (``kind``: note, nodata, proxy, warning) for the reader."""
    return HTML(f'<div class="uso-{esc(kind)}">{paragraph(text)}</div>')


# -- numbers ------------------------------------------------------------------------------
def value_text(value: object, unit: str | None = "", decimals: int = 0,
               status: str | None = "") -> str:
    """A figure as the report prints it: Finnish formatting; a missing figure shows the
    publisher's symbol (``..``) or a dash, never 0."""
    missing = status if status else fmt.MISSING
    return fmt.with_unit(value, _unit_suffix(unit), decimals, missing=missing)


def _unit_suffix(unit: str | None) -> str | None:
    # "henkeä" after every population figure is noise in tables; the column heading says it
    return None if unit in ("", None, "henkeä", "lkm", "indeksi") else unit


def indicator_unit(ind: Indicator) -> str:
    """The unit as a reader should understand it (relative indices say what they are)."""
    return RELATIVE_INDEX_LABEL if ind.relative_index else (ind.unit or "")


# -- source lines -------------------------------------------------------------------------
def _year_span(years: Iterable[int]) -> str:
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    if len(ys) == 1:
        return str(ys[0])
    if ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}–{ys[-1]}"
    if len(ys) <= 4:
        return ", ".join(map(str, ys))
    return f"{ys[0]}–{ys[-1]} (osa vuosista)"


def source_line(rows: pd.DataFrame, *, proxy: str | None = None) -> str:
    """The plain-text source line of the figures in ``rows`` (store rows): who published them,
    which table or indicator (``Tilastokeskus, StatFin 11re``), which years, and the date of
    the data (the release of the offline snapshot's file, or the day a live figure was
    fetched), as the publishers' CC BY 4.0 terms ask."""
    if rows is None or rows.empty:
        return ""
    have = rows[rows["value"].notna()] if rows["value"].notna().any() else rows
    parts = []
    for (source, table), grp in have.groupby(["source", "table"], sort=True):
        text = compare.source_text(source, table, None)
        span = _year_span(grp["year"])
        if span:
            text += f" ({span})"
        parts.append(text)
    line = "Lähde: " + "; ".join(parts) + "."
    fetched = have[have["origin"].isin(["live", "cached"])]
    published = have[~have["origin"].isin(["live", "cached"])]
    dates = sorted({v for v in published["vintage"] if v})
    if dates:
        line += " Aineiston päiväys " + ", ".join(_date_text(v) for v in dates[-3:]) + "."
    got = sorted({v for v in fetched["retrieved"] if v})
    if got:
        line += " Haettu " + ", ".join(_date_text(v) for v in got[-2:]) + "."
    if proxy:
        line += f" Korvaava mittari: {proxy}"
    return line


def _date_text(iso: str) -> str:
    try:
        return fmt.day(date.fromisoformat(str(iso)[:10]))
    except ValueError:
        return str(iso)


def source_html(rows: pd.DataFrame, *, proxy: str | None = None) -> str:
    text = source_line(rows, proxy=proxy)
    return f'<p class="uso-source">{esc(text)}</p>' if text else ""


# -- no-data notes ------------------------------------------------------------------------
def live_source_text(ind: Indicator) -> str:
    """Where the live figure would come from, in words."""
    live = ind.live
    if live is None or live.source == "none":
        return ""
    if live.source == "pxweb":
        text = f"Tilastokeskus, {live.database}, taulukko {live.table}"
    elif live.source == "sotkanet":
        text = f"THL Sotkanet, indikaattori {live.indicator}"
    elif live.source == "file":
        text = "käyttäjän tuoma tiedosto (`uso data import`)"
    else:
        text = "johdettu muista indikaattoreista"
    if live.source in ("pxweb", "sotkanet") and not live.confirmed:
        text += " (taulukko vahvistetaan rajapinnasta)"
    return text


def no_data_text(ind: Indicator) -> str:
    """What the reader sees instead of a chart when the store has no figure."""
    parts = [NO_DATA_TEXT if ind.live is None or ind.live.source in ("pxweb", "sotkanet")
             else "Ei tietoa offline-aineistossa."]
    src = live_source_text(ind)
    if src:
        parts.append(f"Lähde verkossa: {src}.")
    if ind.how_to_get:
        parts.append(ind.how_to_get.strip())
    elif ind.live is None or ind.live.source in ("file", "none"):
        parts.append("Tiedon voi tuoda taulukkotiedostona: `uso data import`.")
    return " ".join(parts)


def no_data_note(ind: Indicator) -> HTML:
    return note(no_data_text(ind), kind="nodata")


# -- tables -------------------------------------------------------------------------------
def table_html(df: pd.DataFrame, *, numeric: Sequence[str] = (), cls: str = "uso-table",
               highlight: int | None = None, caption: str = "") -> str:
    """An HTML table of already formatted cells (every cell escaped). ``numeric`` columns
    are right-aligned; ``highlight`` marks one row (the report's own municipality)."""
    head = "".join(f'<th{" class=num" if c in numeric else ""}>{esc(c)}</th>'
                   for c in df.columns)
    body = []
    for i, row in enumerate(df.itertuples(index=False)):
        mark = ' class="uso-self"' if highlight is not None and i == highlight else ""
        cells = "".join(f'<td{" class=num" if c in numeric else ""}>{esc(v)}</td>'
                        for c, v in zip(df.columns, row, strict=True))
        body.append(f"<tr{mark}>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="{esc(cls)}">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


# -- the data appendix --------------------------------------------------------------------
@dataclass
class Appendix:
    """Every figure the report shows, with its source: written next to the report so that
    each number can be traced (and reused in a spreadsheet)."""

    rows: list[pd.DataFrame] = field(default_factory=list)

    def add(self, rows: pd.DataFrame, ind: Indicator) -> None:
        if rows is None or rows.empty:
            return
        reg = registry()
        df = rows.copy()
        df["label"] = ind.label
        df["unit"] = indicator_unit(ind)
        df["nimi"] = [("Koko maa" if k == COUNTRY else
                       (reg.get(k).name_fi if k in reg else k)) for k in df["kunta"]]
        self.rows.append(df.reindex(columns=APPENDIX_COLUMNS))

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(columns=APPENDIX_COLUMNS)
        df = pd.concat(self.rows, ignore_index=True)
        df = df.drop_duplicates(["indicator", "kunta", "year", "category"], keep="first")
        return df.sort_values(["indicator", "category", "kunta", "year"],
                              kind="stable").reset_index(drop=True)

    def write(self, prefix: str | os.PathLike, *, meta: dict[str, str] | None = None
              ) -> list[Path]:
        """Write ``<prefix>.csv`` and ``<prefix>.xlsx`` atomically."""
        return write_appendix(self.frame(), prefix, meta=meta)


def write_appendix(df: pd.DataFrame, prefix: str | os.PathLike, *,
                   meta: dict[str, str] | None = None) -> list[Path]:
    base = Path(prefix)
    if base.suffix in (".csv", ".xlsx"):
        base = base.with_suffix("")
    csv_path, xlsx_path = base.with_name(base.name + ".csv"), base.with_name(base.name + ".xlsx")
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        _atomic(csv_path, lambda p: df.to_csv(p, index=False, encoding="utf-8"))

        def _xlsx(p: Path) -> None:
            with pd.ExcelWriter(p, engine="openpyxl") as xw:
                df.to_excel(xw, sheet_name="Luvut", index=False)
                if meta:
                    pd.DataFrame(list(meta.items()), columns=["kenttä", "arvo"]).to_excel(
                        xw, sheet_name="Tietoja", index=False)

        _atomic(xlsx_path, _xlsx)
    except OSError as exc:
        raise OutputError(f"Cannot write the data appendix {base}.csv/.xlsx: {exc}",
                          hint="Check that the folder exists and is writable.") from exc
    return [csv_path, xlsx_path]


def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- the report's parameters and shared state ---------------------------------------------
@dataclass
class Report:
    """Everything the sections of one report share: who, compared with whom, from which data.

    Built once by :func:`start` from the notebook's parameters (validated there, so a typo in
    a parameter stops the report with a clear message before anything is drawn)."""

    kunta: Municipality
    peers: list[Municipality]
    peer_method: str  # "params" | "network" | "suggested"
    suggestion: object | None  # peers.PeerSuggestion when suggested
    network: Network | None
    year: int | None
    store: Store
    aineisto: str
    appendix: Appendix = field(default_factory=Appendix)
    notes: list[str] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    _overview: pd.DataFrame | None = None

    @property
    def peer_codes(self) -> list[str]:
        return [p.code for p in self.peers]

    @property
    def network_codes(self) -> list[str]:
        return self.network.codes() if self.network else []

    @property
    def network_label(self) -> str:
        return f"{self.network.name} ka." if self.network else ""

    @property
    def member(self) -> Member | None:
        if self.network is None:
            return None
        return next((m for m in self.network.members if m.kunta.code == self.kunta.code), None)

    @property
    def peer_method_fi(self) -> str:
        return {
            "params": "annettu raportin parametreissa (verrokit)",
            "network": "sovittu verkoston parametritiedostossa",
            "suggested": "ehdotettu rakenteellisen samankaltaisuuden perusteella",
            "none": "ei vertailukuntia",
        }[self.peer_method]

    def overview(self) -> pd.DataFrame:
        """The whole-picture frame (:func:`uso_lib.compare.overview`), computed once."""
        if self._overview is None:
            self._overview = compare.overview(self.kunta.code, self.peer_codes,
                                              self.network_codes or None, year=self.year,
                                              store=self.store)
        return self._overview

    def groups(self) -> list[compare.Group]:
        return compare.groups_for(self.kunta.code, self.peer_codes, self.network_codes or None)


def start(kunta: object, verrokit: object = (), vuosi: object = None,
          aineisto: str = "snapshot", verkosto: str | os.PathLike | None = "") -> Report:
    """Validate the notebook's parameters and set up the report.

    Comparison municipalities: the ``verrokit`` parameter if given, else the member's
    ``verrokit`` in the network file, else the suggested peers (:mod:`uso_lib.peers`)."""
    m = regions.lookup(kunta)
    if aineisto not in ("snapshot", "local"):
        raise ParamsError(f"aineisto must be 'snapshot' or 'local', not {aineisto!r}.",
                          field="aineisto")
    year = _year_param(vuosi)
    network = _network_param(verkosto)
    st = default_store(aineisto)  # shared by the reports of one (warm) kernel
    given = peers_mod.parse_list(verrokit)  # type: ignore[arg-type]
    suggestion = None
    notes: list[str] = []
    if given:
        sel = peers_mod.resolve_peers(m, given, store=st)
        peer_list, method = sel.peers, "params"
    else:
        member = network.member(m.code) if network else None
        if member is not None and member.verrokit:
            peer_list, method = list(member.verrokit), "network"
        else:
            try:
                sel = peers_mod.resolve_peers(m, None, store=st)
                peer_list, method, suggestion = sel.peers, "suggested", sel.suggestion
            except NoData as exc:  # the report still stands, compared with natural groups
                peer_list, method = [], "none"
                notes.append(f"Vertailukuntia ei voitu ehdottaa: {exc.message}")
    return Report(kunta=m, peers=peer_list, peer_method=method, suggestion=suggestion,
                  network=network, year=year, store=st, aineisto=aineisto, notes=notes)


def _year_param(vuosi: object) -> int | None:
    if vuosi in (None, "", 0):
        return None
    try:
        year = int(str(vuosi).strip())
    except ValueError:
        raise ParamsError(f"vuosi must be a year such as 2021 or None, not {vuosi!r}.",
                          field="vuosi") from None
    if not 1900 <= year <= 2100:
        raise ParamsError(f"vuosi {year} is not a plausible statistics year.", field="vuosi")
    return year


def _network_param(verkosto: str | os.PathLike | None) -> Network | None:
    if verkosto in (None, ""):
        path = params_mod.default_path()
        return params_mod.load_network(path) if path else None
    return params_mod.load_network(verkosto)


# -- page style -------------------------------------------------------------------------------
# The report's own elements (the page, fonts and print rules come from the HTML template of
# uso_lib.render). Markers keep a symbol besides the colour, so they survive greyscale print.
STYLE = """
.uso-cover p { margin: 0.25rem 0; }
.uso-method, .uso-note, .uso-description { color: #5b6675; font-size: 0.9rem; }
.uso-source { color: #5b6675; font-size: 0.82rem; margin: 0.2rem 0 0.8rem; }
.uso-figure { margin: 0.5rem 0; }
.uso-figure img { display: block; max-width: 100%; }
.uso-maps { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; margin: 1rem 0; }
.uso-maps img { max-height: 26rem; width: auto; }
.uso-maps figcaption { flex-basis: 100%; }
.uso-nodata, .uso-warning, .uso-proxy { border-left: 4px solid #d95f02; background: #fdf3ea;
  padding: 0.4rem 0.8rem; margin: 0.5rem 0; }
.uso-proxy { border-left-color: #0b5a8c; background: #eef4f9; }
td.uso-nodata { border-left: none; color: #5b6675; font-style: italic; text-align: left; }
.uso-tag { color: #0b5a8c; font-size: 0.85rem; }
.uso-better { color: #1b7837; white-space: nowrap; }
.uso-worse { color: #b2182b; white-space: nowrap; }
.uso-same, .uso-neutral, .uso-nomark { color: #5b6675; white-space: nowrap; }
tr.uso-self td { font-weight: 600; background: #fff4ea; }
tr.uso-theme th { text-align: left; background: #e3eaf1; }
.uso-highlights li { margin: 0.3rem 0; }
.uso-definitions td { text-align: left; font-size: 0.85rem; }
@media print { .uso-indicator { page-break-inside: avoid; } }
"""


def style() -> HTML:
    return HTML(f"<style>{STYLE}</style>")


# -- cover ----------------------------------------------------------------------------------
def cover(r: Report) -> HTML:
    """Title, date, data, the comparison municipalities and how they were chosen, and the
    maps of the municipality, its peers and its region."""
    m = r.kunta
    out = [f"<style>{STYLE}</style>",
           f'<h1 id="tilanneanalyysi">Tilanneanalyysi: {esc(m.name_fi)}</h1>',
           '<div class="uso-cover">',
           paragraph(f"Kunta {m.name_fi} ({m.code}), {m.maakunta}, {m.seutukunta}. "
                     f"Kuntaryhmä: {m.kuntaryhmitys}. Hyvinvointialue: {m.hyvinvointialue}."),
           paragraph(f"Laadittu {fmt.day(r.today)}. {data_text(r)}")]
    if r.network is not None:
        member = r.member
        if member is not None:
            out.append(paragraph(f"{m.name_fi} on {r.network.name} -verkoston jäsen "
                                 f"(kausi {r.network.period.replace('-', '–')})."))
            if member.notes:
                out.append(paragraph(f"Huomio: {member.notes}", cls="uso-note"))
    if r.peers:
        names = ", ".join(p.name_fi for p in r.peers)
        out.append(paragraph(f"Vertailukunnat ({len(r.peers)}): {names}. "
                             f"Valinta: {r.peer_method_fi}."))
        if r.suggestion is not None:
            out.append(paragraph(r.suggestion.method, cls="uso-method"))
            out += [paragraph(n, cls="uso-note") for n in r.suggestion.notes]
    out += [paragraph(n, cls="uso-note") for n in r.notes]
    out.append("</div>")
    out.append(cover_maps(r))
    return HTML("\n".join(out))


def cover_maps(r: Report) -> str:
    """The locator (whole country) and the regional close-up, side by side."""
    from uso_lib import maps

    figs = []
    try:
        loc = maps.locator(r.kunta.code, r.peer_codes)
        figs.append((png_data_uri(loc, dpi=110, colours=64),
                     f"{r.kunta.name_fi} ja vertailukunnat Suomen kartalla"))
        reg = maps.regional(r.kunta.code, peers=r.peer_codes, level="maakunta")
        figs.append((png_data_uri(reg, dpi=100, colours=64), f"{r.kunta.name_fi} ja maakunta "
                     f"{r.kunta.maakunta}"))
    except UsoError as exc:  # no polygons installed: say so instead of a blank space
        return str(note(f"Karttaa ei voitu piirtää: {exc.message}", "warning").data)
    from uso_lib import geo

    imgs = "".join(f'<img src="{uri}" alt="{esc(alt)}"/>' for uri, alt in figs)
    return (f'<figure class="uso-maps">{imgs}<figcaption class="uso-source">'
            f"{esc(geo.ATTRIBUTION)}. Oranssi: {esc(r.kunta.name_fi)}; "
            f"{'sininen/musta reuna: vertailukunnat; ' if r.peers else ''}"
            f"vaalea alue: maakunta {esc(r.kunta.maakunta)}.</figcaption></figure>")


def data_text(r: Report) -> str:
    """Which data the report uses and how recent it is."""
    df = r.store.frame
    vint = sorted(v for v in df["vintage"].unique() if v)
    span = (f"{_date_text(vint[0])}–{_date_text(vint[-1])}" if len(vint) > 1 else
            _date_text(vint[0]) if vint else "–")
    what = ("Aineisto: uso-ohjelman mukana tuleva offline-aineisto"
            if r.aineisto == "snapshot" else
            "Aineisto: paikallinen tietovarasto (haetut ja tuodut tiedot) offline-aineiston "
            "päällä")
    live = df["origin"].isin(["live", "cached", "file"]).any()
    extra = " Mukana verkosta haettuja tai tuotuja tietoja." if live else ""
    return f"{what}; tietojen päiväykset {span}.{extra}"


# -- summary --------------------------------------------------------------------------------
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


def summary_table(r: Report) -> HTML:
    """Every indicator in one table: the whole picture at a glance."""
    ov = r.overview()
    net = r.network_label
    cols = ["Mittari", "Vuosi", r.kunta.name_fi, "Vrt. kunnat ka."]
    cols += [net] if net else []
    cols += ["Koko maa", "Sija vrt.", "Arvio vrt. kuntiin"]
    head = "".join(f'<th{"" if i == 0 else " class=num"}>{esc(c)}</th>'
                   for i, c in enumerate(cols))
    body = []
    cat = catalog_mod.catalog()
    for theme, _inds in cat.by_theme():
        sub = ov[ov["theme"] == theme.id]
        if sub.empty:
            continue
        body.append(f'<tr class="uso-theme"><th colspan="{len(cols)}">'
                    f'<a href="#{anchor("teema", theme.id)}">{esc(theme.title)}</a></th></tr>')
        for row in sub.itertuples(index=False):
            ind = cat.get(row.indicator)
            body.append(_summary_row(row, ind, bool(net)))
    return HTML(f'<table class="uso-table uso-summary"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(body)}</tbody></table>'
                + paragraph("Arvio: ero vertailukuntien keskiarvoon suhteessa kuntien väliseen "
                            "keskihajontaan (alle 0,25 keskihajontaa = samaa tasoa); suunta "
                            "mittarin mukaan (▲ parempi, ▼ heikompi; △/▽ kun suuntaa ei "
                            "arvoteta). Sija 1 = paras vertailuryhmässä.", cls="uso-note"))


def _summary_row(row, ind: Indicator, with_network: bool) -> str:
    label = f'<a href="#{anchor("ind", ind.id)}">{esc(ind.label)}</a>'
    if ind.relative_index:
        label += ' <span class="uso-tag">indeksi, mediaani = 100</span>'
    elif ind.offline and ind.offline.proxy:
        label += ' <span class="uso-tag">korvaava mittari</span>'
    if not row.has_data:
        n = 7 if with_network else 6  # the columns after the label
        return (f"<tr><td>{label}</td><td colspan=\"{n}\" class=\"uso-nodata\">ei tietoa "
                "offline-aineistossa</td></tr>")
    d = int(row.decimals) if not pd.isna(row.decimals) else 0
    unit = ind.unit

    def v(x: object) -> str:
        return esc(value_text(x, unit, d))

    rank = "–"
    if row.peer_rank_text and row.peer_n is not None and not pd.isna(row.peer_n):
        rank = f"{row.peer_rank_text}/{int(row.peer_n) + 1}"
    cells = [label, esc(row.year if not pd.isna(row.year) else "–"),
             f"<b>{esc(value_text(row.value, unit, d, row.status))}</b>", v(row.peer_mean)]
    if with_network:
        cells.append(v(row.network_mean))
    cells += [v(row.country), esc(rank), marker_html(row.assessment)]
    return "<tr>" + "".join(f'<td{"" if i == 0 else " class=num"}>{c}</td>'
                            for i, c in enumerate(cells)) + "</tr>"


def highlights(r: Report) -> HTML:
    """The Finnish highlight sentences (nostot)."""
    items = text_mod.highlights(r.kunta.code, r.peer_codes, r.network_codes or None,
                                year=r.year, store=r.store, overview_df=r.overview())
    if not items:
        return note("Nostoja ei voitu muodostaa: vertailuun tarvittavat tiedot puuttuvat.")
    return HTML('<ul class="uso-highlights">' + "".join(f"<li>{esc(t)}</li>" for t in items)
                + "</ul>")


def composite_indices(r: Report) -> HTML:
    """The project's own composite indices, labelled as such."""
    try:
        results = [indices_mod.vitality_index(r.store), indices_mod.wellbeing_index(r.store)]
    except UsoError as exc:
        return note(f"Yhdistelmäindeksejä ei voitu laskea: {exc.message}", "warning")
    rows, notes = [], []
    for res in results:
        d = res.for_kunta(r.kunta.code)
        comps = [c for c in d["components"] if c["available"]]
        value = (fmt.number(d["value"], 2, signed=True) if res.key.startswith("elinvoima")
                 else fmt.number(d["value"], 1)) if d["value"] is not None else fmt.MISSING
        rank = f"{d['rank']}/{d['n_ranked']}" if d["rank"] is not None else "–"
        rows.append({"Indeksi": d["label"], r.kunta.name_fi: value, "Sija koko maassa": rank,
                     "Osatekijät": ", ".join(c["label"] for c in comps) or "ei tietoa"})
        notes.append(f"{res.label}: {res.description}")
        notes += res.notes
    df = pd.DataFrame(rows)
    return HTML(table_html(df, numeric=[r.kunta.name_fi, "Sija koko maassa"])
                + paragraph(indices_mod.OWN_LABEL[:1].upper() + indices_mod.OWN_LABEL[1:]
                            + ". Sija 1 = paras.", cls="uso-note")
                + "".join(paragraph(n, cls="uso-method") for n in notes))


# -- theme sections -------------------------------------------------------------------------
CHART_YEARS = 20  # a time-series chart shows at most this many latest years


def theme_section(r: Report, theme_id: str) -> HTML:
    """Every indicator of one theme: heading, chart, short table, comparison sentence and
    source line, or a clear note where the data is missing."""
    cat = catalog_mod.catalog()
    theme = cat.theme(theme_id)
    inds = [i for i in cat.indicators if i.theme == theme.id]
    parts = [f'<div class="uso-theme" id="{anchor("teema", theme.id)}">']
    for ind in inds:
        parts.append(indicator_block(r, ind))
    parts.append("</div>")
    return HTML("\n".join(parts))


def indicator_block(r: Report, ind: Indicator) -> str:
    """One indicator of a theme section, as HTML. The link target is the section (the HTML
    export re-numbers heading ids)."""
    body = "\n".join(_indicator_parts(r, ind))
    return (f'<section class="uso-indicator" id="{anchor("ind", ind.id)}">\n'
            f"<h3>{esc(ind.label)}</h3>\n{body}\n</section>")


def _indicator_parts(r: Report, ind: Indicator) -> list[str]:
    out = []
    if ind.description:
        out.append(paragraph(ind.description, cls="uso-description"))
    if ind.relative_index:
        out.append(paragraph(f"Yksikkö: {RELATIVE_INDEX_LABEL}. Indeksi kertoo kunnan "
                             "sijoittumisen muihin kuntiin nähden, ei mittarin omaa arvoa.",
                             cls="uso-tag"))
    if ind.offline and ind.offline.proxy:
        out.append(str(note(f"Korvaava mittari: {ind.offline.proxy}", "proxy").data))
    tab = compare.table(ind.id, r.store)
    if tab is None and ind.categories and _has_categories(r, ind):
        return out + [category_block(r, ind)]
    if tab is None or not tab.years:
        return out + [str(no_data_note(ind).data)]
    try:
        c = compare.compare(ind, r.kunta.code, peers=r.peer_codes or None,
                            network=r.network_codes or None, year=r.year, store=r.store,
                            strict_year=False, groups=r.groups())
    except NoData as exc:
        return out + [str(note(f"{exc.message} {no_data_text(ind)}", "nodata").data)]
    own = (tab.values[r.kunta.code].dropna() if r.kunta.code in tab.values.columns
           else pd.Series(dtype=float))
    chart, shown = _chart(r, ind, tab, c, own)
    out.append(chart)
    out.append(comparison_table(r, ind, c))
    out.append(paragraph(text_mod.comparison_sentence(c, "peers" if r.peers else "country"),
                         cls="uso-sentence"))
    out += [paragraph(n, cls="uso-note") for n in c.notes if RELATIVE_INDEX_LABEL not in n]
    if ind.categories and _has_categories(r, ind):
        out.append(category_block(r, ind))
    r.appendix.add(shown, ind)
    return out


def _has_categories(r: Report, ind: Indicator) -> bool:
    rows = compare.cache_for(r.store).groups.get(ind.id)
    return rows is not None and bool((rows["category"] != "").any())


def _rows(r: Report, ind: Indicator, codes: Sequence[str], years: Iterable[int],
          category: str = "") -> pd.DataFrame:
    """The store rows behind what a chart or table shows (for source lines and the
    appendix)."""
    rows = compare.cache_for(r.store).groups.get(ind.id)
    if rows is None:
        return pd.DataFrame(columns=list(r.store.frame.columns))
    ys = {int(y) for y in years}
    return rows[(rows["category"] == category) & rows["kunta"].isin(list(codes))
                & rows["year"].isin(ys)]


def _chart(r: Report, ind: Indicator, tab: compare.Table, c: compare.Comparison,
           own: pd.Series) -> tuple[str, pd.DataFrame]:
    """The indicator's chart and the store rows it shows. Several years: the municipality
    over time against the group averages; one year or a relative index: the ranking among
    the comparison municipalities (the brochure's shape)."""
    from uso_lib import viz

    codes = [r.kunta.code, *r.peer_codes]
    years = [y for y in own.index if y <= c.year][-CHART_YEARS:]
    unit = None if ind.unit in ("henkeä", "") else ind.unit
    title = f"{ind.label}, {r.kunta.name_fi}"
    if ind.relative_index or len(years) < 3:
        rank = compare.ranking(ind, r.kunta.code, r.peer_codes, year=c.year, store=r.store)
        rows = _rows(r, ind, codes, [c.year])
        sub = (RELATIVE_INDEX_LABEL if ind.relative_index else
               f"{c.year}; {'vertailukunnat' if r.peers else 'kunta'}")
        fig = viz.ranking_bars(rank, highlight=r.kunta.code,
                               mean=None if ind.relative_index or not r.peers else True,
                               unit=unit, decimals=ind.decimals, polarity=ind.polarity,
                               title=title, subtitle=sub, source=_chart_source(rows))
        return _img(fig, f"{ind.label}: {r.kunta.name_fi} ja vertailukunnat {c.year}",
                    rows), rows
    groups = [g for g in r.groups() if g.key in ("peers", "network")]
    frame = compare.series_frame(ind, r.kunta.code, groups, store=r.store, years=years)
    country = ("Koko maa", tab.values[COUNTRY].reindex(years)) if COUNTRY in tab.values else None
    rows = _rows(r, ind, codes + ([COUNTRY] if country else []), years)
    label = {"peers": "Vrt. kunnat ka.", "network": r.network_label or "Verkosto ka."}
    frame = frame.rename(columns={g.label: label[g.key] for g in groups})
    counts = ind.kind == "count"
    if counts:
        # levels of a count differ by orders of magnitude between a municipality and the
        # country: compare the development as an index instead, where every value is > 0
        if country:
            frame["Koko maa"] = country[1]
        positive = bool((frame.dropna(how="all", axis=1) > 0).all().all())
        if positive and frame.iloc[0].notna().all():
            fig = viz.indexed_series(frame, years[0], highlight=r.kunta.name_fi,
                                     title=title, source=_chart_source(rows))
            return _img(fig, f"{ind.label}: kehitys indeksinä {years[0]} = 100", rows), rows
        frame = frame[[r.kunta.name_fi]]  # levels of the municipality alone
        rows = rows[rows["kunta"] == r.kunta.code]
    elif country:
        frame["Koko maa"] = country[1]
    fig = viz.time_series(frame, highlight=r.kunta.name_fi, unit=unit, decimals=ind.decimals,
                          title=title, subtitle=indicator_unit(ind) or None,
                          source=_chart_source(rows))
    return _img(fig, f"{ind.label}: {r.kunta.name_fi} {years[0]}–{years[-1]}", rows), rows


def _chart_source(rows: pd.DataFrame) -> str:
    """The source printed inside a chart (the HTML caption below repeats it in full)."""
    parts = []
    for (source, table_id), grp in rows.groupby(["source", "table"], sort=True):
        parts.append(compare.source_text(source, table_id, None) + f" ({_year_span(grp['year'])})")
    return "; ".join(parts) or "uso-aineisto"


def _img(fig, alt: str, rows: pd.DataFrame) -> str:
    """The chart with its source line as the caption (the PNG prints a short one too)."""
    return (f'<figure class="uso-figure"><img src="{png_data_uri(fig)}" alt="{esc(alt)}"/>'
            f'<figcaption class="uso-source">{esc(source_line(rows))}</figcaption></figure>')


PNG_DPI = 90
PNG_COLOURS = 48


def png_data_uri(fig, *, dpi: int = PNG_DPI, colours: int = PNG_COLOURS) -> str:
    """The figure as a compact PNG data URI (and the figure closed).

    A report embeds some fifty charts and must stay a small self-contained file (< 3 MB) that
    renders in seconds, so the figure is rasterised once at a modest resolution and reduced to
    a palette of ``colours``: the house style uses a handful of flat colours, so the palette
    image looks the same at about a quarter of the size, and encoding the small palette image
    is cheaper than encoding the full-colour one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    from uso_lib import viz

    try:
        fig.set_dpi(dpi)
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        width, height = canvas.get_width_height()
        img = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        img = Image.alpha_composite(Image.new("RGBA", img.size, "white"), img).convert("RGB")
        pal = img.quantize(colors=colours, method=Image.Quantize.FASTOCTREE)
    finally:
        viz.close(fig)
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def comparison_table(r: Report, ind: Indicator, c: compare.Comparison) -> str:
    """The municipality and its groups in the comparison year (and the change over the
    period)."""
    d, unit = ind.decimals, ind.unit
    ch = c.change
    change_col = f"Muutos {ch.start}–{ch.end}" if ch else None
    pp = unit == "%"

    def change_text(absolute: float | None, pct: float | None) -> str:
        if pp:
            return fmt.with_unit(absolute, "%-yks.", d, signed=True)
        return fmt.change_pct(pct) if pct is not None else fmt.MISSING

    rows = []
    own = {"": r.kunta.name_fi, f"Arvo {c.year}": value_text(c.value, unit, d, c.status)}
    if change_col:
        own[change_col] = change_text(ch.absolute, ch.pct)
    rows.append(own)
    if ind.relative_index:
        for key, title in (("peers", "Sija vertailukunnissa"), ("country", "Sija koko maassa")):
            g = c.groups.get(key)
            if g and g.rank is not None:
                rows.append({"": title, f"Arvo {c.year}": f"{g.rank_text}/{g.n_ranked}"})
        df = pd.DataFrame(rows).fillna("")
        return table_html(df, numeric=[col for col in df.columns if col], highlight=0)
    names = {"peers": "Vertailukunnat ka.", "network": r.network_label or "Verkosto ka.",
             "maakunta": None, "kuntaryhmitys": None, "country": None}
    for key, g in c.groups.items():
        if key == "country":
            continue
        label = (names.get(key) or f"{g.label} ka.") + f" ({g.n_with_data}/{g.n_members})"
        row = {"": label, f"Arvo {c.year}": value_text(g.mean, unit, d)}
        if change_col:
            gc = ch.groups.get(key)
            row[change_col] = change_text(gc.mean_absolute, gc.mean_pct) if gc else fmt.MISSING
        rows.append(row)
    country = c.country_value
    row = {"": "Koko maa" if country is not None else "Kuntien ka. (koko maa)",
           f"Arvo {c.year}": value_text(country if country is not None
                                        else c.groups["country"].mean, unit, d)}
    if change_col:
        row[change_col] = ""
    rows.append(row)
    df = pd.DataFrame(rows).fillna("")
    peer = c.groups.get("peers")
    if peer and peer.rank is not None:
        df["Sija"] = [f"{peer.rank_text}/{peer.n_ranked}"] + [""] * (len(df) - 1)
    return table_html(df, numeric=[col for col in df.columns if col], highlight=0)


def category_block(r: Report, ind: Indicator) -> str:
    """A breakdown (age groups, industries, sectors): the municipality's latest figures by
    category, with the country's where the store has it."""
    rows = compare.cache_for(r.store).groups[ind.id]
    rows = rows[(rows["category"] != "") & rows["kunta"].isin([r.kunta.code, COUNTRY])]
    have = rows[rows["value"].notna() & (rows["kunta"] == r.kunta.code)]
    if have.empty:
        return str(no_data_note(ind).data)
    year = int(have["year"].max()) if r.year is None else int(
        max([y for y in have["year"] if y <= r.year], default=have["year"].max()))
    shown = rows[rows["year"] == year]
    cats = ind.categories or {}
    order = list(cats) + sorted(set(shown["category"]) - set(cats))
    own = shown[shown["kunta"] == r.kunta.code].set_index("category")["value"]
    ctry = shown[shown["kunta"] == COUNTRY].set_index("category")["value"]
    table = pd.DataFrame({
        "Luokka": [cats.get(k, k) for k in order if k in own.index],
        f"{r.kunta.name_fi} {year}": [value_text(own[k], ind.unit, ind.decimals)
                                      for k in order if k in own.index],
    })
    if not ctry.empty:
        table[f"Koko maa {year}"] = [value_text(ctry.get(k), ind.unit, ind.decimals)
                                     for k in order if k in own.index]
    r.appendix.add(shown, ind)
    return (table_html(table, numeric=list(table.columns[1:]),
                       caption=f"{ind.label} luokittain") + source_html(shown))


# -- sources, definitions, appendix ---------------------------------------------------------
POLARITY_FI = {"higher_better": "suurempi on parempi", "lower_better": "pienempi on parempi",
               "neutral": "ei arvotusta"}


def sources_table(r: Report) -> HTML:
    """Every source of the figures shown, with years, data dates and licence."""
    df = r.appendix.frame()
    if df.empty:
        return note("Raportissa ei ole lukuja.")
    rows = []
    for (source, table_id), grp in df.groupby(["source", "table"], sort=True):
        vint = sorted({v for v in grp["vintage"] if v})
        rows.append({"Lähde": compare.source_text(source, table_id, None),
                     "Vuodet": _year_span(grp["year"]),
                     "Päiväys": ", ".join(_date_text(v) for v in vint),
                     "Mittarit": ", ".join(sorted(set(grp["label"]))),
                     "Lisenssi": LICENCE})
    geo_row = {"Lähde": "Tilastokeskus / Maanmittauslaitos: kuntarajat 1:4 500 000",
               "Vuodet": "2023", "Päiväys": "", "Mittarit": "kartat", "Lisenssi": LICENCE}
    return HTML(table_html(pd.DataFrame(rows + [geo_row])))


def definitions_table(r: Report) -> HTML:
    """What each indicator means, its unit and direction, and where it comes from."""
    rows = []
    for theme, inds in catalog_mod.catalog().by_theme():
        for ind in inds:
            off = ind.offline
            src = ""
            if off and off.files:
                src = ", ".join(x for x in (off.publisher, off.table, off.years) if x)
            live = live_source_text(ind)
            rows.append({"Teema": theme.title, "Mittari": ind.label,
                         "Määritelmä": ind.description or "",
                         "Yksikkö": indicator_unit(ind),
                         "Suunta": POLARITY_FI[ind.polarity],
                         "Offline-aineisto": src or "ei offline-aineistoa",
                         "Verkkolähde": live.replace("`", "") or "–"})
    return HTML(table_html(pd.DataFrame(rows), cls="uso-table uso-definitions"))


def appendix_note(r: Report, liite: str | os.PathLike | None) -> HTML | None:
    """Write the data appendix when ``liite`` is set and say where it went."""
    if not liite:
        n = len(r.appendix.frame())
        return note(f"Raportin {n} lukua lähteineen voidaan tallentaa liitteeksi "
                    "(CSV ja Excel) parametrilla liite.")
    meta = {"kunta": f"{r.kunta.name_fi} ({r.kunta.code})",
            "vertailukunnat": ", ".join(p.name_fi for p in r.peers),
            "vertailukuntien valinta": r.peer_method_fi,
            "laadittu": r.today.isoformat(), "aineisto": r.aineisto,
            "lisenssi": f"Tilastokeskus, THL, MML: {LICENCE}"}
    paths = r.appendix.write(liite, meta=meta)
    n = len(r.appendix.frame())
    return note(f"Liite: raportin {n} lukua lähteineen tiedostoissa "
                + " ja ".join(p.name for p in paths) + ".")
