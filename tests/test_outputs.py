"""The report's workshop formats (#18): the PDF printed by headless Chromium and the editable
slide deck, both made by the factory from the rendered page (`uso report --format`), with
manifest entries and incremental reruns; and the clear errors when what they need is missing.

The PDF tests need Debian's chromium (as the browser test does) and skip without it, saying
why; the deck needs nothing beyond the package."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from conftest import CHROMIUM, need_chromium, run_uso

from uso_lib.errors import UsoError


@pytest.fixture(scope="module")
def juva_all(tmp_path_factory) -> Path:
    """Juva in every format (the PDF only where Chromium is)."""
    out = tmp_path_factory.mktemp("formats")
    formats = "html,pdf,pptx" if CHROMIUM else "html,pptx"
    r = run_uso("report", "Juva", "--format", formats, "--out", str(out), "--workers", "1",
                "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def _slides_text(path: Path) -> tuple[object, list[str]]:
    from pptx import Presentation

    prs = Presentation(str(path))
    texts = []
    for slide in prs.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
        texts.append("\n".join(parts))
    return prs, texts


# -- the slide deck ---------------------------------------------------------------------------
@pytest.mark.slow
def test_deck_has_cover_highlights_tables_charts_and_sources(juva_all):
    from pptx.enum.shapes import MSO_SHAPE_TYPE
    from pptx.util import Inches

    path = juva_all / "178-juva.pptx"
    prs, texts = _slides_text(path)
    assert len(texts) >= 10
    assert (prs.slide_width, prs.slide_height) == (Inches(13.333), Inches(7.5))  # 16:9
    pictures = [s for slide in prs.slides for s in slide.shapes
                if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) >= 5
    everything = "\n".join(texts)
    assert "Juva" in everything and "Lähde" in everything
    # the cover: title, the report's date and network, the locator map
    assert texts[0].startswith("Tilanneanalyysi: Juva")
    assert "Laadittu" in texts[0] and "USO 7" in texts[0]
    assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in prs.slides[0].shapes)
    # the highlights are the report's own sentences
    assert texts[1].startswith("Nostot") and "6,1\u00a0%" in texts[1]
    # the summary as real, editable tables, one per theme: Juva's population 2025 is 5 569
    tables = [s.table for slide in prs.slides for s in slide.shapes if s.has_table]
    first = tables[0]
    assert [c.text for c in first.rows[0].cells][:3] == ["Mittari", "Vuosi", "Juva"]
    cells = [[c.text for c in row.cells] for row in first.rows]
    assert ["Väkiluku 31.12.", "2025", "5\u00a0569"] in [row[:3] for row in cells]
    # one slide per indicator block: its chart, its takeaway and its source line as text
    block = next(t for t in texts if t.startswith("Väkiluku 31.12."))
    assert "vertailukuntien keskiarvo" in block and "Lähde: Tilastokeskus" in block
    # the theme maps, each named by its theme, its measure in words, with its source
    maps = [t for t in texts if t.startswith("Kartta: ")]
    assert "Kartta: Kunnan talous" in [t.splitlines()[0] for t in maps]
    assert all("Aluejaot: © Tilastokeskus / MML" in t for t in maps)
    # the closing slide lists the sources and the licence
    assert texts[-1].startswith("Lähteet") and "CC BY 4.0" in texts[-1]


@pytest.mark.slow
def test_deck_uses_a_template_and_drops_its_slides(juva_all, tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    from uso_lib.factory.slides import html_to_pptx

    tpl = Presentation()  # 4:3, with a slide of its own that must not reach the deck
    tpl.slides.add_slide(tpl.slide_layouts[0]).shapes.title.text = "Mallidia"
    buf = io.BytesIO()
    tpl.save(buf)
    data = html_to_pptx((juva_all / "178-juva.html").read_bytes(), template=buf.getvalue())
    prs = Presentation(io.BytesIO(data))
    assert prs.slide_width == Inches(10)  # the template's size
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    assert titles[0] == "Tilanneanalyysi: Juva" and "Mallidia" not in titles
    # a broken template stops the run before anything is rendered
    bad = tmp_path / "rikki.pptx"
    bad.write_bytes(b"not a zip")
    r = run_uso("report", "Juva", "--format", "pptx", "--pptx-template", str(bad),
                "--out", str(tmp_path / "out"), "--no-progress")
    assert r.returncode == 2 and "rikki.pptx" in r.stderr and "not a .pptx" in r.stderr
    assert not (tmp_path / "out" / "178-juva.html").exists()


@pytest.mark.slow
def test_manifest_lists_the_outputs_and_a_rerun_makes_only_what_is_missing(juva_all):
    out = juva_all
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"][
        "178-juva"]
    assert entry["outputs"]["pptx"] == {"file": "178-juva.pptx", "template": None}
    assert "178-juva.pptx" in entry["file_hashes"] and entry["file"] == "178-juva.html"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="178-juva.pptx">PPTX</a>' in index  # the index links every format
    formats = "html,pdf,pptx" if CHROMIUM else "html,pptx"
    page = (out / "178-juva.html").read_bytes()
    (out / "178-juva.pptx").unlink()
    r = run_uso("report", "Juva", "--format", formats, "--out", str(out), "--json",
                "--no-progress")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)["reports"]
    if report and report[0]["attempts"] != 0:
        pytest.skip("the code or data changed during the test (another checkout user); the "
                    "page was rendered again")
    # the notebook did not run: the deck was made from the page on disk, the page kept
    assert report[0]["attempts"] == 0 and "made pptx" in report[0]["notes"][0]
    assert (out / "178-juva.pptx").is_file() and (out / "178-juva.html").read_bytes() == page
    entry = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"][
        "178-juva"]
    assert sorted(entry["outputs"]) == sorted(formats.split(",")[1:])
    assert sorted(entry["appendix"]) == ["178-juva-liite.csv", "178-juva-liite.xlsx"]
    r = run_uso("report", "Juva", "--format", formats, "--out", str(out), "--no-progress")
    assert r.returncode == 0 and "nothing to render, 1 up to date" in r.stdout


# -- the PDF ----------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.browser
def test_pdf_is_a_printed_report_with_sources_and_page_links(juva_all):
    need_chromium("the PDF tests")
    from pypdf import PdfReader

    reader = PdfReader(str(juva_all / "178-juva.pdf"))
    assert len(reader.pages) >= 10
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Tilanneanalyysi: Juva" in text  # selectable text, title and running header
    assert "Lähde: Tilastokeskus, Kuntien avainluvut" in text  # the charts' source lines
    assert "sivu 2 / " in text  # page numbers in the footer
    mediabox = reader.pages[0].mediabox
    assert (round(float(mediabox.width)), round(float(mediabox.height))) == (595, 842)  # A4
    # the table of contents links into the document, the outline follows the headings
    links = [a.get_object() for p in reader.pages[:4] for a in (p.get("/Annots") or [])]
    assert len([a for a in links if a.get("/Subtype") == "/Link"]) >= 20
    titles = [o["/Title"] for o in reader.outline if isinstance(o, dict)]
    assert titles[0] == "Tilanneanalyysi: Juva"
    # the printed table of contents gives each chapter's page, the page the outline names
    from uso_lib.factory.pdf import heading_pages

    pages = heading_pages((juva_all / "178-juva.pdf").read_bytes())
    talous = pages["Kunnan talous"]
    assert talous > 10 and "Kunnan talous" in reader.pages[talous - 1].extract_text()
    toc = "\n".join(reader.pages[i].extract_text() for i in range(4)).splitlines()
    assert str(talous) in toc and str(pages["Väestökehitys"]) in toc


def test_pdf_without_chromium_says_what_to_install(tmp_path):
    r = run_uso("report", "Juva", "--format", "html,pdf", "--out", str(tmp_path),
                "--no-progress", env={"USO_CHROMIUM": str(tmp_path / "no-chromium")})
    assert r.returncode == 2
    assert "PDF output needs Chromium" in r.stderr and "apt-get install chromium" in r.stderr
    assert "Traceback" not in r.stderr and not list(tmp_path.glob("*.html"))


def test_pdf_without_playwright_names_the_extra(monkeypatch):
    from uso_lib.extras import MissingExtra
    from uso_lib.factory import formats

    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # as if not installed
    with pytest.raises(MissingExtra) as err:
        formats.check(("pdf",))
    assert "[pdf]" in str(err.value) and "pip install -e '.[pdf]'" in str(err.value)


def test_formats_are_checked():
    from uso_lib.factory.formats import check, parse_formats

    assert parse_formats("pptx, PDF") == ("html", "pdf", "pptx")
    assert parse_formats("html") == ("html",)
    with pytest.raises(UsoError, match="Unknown report format docx"):
        parse_formats("html,docx")
    with pytest.raises(UsoError, match="add pptx to --format"):
        check(("html",), "malli.pptx")


# -- the network overview -----------------------------------------------------------------------
@pytest.mark.slow
def test_network_overview_in_every_format(tmp_path):
    formats = "html,pdf,pptx" if CHROMIUM else "html,pptx"
    r = run_uso("report", "--network", "--format", formats, "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    html = (tmp_path / "verkosto-uso-7.html").read_text(encoding="utf-8")
    assert "USO 7: verkoston yleiskuva" in html
    # the members ranked on six headline indicators, each with the members' mean in words
    assert html.count('class="uso-sentence"') == 6
    assert "Jäsenkuntien keskiarvo 12,9\u00a0% (2020); suurin Imatra 20,6\u00a0%, pienin " \
           "Eurajoki 9,4\u00a0%." in html
    entry = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["network"]
    assert entry["file"] == "verkosto-uso-7.html" and entry["name"] == "USO 7"
    assert "verkosto-uso-7.pptx" in entry["file_hashes"]

    from pptx.enum.shapes import MSO_SHAPE_TYPE

    prs, texts = _slides_text(tmp_path / "verkosto-uso-7.pptx")
    assert texts[0].startswith("USO 7: verkoston yleiskuva") and "18 jäsenkuntaa" in texts[0]
    assert "Laadittu " in texts[0]
    assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in prs.slides[0].shapes)  # map
    members = "".join(t for t in texts if t.startswith("Väkiluku ja vuosimaksu"))
    assert "Kokkola" in members and "yli 45 000 asukasta" in members
    ranking = next(t for t in texts if t.startswith("Työttömien osuus työvoimasta"))
    assert "suurin Imatra" in ranking and "Lähde: Tilastokeskus" in ranking
    pictures = [s for slide in prs.slides for s in slide.shapes
                if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) >= 8  # cover map, six rankings, the members' map
    assert texts[-1].startswith("Lähteet") and "Tilastokeskus, Kuntien avainluvut" in texts[-1]
    if CHROMIUM:
        from pypdf import PdfReader

        text = "\n".join(p.extract_text() for p in
                         PdfReader(str(tmp_path / "verkosto-uso-7.pdf")).pages)
        assert "USO 7: verkoston yleiskuva" in text and "suurin Imatra" in text


def test_a_format_that_cannot_be_made_fails_that_report_only():
    """The deck's template is broken after the run's check (replaced on disk): the report
    fails with the format as its reason and nothing of it is kept; the job never raises."""
    from uso_lib.factory import formats
    from uso_lib.factory.jobs import Job, Outcome

    job = Job(key="178-juva", kunta="178", name="Juva", title="Tilanneanalyysi: Juva",
              parameters={}, notebook="", formats=("pptx",), pptx_template=b"not a zip")
    out = Outcome("178-juva", "178", "Juva", "ok",
                  html=b"<html><body><h1>Tilanneanalyysi: Juva</h1></body></html>",
                  files={"178-juva-liite.csv": b"indicator\n"})
    formats.finish(job, out)
    assert out.status == "failed" and out.reason == "pptx"
    assert "not a readable .pptx" in out.error
    assert out.html is None and out.files == {} and out.outputs == {}


def test_formats_come_back_from_a_dask_cluster(tmp_path):
    """The formats are made on the worker and travel back with the page (no shared disk)."""
    from dask.distributed import LocalCluster

    mini = Path(__file__).resolve().parent / "notebooks" / "mini.ipynb"
    formats = "html,pdf,pptx" if CHROMIUM else "html,pptx"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      host="127.0.0.1", scheduler_port=0, dashboard_address=":0") as cluster:
        r = run_uso("report", "Juva", "--out", str(tmp_path), "--scheduler",
                    cluster.scheduler_address, "--notebook", str(mini), "--timeout", "120",
                    "--format", formats, "--no-progress")
    assert r.returncode == 0, r.stdout + r.stderr
    entry = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["reports"][
        "178-juva"]
    assert sorted(entry["outputs"]) == sorted(formats.split(",")[1:])
    _, texts = _slides_text(tmp_path / "178-juva.pptx")
    assert texts[0].startswith("Tilanneanalyysi: Juva") or "Testiraportti" in texts[0]
    if CHROMIUM:
        from pypdf import PdfReader

        text = PdfReader(str(tmp_path / "178-juva.pdf")).pages[0].extract_text()
        assert "Testiraportti" in text and "Tilanneanalyysi: Juva" in text  # + the header
