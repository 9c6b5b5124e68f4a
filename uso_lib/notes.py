"""The consultant's own words (asiantuntijan huomiot): Markdown notes per municipality.

A situation analysis is read in a workshop, and the consultant's interpretation belongs next
to the figures it interprets. The notes live beside the network file, in a ``huomiot/`` folder
(``params/huomiot/178-juva.md`` for ``params/network.yaml``), one ``## <theme title>`` section
per theme of the catalogue and ``## Yhteenveto`` for the summary.

They are rendered by markdown-it-py (CommonMark) with raw HTML disabled: a note can make text
bold or add a list or a link, but a ``<script>`` in it is shown as text. Headings are found on
the parsed tokens, so a ``## `` inside a code block is not mistaken for a section. An unknown
heading is an error naming the file, the line and the valid headings: a misspelt theme would
otherwise vanish from the report without anyone noticing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from uso_lib import catalog as catalog_mod
from uso_lib import fmt
from uso_lib.atomic import sha256_file
from uso_lib.errors import ParamsError
from uso_lib.regions import Municipality

FOLDER = "huomiot"
SUMMARY = "Yhteenveto"
SUMMARY_KEY = "yhteenveto"
HEADING_FI = "Asiantuntijan huomiot"


def _markdown() -> MarkdownIt:
    # CommonMark with raw HTML off (text, not markup); links are still checked by
    # markdown-it's own validator (no javascript: URLs)
    return MarkdownIt("commonmark", {"html": False})


def valid_headings() -> dict[str, str]:
    """Heading text (as written) -> section key: the theme titles and Yhteenveto."""
    out = {t.title: t.id for t, _ in catalog_mod.catalog().by_theme()}
    out[SUMMARY] = SUMMARY_KEY
    return out


def folder_for(network_path: str | Path | None) -> Path | None:
    """The ``huomiot/`` folder beside a network file (None without one)."""
    if network_path in (None, ""):
        return None
    return Path(network_path).resolve().parent / FOLDER


def path_for(folder: str | Path, m: Municipality) -> Path:
    """``<folder>/<code>-<slug>.md``: the same stem as the municipality's report."""
    return Path(folder) / f"{m.file_stem}.md"


@dataclass
class Notes:
    """One municipality's notes: Markdown per section key, with the file and its date."""

    path: Path
    sections: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # key -> line of its heading
    modified: date | None = None

    def has(self, key: str) -> bool:
        return bool(self.sections.get(key, "").strip())

    def html(self, key: str) -> str:
        """One section rendered to HTML (empty when the section is absent or blank)."""
        if not self.has(key):
            return ""
        md = _markdown()
        tokens = md.parse(self.sections[key])
        for tok in tokens:  # a note's own headings nest under "Asiantuntijan huomiot" (h3)
            if tok.type in ("heading_open", "heading_close"):
                tok.tag = f"h{min(6, max(4, int(tok.tag[1]) + 1))}"  # ### -> h4
        return md.renderer.render(tokens, md.options, {})


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse(text: str, path: str | Path) -> Notes:
    """Split a notes file into its sections; ParamsError on an unknown heading or on text
    before the first section heading."""
    path = Path(path)
    valid = valid_headings()
    by_fold = {_fold(h): key for h, key in valid.items()}
    allowed = ", ".join(f"'## {h}'" for h in valid)
    lines = text.splitlines()
    tokens = _markdown().parse(text)
    starts: list[tuple[int, int, str]] = []  # (first line, heading line, key), 0-based
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open" or tok.map is None:
            continue
        if tok.tag == "h1" and not starts:
            continue  # a title line above the sections is allowed (and not shown)
        if tok.tag != "h2":
            if not starts:
                raise ParamsError(f"a '{tok.markup} ' heading before the first section; "
                                  f"the sections are {allowed}.", file=str(path),
                                  line=tok.map[0] + 1)
            continue  # ### and deeper belong to the section they are in
        title = tokens[i + 1].content.strip()
        key = by_fold.get(_fold(title))
        if key is None:
            raise ParamsError(f"unknown heading '## {title}'; the valid headings are "
                              f"{allowed}.", file=str(path), line=tok.map[0] + 1)
        if any(k == key for _, _, k in starts):
            raise ParamsError(f"'## {title}' appears twice; write each section once.",
                              file=str(path), line=tok.map[0] + 1)
        starts.append((tok.map[1], tok.map[0], key))
    first = starts[0][1] if starts else len(lines)
    for tok in tokens:
        if tok.map is None or tok.map[0] >= first or tok.level != 0:
            continue
        if tok.type.endswith("_open") and tok.type != "heading_open":
            raise ParamsError(f"text before the first section heading; start each note with "
                              f"one of {allowed}.", file=str(path), line=tok.map[0] + 1)
    notes = Notes(path=path)
    for n, (body_start, head_line, key) in enumerate(starts):
        end = starts[n + 1][1] if n + 1 < len(starts) else len(lines)
        notes.sections[key] = "\n".join(lines[body_start:end]).strip("\n")
        notes.lines[key] = head_line + 1
    return notes


def load(path: str | Path) -> Notes:
    """Read and validate one notes file, with the file's modification date."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the "
                          "note as UTF-8.", file=str(path)) from None
    notes = parse(text, path)
    notes.modified = datetime.fromtimestamp(path.stat().st_mtime).date()
    return notes


def for_municipality(network_path: str | Path | None, m: Municipality) -> Notes | None:
    """The municipality's notes beside the network file, or None when it has none."""
    folder = folder_for(network_path)
    if folder is None:
        return None
    path = path_for(folder, m)
    return load(path) if path.is_file() else None


def digest(network_path: str | Path | None, m: Municipality) -> str:
    """The note file's sha256 ('' when there is none): the factory's manifest keeps it, so a
    changed note makes the report stale."""
    folder = folder_for(network_path)
    if folder is None:
        return ""
    path = path_for(folder, m)
    return sha256_file(path) if path.is_file() else ""


def section_html(notes: Notes | None, key: str) -> str:
    """The consultant's note of one section under the heading "Asiantuntijan huomiot", with
    the file's date ('' when the section has no note)."""
    if notes is None or not notes.has(key):
        return ""
    when = fmt.day(notes.modified) if notes.modified else ""
    from html import escape

    meta = (f'<p class="uso-note">Konsultin huomiot, {escape(notes.path.name)}'
            + (f", päivätty {escape(when)}" if when else "") + ".</p>")
    return (f'<section class="uso-huomiot"><h3>{HEADING_FI}</h3>\n{notes.html(key)}'
            f"{meta}</section>")
