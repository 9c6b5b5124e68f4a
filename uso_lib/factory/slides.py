"""The report as an editable slide deck (PPTX, python-pptx), for the municipality's workshop.

The content is the report's own (:func:`uso_lib.report.deck.parse` reads it from the exported
page): a cover (municipality, network, date, the locator map), the highlights, the summary
table as real PowerPoint tables (one slide per theme, cells editable), one slide per indicator
block with the same PNG as the report, the block's comparison sentence and its source line as
text, the maps, and a closing sources slide. Text stays text (titles, takeaways and source
lines are text boxes and placeholders a consultant can edit); only the charts are pictures.
Slides are 16:9 and in Finnish (the text runs are marked Finnish for the spelling checker).

A consultancy's own ``.pptx`` may be given as the template: its slide size, masters and
layouts are used (the cover on its title layout, the rest on its "title only" layout), and its
own slides are dropped.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence

from PIL import Image
from pptx import Presentation
from pptx.enum.lang import MSO_LANGUAGE_ID
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from uso_lib.errors import UsoError
from uso_lib.report.deck import Deck, Figure, Picture, parse

WIDE = (Inches(13.333), Inches(7.5))  # 16:9
MARGIN = Inches(0.5)
INK = (0x1D, 0x27, 0x33)
MUTED = (0x5B, 0x66, 0x75)
ROWS_PER_SLIDE = 11
MAX_SOURCE = 360  # characters of a source line that fit the slide's foot
SOURCES_PER_COLUMN = 18
LICENCE_LINE = ("Tilastokeskuksen, THL:n (Sotkanet), Kelan ja Maanmittauslaitoksen aineistot: "
                "CC BY 4.0. Diak: Huono-osaisuus Suomessa -indeksit (THL:n tiedoista).")


class SlideError(UsoError):
    """The deck could not be made (a broken template)."""


def html_to_pptx(page: bytes | str, *, template: bytes | None = None,
                 network: str = "") -> bytes:
    """The deck of one report page (or the network overview page) as PPTX bytes."""
    return build(parse(page), template=template, network=network)


def build(deck: Deck, *, template: bytes | None = None, network: str = "") -> bytes:
    b = _Builder(template)
    b.cover(deck, network)
    if deck.highlights:
        b.bullets("Nostot", deck.highlights)
    if deck.summary is not None:
        for theme, rows in deck.summary.groups or [("", deck.summary.rows)]:
            title = f"Kokonaiskuva: {theme}" if theme else "Kokonaiskuva"
            b.table(title, deck.summary.header, rows)
    for tab in deck.tables:
        b.table(tab.title, tab.header, tab.rows, source=tab.source)
    for fig in deck.charts:
        b.figure(fig)
    for fig in deck.maps:
        b.figure(fig)
    b.sources(deck.sources)
    return b.save()


# -- the builder ------------------------------------------------------------------------------
class _Builder:
    def __init__(self, template: bytes | None) -> None:
        try:
            self.prs = Presentation(io.BytesIO(template)) if template else Presentation()
        except Exception as exc:  # python-pptx raises several types for a broken file
            raise SlideError(f"The slide template is not a readable .pptx file: {exc}") from None
        self.templated = template is not None
        if self.templated:
            self._drop_template_slides()
        else:
            self.prs.slide_width, self.prs.slide_height = WIDE
        self.width, self.height = self.prs.slide_width, self.prs.slide_height
        self.title_layout = self._layout(title=True)
        self.content_layout = self._layout(title=False)

    # layouts: the template's own, by what their placeholders are
    def _layout(self, *, title: bool):
        layouts = list(self.prs.slide_layouts)
        if not layouts:
            raise SlideError("The slide template has no slide layouts.")

        def kinds(layout) -> list:
            return [ph.placeholder_format.type for ph in layout.placeholders]

        if title:
            for lay in layouts:
                if PP_PLACEHOLDER.CENTER_TITLE in kinds(lay):
                    return lay
            return layouts[0]
        extra = (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER)
        with_title = [lay for lay in layouts if PP_PLACEHOLDER.TITLE in kinds(lay)]
        if not with_title:
            return layouts[-1]
        return min(with_title, key=lambda lay: sum(k not in extra for k in kinds(lay)))

    def _drop_template_slides(self) -> None:
        """A template's example slides are not the report's (public API: the slide id list
        and the package's relationship drop)."""
        ids = self.prs.slides.element  # the <p:sldIdLst>
        for sld in list(ids):
            self.prs.part.drop_rel(sld.rId)
            ids.remove(sld)

    # one slide
    def _slide(self, layout, title: str):
        slide = self.prs.slides.add_slide(layout)
        if slide.shapes.title is not None:
            slide.shapes.title.text = title
            if not self.templated and layout is self.content_layout:
                t = slide.shapes.title
                t.left, t.top, t.width, t.height = MARGIN, Inches(0.3), \
                    self.width - 2 * MARGIN, Inches(0.9)
                tf = t.text_frame
                tf.word_wrap = True
                tf.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
                tf.vertical_anchor = MSO_ANCHOR.MIDDLE
                for p in tf.paragraphs:
                    p.alignment = PP_ALIGN.LEFT
                    for run in p.runs:
                        run.font.size = Pt(26 if len(title) < 60 else 20)
                        run.font.bold = True
            _finnish(slide.shapes.title.text_frame)
        else:
            self._text(slide, MARGIN, Inches(0.3), self.width - 2 * MARGIN, Inches(0.9),
                       [title], size=26, bold=True)
        # placeholders the deck does not fill would show "Click to add text"
        for ph in list(slide.placeholders):
            if ph.placeholder_format.type not in (PP_PLACEHOLDER.TITLE,
                                                  PP_PLACEHOLDER.CENTER_TITLE):
                if ph.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE:
                    continue
                ph.element.getparent().remove(ph.element)
        return slide

    def _top(self, slide) -> int:
        t = slide.shapes.title
        return int(t.top + t.height + Inches(0.15)) if t is not None else int(Inches(1.3))

    def _text(self, slide, left, top, width, height, lines: Sequence[str], *, size: float,
              bold: bool = False, colour: tuple[int, int, int] = INK, bullets: bool = False):
        box = slide.shapes.add_textbox(int(left), int(top), int(width), int(height))
        tf = box.text_frame
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
        for i, line in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            run = p.add_run()
            run.text = ("• " if bullets else "") + line
            run.font.size = Pt(size)
            run.font.bold = bold
            run.font.color.rgb = _rgb(colour)
            if bullets:
                p.space_after = Pt(8)
        _finnish(tf)
        return box

    def _source(self, slide, text: str) -> None:
        if len(text) > MAX_SOURCE:  # a derived series lists its inputs year by year
            credit = re.search(r" Aluejaot: .*$", text)  # a map's boundaries stay credited
            head = text[:credit.start()] if credit else text
            text = (head[:MAX_SOURCE].rsplit(" ", 1)[0] + " … (koko lähdemerkintä raportissa)."
                    + (credit.group(0) if credit else ""))
        if text:
            self._text(slide, MARGIN, self.height - Inches(0.75), self.width - 2 * MARGIN,
                       Inches(0.6), [text], size=10, colour=MUTED)

    def _picture(self, slide, pic: Picture, left, top, width, height) -> None:
        with Image.open(io.BytesIO(pic.data)) as im:
            w, h = im.size
        scale = min(width / w, height / h)
        pw, ph = int(w * scale), int(h * scale)
        shape = slide.shapes.add_picture(io.BytesIO(pic.data), int(left + (width - pw) / 2),
                                         int(top), pw, ph)
        if pic.alt:  # alt text for screen readers: the picture's description
            shape.element.nvPicPr.cNvPr.set("descr", pic.alt)

    # the slide kinds
    def cover(self, deck: Deck, network: str) -> None:
        slide = self.prs.slides.add_slide(self.title_layout)
        lines = list(deck.subtitle_lines[:4])
        if network and not any(network in ln for ln in lines):
            lines.append(network)
        title = slide.shapes.title
        sub = next((ph for ph in slide.placeholders
                    if ph.placeholder_format.type == PP_PLACEHOLDER.SUBTITLE), None)
        keep = {ph.element for ph in (title, sub) if ph is not None}
        for ph in list(slide.placeholders):
            if ph.element not in keep:
                ph.element.getparent().remove(ph.element)
        text_width = self.width - 2 * MARGIN
        if deck.cover:
            text_width = int(self.width * 0.58)
        if title is None:
            self._text(slide, MARGIN, Inches(1.0), text_width, Inches(1.4), [deck.title],
                       size=36, bold=True)
        else:
            title.text = deck.title
            if not self.templated:
                title.left, title.top, title.width, title.height = (
                    MARGIN, Inches(1.0), text_width, Inches(1.4))
                for p in title.text_frame.paragraphs:
                    p.alignment = PP_ALIGN.LEFT
            _finnish(title.text_frame)
        if sub is not None:
            sub.text_frame.text = "\n".join(lines)
            if not self.templated:
                sub.left, sub.top, sub.width, sub.height = (
                    MARGIN, Inches(2.6), text_width, Inches(4.2))
                for p in sub.text_frame.paragraphs:
                    p.alignment = PP_ALIGN.LEFT
                    for run in p.runs:
                        run.font.size = Pt(16)
                        run.font.color.rgb = _rgb(MUTED)
            sub.text_frame.word_wrap = True
            _finnish(sub.text_frame)
        elif lines:
            self._text(slide, MARGIN, Inches(2.6), text_width, Inches(4.2), lines, size=16,
                       colour=MUTED)
        if deck.cover:
            left = int(self.width * 0.62)
            self._picture(slide, deck.cover[0], left, Inches(0.5),
                          self.width - left - MARGIN, self.height - Inches(1.0))

    def bullets(self, title: str, items: Sequence[str]) -> None:
        slide = self._slide(self.content_layout, title)
        top = self._top(slide)
        size = 18 if len(items) <= 5 and sum(map(len, items)) < 900 else 14
        self._text(slide, MARGIN, top, self.width - 2 * MARGIN,
                   self.height - top - Inches(0.5), items, size=size, bullets=True)

    def table(self, title: str, header: list[str], rows: list[list[str]], *,
              source: str = "") -> None:
        if not header or not rows:
            return
        chunks = [rows[i:i + ROWS_PER_SLIDE] for i in range(0, len(rows), ROWS_PER_SLIDE)]
        for n, chunk in enumerate(chunks):
            name = title if len(chunks) == 1 else f"{title} ({n + 1}/{len(chunks)})"
            slide = self._slide(self.content_layout, name)
            top = self._top(slide)
            width = self.width - 2 * MARGIN
            row_h = Inches(0.3)
            shape = slide.shapes.add_table(len(chunk) + 1, len(header), int(MARGIN), int(top),
                                           int(width), int(row_h * (len(chunk) + 1)))
            tab = shape.table
            first = 0.34 if len(header) > 3 else 0.45
            tab.columns[0].width = int(width * first)
            for j in range(1, len(header)):
                tab.columns[j].width = int(width * (1 - first) / (len(header) - 1))
            for j, head in enumerate(header):
                _cell(tab.cell(0, j), head, bold=True, right=j > 0)
            for i, row in enumerate(chunk, start=1):
                for j in range(len(header)):
                    _cell(tab.cell(i, j), row[j] if j < len(row) else "", right=j > 0)
                if 1 < len(row) < len(header):  # "ei tietoa" across the rest of the row
                    tab.cell(i, len(row) - 1).merge(tab.cell(i, len(header) - 1))
                    _cell(tab.cell(i, len(row) - 1), row[-1])
            self._source(slide, source)

    def figure(self, fig: Figure) -> None:
        title = fig.title if not fig.is_map or "kart" in fig.title.lower() else \
            f"Kartta: {fig.title}"
        slide = self._slide(self.content_layout, title)
        top = self._top(slide)
        bottom = self.height - Inches(0.85)
        take_h = Inches(0.8) if fig.takeaway else 0
        avail_h = bottom - top - take_h
        pics = fig.pictures[:2]
        gap = Inches(0.2)
        each = (self.width - 2 * MARGIN - gap * (len(pics) - 1)) / len(pics)
        for i, pic in enumerate(pics):
            self._picture(slide, pic, MARGIN + i * (each + gap), top, each, avail_h)
        if fig.takeaway:
            self._text(slide, MARGIN, bottom - take_h, self.width - 2 * MARGIN, take_h,
                       [fig.takeaway], size=15, bold=True)
        self._source(slide, fig.source)

    def sources(self, sources: Sequence[str]) -> None:
        """The sources in short (publisher and table, without the notes in parentheses; the
        report's sources table has the years and dates), two columns per slide."""
        items = list(dict.fromkeys(short_source(s) for s in sources if short_source(s)))
        per = 2 * SOURCES_PER_COLUMN
        chunks = [items[i:i + per] for i in range(0, len(items), per)] or [[]]
        col_w = (self.width - 2 * MARGIN - Inches(0.3)) / 2
        for n, chunk in enumerate(chunks):
            title = "Lähteet" if len(chunks) == 1 else f"Lähteet ({n + 1}/{len(chunks)})"
            slide = self._slide(self.content_layout, title)
            top = self._top(slide)
            height = self.height - top - Inches(1.1)
            if not chunk:
                chunk = ["kunkin kuvion ja taulukon lähdemerkintä"]
            for c, col in enumerate((chunk[:SOURCES_PER_COLUMN], chunk[SOURCES_PER_COLUMN:])):
                if col:
                    self._text(slide, MARGIN + c * (col_w + Inches(0.3)), top, col_w, height,
                               [f"Lähde: {x}" for x in col], size=11)
            self._text(slide, MARGIN, self.height - Inches(0.95), self.width - 2 * MARGIN,
                       Inches(0.8), [LICENCE_LINE, "Vuodet ja aineistojen päiväykset: "
                                     "raportin lähdeluettelo. Laadittu uso-työkalulla."],
                       size=10, colour=MUTED)

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()


def short_source(text: str) -> str:
    """``Tilastokeskus, StatFin 11re (väestö; ...) (2020–2025)`` -> ``Tilastokeskus, StatFin
    11re``: the publisher and the table, for a list that fits a slide."""
    text = text.removeprefix("Lähde: ")
    prev = None
    while prev != text:  # nested parentheses, innermost first
        prev, text = text, re.sub(r"\s*\([^()]*\)", "", text)
    return re.split(r"[:;]", text, maxsplit=1)[0].strip(" ,.")


def _rgb(colour: tuple[int, int, int]):
    from pptx.dml.color import RGBColor

    return RGBColor(*colour)


def _finnish(tf) -> None:
    for p in tf.paragraphs:
        for run in p.runs:
            run.font.language_id = MSO_LANGUAGE_ID.FINNISH


def _cell(cell, text: str, *, bold: bool = False, right: bool = False) -> None:
    cell.text = text
    cell.margin_left = cell.margin_right = Emu(Inches(0.05))
    cell.margin_top = cell.margin_bottom = Emu(Inches(0.02))
    for p in cell.text_frame.paragraphs:
        p.alignment = PP_ALIGN.RIGHT if right else PP_ALIGN.LEFT
        for run in p.runs:
            run.font.size = Pt(10.5)
            run.font.bold = bold
            run.font.language_id = MSO_LANGUAGE_ID.FINNISH


def read_template(path: str | os.PathLike | None) -> bytes | None:
    """The template's bytes, checked once before a run (a wrong path stops it early)."""
    if path is None:
        return None
    try:
        data = open(path, "rb").read()  # noqa: SIM115 - one read
    except OSError as exc:
        raise UsoError(f"Cannot read the slide template {path}: {exc.strerror or exc}",
                       hint="Give a .pptx file with --pptx-template FILE.") from None
    try:
        Presentation(io.BytesIO(data))
    except Exception as exc:
        raise UsoError(f"The slide template {path} is not a .pptx presentation: {exc}",
                       hint="Save the template in PowerPoint as .pptx (not .potx or .ppt)."
                       ) from None
    return data
