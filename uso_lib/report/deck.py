"""What a slide deck shows, read from a finished report page.

The deck (:mod:`uso_lib.factory.slides`) and the PDF are made from the exported HTML, not from
a second run of the notebook: the page already holds every chart as a PNG, its source line as
the ``<figcaption>``, the report's own sentences and tables. Reading it back keeps the notebook
unchanged, lets ``uso report --format pdf,pptx`` add a deck to a report that is up to date
without executing anything, and guarantees that the slides show the same PNGs and words as the
report. The page's structure is the contract: ``h1`` title, ``h2`` themes, ``h3`` indicator
blocks (``section.uso-indicator``), ``figure`` with ``img`` and ``figcaption``,
``p.uso-sentence`` (the comparison sentence), ``ul.uso-highlights``, ``table.uso-summary``
(theme rows ``tr.uso-theme``) and the sources table under "Lähteet ja lisenssit". The
network overview (``notebooks/verkosto.ipynb``) is read with the same rules.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

SOURCES_HEADING = "Lähteet ja lisenssit"
SKIP_HEADINGS = ("Määritelmät",)  # the definitions are reading matter, not slides
MAP_CREDIT = "Aluejaot"  # every map's caption names the boundaries (uso_lib.geo.ATTRIBUTION)


@dataclass
class Picture:
    data: bytes  # PNG
    alt: str = ""


@dataclass
class Figure:
    """One chart or map: the slide shows it with its title, takeaway and source line."""

    title: str
    theme: str
    pictures: list[Picture]
    source: str = ""
    takeaway: str = ""
    is_map: bool = False


@dataclass
class Table:
    """A table of formatted cells; ``groups`` splits the rows (a summary table's themes)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    groups: list[tuple[str, list[list[str]]]] = field(default_factory=list)
    source: str = ""


@dataclass
class Deck:
    title: str
    subtitle_lines: list[str] = field(default_factory=list)
    cover: list[Picture] = field(default_factory=list)
    date: str = ""
    highlights: list[str] = field(default_factory=list)
    summary: Table | None = None
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def maps(self) -> list[Figure]:
        return [f for f in self.figures if f.is_map]

    @property
    def charts(self) -> list[Figure]:
        return [f for f in self.figures if not f.is_map]


def _text(el: etree._Element) -> str:
    """The element's visible text on one line (without the headings' ¶ anchors, scripts
    and style sheets)."""
    skip = {id(n) for n in el.iter("script", "style")}
    skip |= {id(a) for a in el.iter("a") if "anchor-link" in (a.get("class") or "")}
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if id(node) not in skip:
            if node.text and isinstance(node.tag, str):
                parts.append(node.text)
            for child in node:
                walk(child)
        if node is not el and node.tail:
            parts.append(node.tail)

    walk(el)
    # only the markup's white space: a no-break space (5\u00a0569, 11,1\u00a0%) stays
    return re.sub(r"[ \t\r\n\f]+", " ", "".join(parts)).strip()


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _png(src: str) -> bytes | None:
    m = re.match(r"data:image/png;base64,(.*)", src or "", re.S)
    return base64.b64decode(m.group(1)) if m else None


def _pictures(fig: etree._Element) -> list[Picture]:
    out = []
    for img in fig.iter("img"):
        data = _png(img.get("src", ""))
        if data:
            out.append(Picture(data, img.get("alt", "")))
    return out


def _table(el: etree._Element, title: str) -> Table:
    header = [_text(th) for th in el.xpath("./thead/tr/th")]
    rows, groups = [], []
    for tr in el.xpath("./tbody/tr"):
        if "uso-theme" in _classes(tr):
            groups.append((_text(tr), []))
            continue
        # a row shorter than the header ends in a cell across the rest ("ei tietoa")
        row = [_text(c) for c in tr.xpath("./td|./th")]
        rows.append(row)
        if groups:
            groups[-1][1].append(row)
    return Table(title=title, header=header, rows=rows, groups=groups)


def _group_line(section: etree._Element) -> str:
    """A block of several indicators has no sentence of its own: its table's first row with
    a value, in words (``Alle 15-vuotiaiden osuus: Juva 12,3 %, vertailukunnat ka. 14,1 %
    (2021), ▼ heikompi``)."""
    table = next((t for t in section.iter("table") if "uso-summary" in _classes(t)), None)
    if table is None:
        return ""
    tab = _table(table, "")
    head = tab.header
    for row in tab.rows:
        if len(row) == len(head) and len(head) >= 4 and row[2] and row[2] != "–":
            cells = dict(zip(head, row, strict=True))
            text = f"{row[0]}: {head[2]} {row[2]}"
            if cells.get("Vrt. kunnat ka.", "–") != "–":
                text += f", vertailukunnat ka. {cells['Vrt. kunnat ka.']}"
            text += f" ({row[1]})"
            if cells.get("Arvio", "–") not in ("–", ""):
                text += f", {cells['Arvio']}"
            return text + "."
    return ""


_DATE = re.compile(r"Laadittu (\d{1,2}\.\d{1,2}\.\d{4})")


def parse(page: bytes | str) -> Deck:
    """The deck's content of a report page (or the network overview page)."""
    doc = lxml_html.fromstring(page if isinstance(page, bytes) else page.encode("utf-8"))
    h1 = next(doc.iter("h1"), None)
    title_el = doc.find(".//title")
    deck = Deck(title=_text(h1) if h1 is not None else
                (title_el.text_content().strip() if title_el is not None else "Raportti"))
    theme = ""  # the current h2
    heading = ""  # the current h2 or h3
    seen_h2 = False
    body = doc.find(".//main") if doc.find(".//main") is not None else doc
    for el in body.iter(etree.Element):
        tag = el.tag
        if tag == "h2":
            seen_h2, theme = True, _text(el)
            heading = theme
        elif tag == "h3":
            heading = _text(el)
        elif tag == "p" and not seen_h2 and el.getparent() is not None \
                and "uso-cover" in _classes(el.getparent()):
            deck.subtitle_lines.append(_text(el))
        elif tag == "p" and not seen_h2 and h1 is not None and not deck.subtitle_lines \
                and el.getprevious() is h1:
            deck.subtitle_lines.append(_text(el))  # the network page: the line under h1
        elif tag == "ul" and "uso-highlights" in _classes(el):
            deck.highlights = [_text(li) for li in el.iter("li")]
        elif tag == "figure":
            pics = _pictures(el)
            if not pics:
                continue
            cap = el.find("figcaption")
            source = _text(cap) if cap is not None else ""
            if not seen_h2 and not deck.cover:
                deck.cover = pics
                continue
            if theme in SKIP_HEADINGS:
                continue
            section = next((a for a in el.iterancestors("section")
                            if "uso-indicator" in _classes(a)), None)
            takeaway = ""
            if section is not None:
                sentence = next((p for p in section.iter("p")
                                 if "uso-sentence" in _classes(p)), None)
                takeaway = _text(sentence) if sentence is not None else _group_line(section)
            is_map = MAP_CREDIT in source or "uso-maps" in _classes(el)
            title = heading or deck.title
            if is_map:  # a theme's map: named by its theme, its measure said in words
                title = theme or title
                takeaway = takeaway or pics[0].alt
            deck.figures.append(Figure(title=title, theme=theme, pictures=pics,
                                       source=source, takeaway=takeaway, is_map=is_map))
        elif tag == "table":
            cls = _classes(el)
            if theme == SOURCES_HEADING:
                tab = _table(el, theme)
                col = tab.header.index("Lähde") if "Lähde" in tab.header else 0
                deck.sources += [r[col] for r in tab.rows if len(r) > col and r[col]]
            elif "uso-summary" in cls and deck.summary is None and \
                    el.xpath(".//tr[contains(@class, 'uso-theme')]"):
                deck.summary = _table(el, heading)
            elif theme in SKIP_HEADINGS or "uso-definitions" in cls or "uso-summary" in cls:
                continue
            elif not any("uso-indicator" in _classes(a) for a in el.iterancestors("section")):
                tab = _table(el, heading or deck.title)
                after = [el.getnext()]
                after.append(after[0].getnext() if after[0] is not None else None)
                src = next((n for n in after if n is not None and n.tag == "p"
                            and "uso-source" in _classes(n)), None)
                tab.source = _text(src) if src is not None else ""
                deck.tables.append(tab)
    m = _DATE.search(" ".join(deck.subtitle_lines))
    deck.date = m.group(1) if m else ""
    if not deck.cover and deck.maps:  # the network page opens with its members' map
        deck.cover = deck.maps[0].pictures[:1]
    if not deck.sources:  # no sources table: the source lines of what the deck shows
        lines = [f.source for f in deck.figures] + [t.source for t in deck.tables]
        for line in filter(None, lines):
            first = re.split(r"\. (?:Aineiston päiväys|Haettu|Aluejaot)", line)[0]
            deck.sources += re.split(r"; (?=[A-ZÄÖ])", first.removeprefix("Lähde: "))
        if deck.maps:
            deck.sources.append("Tilastokeskus / Maanmittauslaitos: kuntarajat")
    return deck
