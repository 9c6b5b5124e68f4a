"""`uso report Juva --params DIR/network.yaml` with the consultant's notes in
DIR/huomiot/178-juva.md: each note inside its own theme section, Markdown rendered, raw HTML
escaped; the finance theme opens with the crisis criteria citing kuntalaki 118 §; a changed note
renders the report again (the manifest keeps the note's hash). Rendered once per module."""

from __future__ import annotations

import json
import shutil

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_uso

pytestmark = pytest.mark.slow

NOTE = """# Juva

## Väestökehitys
Syntyneitä on **vähän** suhteessa väkilukuun. <script>alert("x")</script>

## Kunnan talous
Konsernin *lainakanta* on kasvanut.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("notes-network")
    shutil.copy(ROOT / "params" / "network.yaml", base / "network.yaml")
    (base / "huomiot").mkdir()
    (base / "huomiot" / "178-juva.md").write_text(NOTE, encoding="utf-8")
    out = base / "reports"
    args = ("report", "Juva", "--params", str(base / "network.yaml"), "--out", str(out),
            "--timeout", "600")
    r = run_uso(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    soup = BeautifulSoup((out / "178-juva.html").read_text(encoding="utf-8"), "html.parser")
    return base, out, args, soup


def _theme_of(tag) -> str:
    """The text of the h2 a tag comes under."""
    h2 = tag.find_previous("h2")
    return h2.get_text(strip=True).rstrip("¶") if h2 else ""


def test_each_note_inside_its_own_theme(rendered):
    _, _, _, soup = rendered
    boxes = soup.find_all("section", class_="uso-huomiot")
    assert [_theme_of(b) for b in boxes] == ["Väestökehitys", "Kunnan talous"]
    pop, fin = boxes
    assert pop.find("h3").get_text(strip=True).startswith("Asiantuntijan huomiot")
    assert pop.find("strong").get_text() == "vähän"
    assert fin.find("em").get_text() == "lainakanta"
    # the script is text on the page, not an element
    assert '<script>alert("x")</script>' in pop.get_text()
    assert not soup.find_all("script")
    assert "178-juva.md, päivätty" in pop.get_text()


def test_finance_theme_starts_with_the_crisis_criteria(rendered):
    _, _, _, soup = rendered
    sec = soup.find("section", class_="uso-crisis")
    assert _theme_of(sec) == "Kunnan talous"
    text = sec.get_text(" ", strip=True)
    assert "Kriisikuntaindikaattorit" in text and "Kuntalaki (410/2015) 118 §" in text
    assert "175/2019" in text and "säännön vuosi 2019" in text
    # Juva's group loans 2020 against 1,5 x the country's 7 453,8 EUR/resident
    assert "5\u00a0859,2" in text and "11\u00a0180,7" in text and "ei täyty" in text
    # the first indicator section of the theme comes after the assessment
    first = soup.find("div", id=lambda v: v and v.startswith("teema-talous"))
    assert first is not None and sec.find_next("div", id=first["id"]) is not None


def test_changed_note_renders_the_report_again(rendered):
    base, out, args, _ = rendered
    again = run_uso(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert entry["178-juva"]["notes_hash"].startswith("sha256:")
    # an unchanged note never makes the report stale (in a shared checkout the code may
    # change between the runs, which renders it again for that reason alone)
    if "nothing to render, 1 up to date" not in again.stdout:
        assert "notes" not in entry["178-juva"]["why"]
    note = base / "huomiot" / "178-juva.md"
    note.write_text(NOTE + "\n## Yhteenveto\nLisätty.\n", encoding="utf-8")
    third = run_uso(*args)
    assert third.returncode == 0 and "1 rendered" in third.stdout, third.stdout + third.stderr
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]
    why = entry["178-juva"]["why"]
    assert why.startswith("changed: ") and why.endswith("notes"), why


def test_unknown_heading_stops_the_report_naming_file_and_line(tmp_path):
    shutil.copy(ROOT / "params" / "network.yaml", tmp_path / "network.yaml")
    (tmp_path / "huomiot").mkdir()
    (tmp_path / "huomiot" / "178-juva.md").write_text("## Väestökehitys\nx\n\n## Talous\ny\n",
                                                      encoding="utf-8")
    r = run_uso("report", "Juva", "--params", str(tmp_path / "network.yaml"), "--out",
                str(tmp_path / "reports"), "--timeout", "300")
    assert r.returncode != 0
    text = r.stdout + r.stderr
    assert "178-juva.md, line 4: unknown heading '## Talous'" in text
    assert "'## Kunnan talous'" in text


def test_a_map_in_every_theme_section_and_the_size_budget(rendered):
    _, out, _, soup = rendered
    themes = {"Väestökehitys", "Elinvoima ja työllisyys", "Hyvinvointi ja osallisuus",
              "Kunnan talous", "Ympäristö"}
    maps = [m for m in soup.find_all("div", class_="uso-theme-map") if m.find("img")]
    assert sorted(_theme_of(m) for m in maps) == sorted(themes)
    assert (out / "178-juva.html").stat().st_size <= 3 * 1024 * 1024
