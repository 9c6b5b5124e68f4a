"""The consultant's notes (huomiot/<code>-<slug>.md beside the network file): sections by theme
title, Markdown rendered with raw HTML off, unknown headings refused with file and line."""

from __future__ import annotations

import os
from datetime import date

import pytest

from uso_lib import notes, regions
from uso_lib.errors import ParamsError

JUVA_NOTE = """# Juva: konsultin huomiot

## Väestökehitys

Väki **vähenee** noin 2 % vuodessa. <script>alert(1)</script>

```
## tämä ei ole otsikko
```

- syntyneitä vähän
- [linkki](javascript:alert(1))

## kunnan  talous
Lainakanta kasvaa.
"""


@pytest.fixture
def network_dir(tmp_path):
    (tmp_path / "network.yaml").write_text("", encoding="utf-8")
    (tmp_path / "huomiot").mkdir()
    return tmp_path


def test_note_beside_the_network_file(network_dir):
    juva = regions.lookup("Juva")
    path = network_dir / "huomiot" / "178-juva.md"
    path.write_text(JUVA_NOTE, encoding="utf-8")
    os.utime(path, (1_780_000_000, 1_780_000_000))  # 2026-05-28
    assert notes.folder_for(network_dir / "network.yaml") == (network_dir / "huomiot").resolve()
    n = notes.for_municipality(network_dir / "network.yaml", juva)
    assert set(n.sections) == {"vaestokehitys", "talous"}  # heading matched ignoring case
    assert n.lines == {"vaestokehitys": 3, "talous": 14}
    assert n.modified == date.fromtimestamp(1_780_000_000)
    html = n.html("vaestokehitys")
    assert "<strong>vähenee</strong>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "## tämä ei ole otsikko" in html  # inside the code block, not a section
    assert 'href="javascript' not in html
    assert "<h3>" not in html and "<h4>" not in html  # this section has no headings
    sec = notes.section_html(n, "vaestokehitys")
    assert sec.startswith('<section class="uso-huomiot"><h3>Asiantuntijan huomiot</h3>')
    assert "178-juva.md, päivätty" in sec
    assert notes.section_html(n, "ymparisto") == "" and notes.section_html(None, "talous") == ""
    # the manifest's fingerprint follows the file's bytes
    before = notes.digest(network_dir / "network.yaml", juva)
    path.write_text(JUVA_NOTE + "Lisäys.\n", encoding="utf-8")
    assert len(before) == 64 and notes.digest(network_dir / "network.yaml", juva) != before
    assert notes.digest(network_dir / "network.yaml", regions.lookup("Eurajoki")) == ""


def test_a_notes_own_headings_nest_under_the_box_heading(network_dir):
    n = notes.parse("## Yhteenveto\n### Vahvuudet\n- sijainti\n#### Tarkemmin\nx\n", "a.md")
    html = n.html("yhteenveto")
    assert "<h4>Vahvuudet</h4>" in html and "<h5>Tarkemmin</h5>" in html
    assert "<h3>" not in html


def test_no_note_is_not_an_error(network_dir):
    assert notes.for_municipality(network_dir / "network.yaml", regions.lookup("Juva")) is None
    assert notes.for_municipality("", regions.lookup("Juva")) is None


def test_unknown_heading_names_file_line_and_valid_headings(network_dir):
    path = network_dir / "huomiot" / "178-juva.md"
    path.write_text("## Väestökehitys\nOk.\n\n## Talous\nLainaa.\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        notes.load(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}, line 4: unknown heading '## Talous'")
    for h in ("Väestökehitys", "Elinvoima ja työllisyys", "Hyvinvointi ja osallisuus",
              "Kunnan talous", "Ympäristö", "Yhteenveto"):
        assert f"'## {h}'" in msg


def test_text_before_the_first_section_and_repeated_sections_are_refused(network_dir):
    path = network_dir / "huomiot" / "178-juva.md"
    path.write_text("Yleistä.\n\n## Yhteenveto\nx\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"line 1: text before the first section heading"):
        notes.load(path)
    path.write_text("## Yhteenveto\nx\n\n## Yhteenveto\ny\n", encoding="utf-8")
    with pytest.raises(ParamsError, match=r"line 4: '## Yhteenveto' appears twice"):
        notes.load(path)
    path.write_bytes("## Yhteenveto\nvähän\n".encode("latin-1"))
    with pytest.raises(ParamsError, match="not UTF-8"):
        notes.load(path)
