"""The HTML pieces a report is made of: escaped text, notes, tables, figures, source lines.

The report notebook is exported without its code, so everything a reader sees is an output
built here. Every string that comes from parameters or data (municipality names, notes, source
texts, catalogue wording) passes through :func:`esc` in this module, in one place, and never
reaches the page raw.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import pandas as pd
from IPython.display import HTML

from uso_lib import fmt
from uso_lib.catalog import Indicator
from uso_lib.provenance import source_line as source_line_of
from uso_lib.provenance import sources_with_years
from uso_lib.regions import slugify
from uso_lib.text import RELATIVE_INDEX_LABEL

LICENCE = "CC BY 4.0"
NO_DATA_TEXT = "Ei tietoa offline-aineistossa; `uso data refresh` hakee sen."

# The report's own elements (the page, fonts and print rules come from the HTML template of
# uso_lib.factory.render).
# Markers keep a symbol besides the colour, so they survive greyscale print.
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
.uso-definitions { table-layout: fixed; width: 100%; }
.uso-definitions td, .uso-definitions th { text-align: left; font-size: 0.85rem;
  overflow-wrap: anywhere; }
@media print { .uso-indicator { page-break-inside: avoid; } }
"""


# -- text -----------------------------------------------------------------------------------
def esc(value: object) -> str:
    """HTML-escape anything that came from parameters or data."""
    return html.escape("" if value is None else str(value), quote=True)


def anchor(*parts: str) -> str:
    """A stable ASCII id for a link target (``teema-vaestokehitys``, ``ind-vaesto``)."""
    return "-".join(slugify(p) for p in parts if p)


def inline(text: str) -> str:
    """Escape, then turn `code` spans into <code>: notes name commands such as
    `uso data refresh`, and only the backticks are interpreted."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(text))


def paragraph(text: str, cls: str | None = None) -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<p{klass}>{inline(text)}</p>"


def note(text: str, kind: str = "note") -> str:
    """A boxed note for the reader (``kind``: note, nodata, proxy, warning)."""
    return f'<div class="uso-{esc(kind)}">{paragraph(text)}</div>'


def bullets(items: Iterable[str], cls: str = "") -> str:
    klass = f' class="{esc(cls)}"' if cls else ""
    return f"<ul{klass}>" + "".join(f"<li>{inline(t)}</li>" for t in items) + "</ul>"


def page(parts: Iterable[str]) -> HTML:
    """Join HTML pieces into one notebook output."""
    return HTML("\n".join(p for p in parts if p))


def style() -> str:
    return f"<style>{STYLE}</style>"


# -- numbers --------------------------------------------------------------------------------
def value_text(value: object, unit: str | None = "", decimals: int = 0,
               status: str | None = "") -> str:
    """A figure as the report prints it: Finnish formatting; a missing figure shows the
    publisher's symbol (``..``) or a dash, never 0."""
    missing = status if status else fmt.MISSING
    return fmt.with_unit(value, _unit_suffix(unit), decimals, missing=missing)


def _unit_suffix(unit: str | None) -> str | None:
    # a count's unit ("henkeä", "työpaikkaa") after every figure is noise in tables; the
    # heading says what is counted
    return None if unit in ("", None, "henkeä", "lkm", "indeksi", "työpaikkaa", "yritystä",
                            "pistettä") else unit


def chart_unit(ind: Indicator) -> str | None:
    """The unit for chart labels (None for plain counts)."""
    return _unit_suffix(ind.unit)


def indicator_unit(ind: Indicator) -> str:
    """The unit as a reader should understand it (relative indices say what they are)."""
    return RELATIVE_INDEX_LABEL if ind.relative_index else (ind.unit or "")


def date_text(iso: str) -> str:
    try:
        return fmt.day(date.fromisoformat(str(iso)[:10]))
    except ValueError:
        return str(iso)


# -- source lines ---------------------------------------------------------------------------
def source_line(rows: pd.DataFrame) -> str:
    """The plain-text source line of the figures in ``rows`` (store rows): who published them,
    which table or indicator (``Tilastokeskus, StatFin 11re``), which years, and the date of
    the data (the release of the offline snapshot's file, or the day a live figure was
    fetched), as the publishers' CC BY 4.0 terms ask."""
    if rows is None or rows.empty:
        return ""
    # the rows with a value (all rows when none has one), as plain lists: a chart's few dozen
    # rows are read faster so than through pandas
    keep = rows["value"].notna().tolist()
    if not any(keep):
        keep = [True] * len(keep)
    source, table, year, origin, vintage, retrieved = (
        [v for v, k in zip(rows[col].tolist(), keep, strict=True) if k]
        for col in ("source", "table", "year", "origin", "vintage", "retrieved"))
    line = source_line_of(sources_with_years(source, table, year)) + "."
    fetched = [o in ("live", "cached") for o in origin]
    dates = sorted({v for v, f in zip(vintage, fetched, strict=True) if v and not f})
    if dates:
        line += " Aineiston päiväys " + ", ".join(date_text(v) for v in dates[-3:]) + "."
    got = sorted({v for v, f in zip(retrieved, fetched, strict=True) if v and f})
    if got:
        line += " Haettu " + ", ".join(date_text(v) for v in got[-2:]) + "."
    return line


def chart_source(rows: pd.DataFrame) -> str:
    """The short source printed inside a chart (the HTML caption repeats it in full)."""
    parts = sources_with_years(rows["source"].tolist(), rows["table"].tolist(),
                               rows["year"].tolist())
    return "; ".join(parts) or "uso-aineisto"


def source_html(rows: pd.DataFrame) -> str:
    text = source_line(rows)
    return f'<p class="uso-source">{esc(text)}</p>' if text else ""


# -- no data --------------------------------------------------------------------------------
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
        text = "käyttäjän tuoma taulukkotiedosto (`uso data import`)"
    else:
        text = "johdettu muista indikaattoreista"
    if live.source in ("pxweb", "sotkanet") and not live.confirmed:
        text += " (taulukko vahvistetaan rajapinnasta)"
    return text


_COMMAND = re.compile(r"(?<![`\w])uso data (?:refresh|import|template|get)"
                      r"(?: [A-ZÄÖ]{3,}| --[a-z-]+(?: [a-z0-9_]+)?)*")
_LEAD = re.compile(r"^Ei offline-aineistossa\s*(?:\(([^)]*)\))?\s*[.;]?\s*")


def no_data_text(ind: Indicator) -> str:
    """What the reader sees instead of a chart when the store has no figure: that it is
    missing, and how to get it."""
    fetchable = ind.live is not None and ind.live.source in ("pxweb", "sotkanet")
    parts = [NO_DATA_TEXT if fetchable else "Ei tietoa offline-aineistossa."]
    src = live_source_text(ind)
    if src:
        parts.append(f"Lähde verkossa: {src}.")
    if ind.how_to_get:  # the catalogue's own "Ei offline-aineistossa" would repeat the lead
        text = _LEAD.sub(lambda m: f"Offline-aineistossa {m.group(1)}. " if m.group(1)
                         else "", ind.how_to_get.strip(), count=1)
        parts.append(_COMMAND.sub(r"`\g<0>`", text))  # commands read as code
    elif not fetchable:
        parts.append("Tiedon voi tuoda taulukkotiedostona: `uso data import`.")
    return " ".join(parts)


def no_data_note(ind: Indicator) -> str:
    return note(no_data_text(ind), kind="nodata")


# -- tables ---------------------------------------------------------------------------------
def table_html(df: pd.DataFrame, *, numeric: Sequence[str] = (), cls: str = "uso-table",
               highlight: int | None = None, caption: str = "") -> str:
    """An HTML table of already formatted cells (every cell escaped). ``numeric`` columns
    are right-aligned; ``highlight`` marks one row (the report's own municipality)."""
    columns = [df.iloc[:, i].tolist() for i in range(df.shape[1])]  # faster than itertuples
    rows = zip(*columns, strict=True) if columns else [()] * len(df)
    return _table(list(df.columns), rows, numeric=numeric, cls=cls, highlight=highlight,
                  caption=caption)


def records_html(records: Sequence[Mapping[str, object]], *,
                 columns: Sequence[str] | None = None, numeric: Sequence[str] = (),
                 cls: str = "uso-table", highlight: int | None = None,
                 caption: str = "") -> str:
    """:func:`table_html` of records (dicts of formatted cells) without building a DataFrame
    for a few rows: the columns are ``columns`` or else the keys in order of first
    appearance, and a cell a record lacks is empty (as ``pd.DataFrame(records).fillna("")``
    would show it)."""
    columns = list(columns if columns is not None else
                   dict.fromkeys(k for rec in records for k in rec))
    rows = ([rec.get(c, "") for c in columns] for rec in records)
    return _table(columns, rows, numeric=numeric, cls=cls, highlight=highlight,
                  caption=caption)


def _table(columns: list, rows: Iterable[Sequence[object]], *, numeric: Sequence[str],
           cls: str, highlight: int | None, caption: str) -> str:
    num = [c in numeric for c in columns]
    head = "".join(f'<th{" class=num" if n else ""}>{esc(c)}</th>'
                   for c, n in zip(columns, num, strict=True))
    body = []
    for i, row in enumerate(rows):
        mark = ' class="uso-self"' if highlight is not None and i == highlight else ""
        cells = "".join(f'<td{" class=num" if n else ""}>{esc(v)}</td>'
                        for n, v in zip(num, row, strict=True))
        body.append(f"<tr{mark}>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'<table class="{esc(cls)}">{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


# -- figures --------------------------------------------------------------------------------
PNG_DPI = 90
PNG_COLOURS = 48
# maps: the whole country needs more pixels for 309 small polygons, a regional close-up fewer;
# the class colours and their anti-aliased edges need more palette entries than a chart
MAP_DPI = 110
CLOSE_UP_DPI = 100
MAP_COLOURS = 64


def png_data_uri(fig, *, dpi: int = PNG_DPI, colours: int = PNG_COLOURS,
                 caption_below: bool = False, source: str | None = None) -> str:
    """The figure as a compact PNG data URI (and the figure closed), through the one PNG
    pipeline (:func:`uso_lib.viz.export.to_png_bytes`).

    A report embeds some fifty charts and must stay a small self-contained file (< 3 MB) that
    renders in seconds, so the figure is rasterised once at a modest resolution and reduced to
    a palette of ``colours``.

    ``caption_below``: the page prints the chart's source as the caption under the image, so
    the house chart's own source line is left out of the pixels (it would repeat the caption,
    and drawing its glyphs costs time for nothing); the PNG keeps it as metadata ("Source"),
    so a chart saved from the page still says where its figures come from. ``source`` is that
    metadata when given (a map's, whose credit is in the page's caption); a house chart's own
    source line is the default, and is left out of the pixels either way when the caption is
    below."""
    from uso_lib.viz.export import to_data_uri

    return to_data_uri(fig, dpi=dpi, colours=colours, caption_below=caption_below,
                       source=source)


def figure_html(fig, *, alt: str, rows: pd.DataFrame | None = None, caption: str = "",
                dpi: int = PNG_DPI, colours: int = PNG_COLOURS, source: str | None = None
                ) -> str:
    """A chart as ``<figure>`` with its source line (from ``rows``) or ``caption`` below; the
    caption replaces the source line inside the image."""
    cap = caption or (source_line(rows) if rows is not None else "")
    fc = f'<figcaption class="uso-source">{esc(cap)}</figcaption>' if cap else ""
    uri = png_data_uri(fig, dpi=dpi, colours=colours, caption_below=bool(cap), source=source)
    return f'<figure class="uso-figure"><img src="{uri}" alt="{esc(alt)}"/>{fc}</figure>'


def map_html(fig, *, alt: str, rows: pd.DataFrame | None = None, dpi: int = MAP_DPI,
             colours: int = MAP_COLOURS) -> str:
    """A map drawn with ``credit=False`` (:mod:`uso_lib.viz.maps`) as ``<figure>``: the caption
    names the figures' source (from ``rows``) and the boundaries' credit, which the image
    leaves out so that the page does not print them twice (the PNG keeps them as its
    "Source" metadata, as a house chart's PNG does)."""
    from uso_lib.geo import ATTRIBUTION

    source = source_line(rows) if rows is not None else ""
    caption = " ".join(t for t in (source, f"{ATTRIBUTION}.") if t)
    return figure_html(fig, alt=alt, caption=caption, dpi=dpi, colours=colours,
                       source=caption)
