"""The rendered report in a real browser: headless Chromium (Debian's package) driven by
Playwright, with no browser download. The report must show without console errors, every image
must decode, and the table of contents must lead somewhere. A full-page screenshot is kept under
reports/ as a CI artefact."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, need_chromium, run_uso

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> str:
    return need_chromium("the browser test")


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser-reports")
    r = run_uso("report", "Juva", "--out", str(out), "--workers", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    path = out / "178-juva.html"
    assert path.is_file(), sorted(p.name for p in out.iterdir())
    return path


@pytest.fixture(scope="module")
def page_report(chromium, report_html):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(report_html.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.src.slice(0, 40), complete: e.complete,"
                       " w: e.naturalWidth}))")
            links = page.eval_on_selector_all(
                "a[href^='#']", "els => els.map(e => ({href: e.getAttribute('href'),"
                                " ok: !!document.getElementById(decodeURIComponent("
                                "e.getAttribute('href').slice(1)))}))")
            title = page.title()
            text = page.inner_text("body")
            shot = ROOT / "reports" / "browser-178-juva.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    return {"problems": problems, "images": images, "links": links, "title": title,
            "text": text, "screenshot": shot}


def test_no_console_errors(page_report):
    assert page_report["problems"] == []


def test_every_image_decoded(page_report):
    images = page_report["images"]
    assert len(images) >= 5  # charts and at least one map
    bad = [i for i in images if not i["complete"] or i["w"] <= 0]
    assert bad == []


def test_table_of_contents_links_resolve(page_report):
    links = page_report["links"]
    assert len(links) >= 5  # the five themes at least
    assert [link["href"] for link in links if not link["ok"]] == []


def test_report_reads_as_finnish_report(page_report):
    assert "Tilanneanalyysi" in page_report["title"]
    text = page_report["text"]
    for heading in ("Väestökehitys", "Elinvoima ja työllisyys", "Hyvinvointi ja osallisuus",
                    "Kunnan talous", "Ympäristö"):
        assert heading in text
    assert "Traceback" not in text


def test_screenshot_saved(page_report):
    shot = page_report["screenshot"]
    assert shot.is_file() and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
