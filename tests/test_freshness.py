"""How old a report's figures are (#14 item 5), on the real embedded snapshot: Juva (178)
has population to 2025, the 2026 municipal income-tax rate, and fifteen indicators whose
latest figures are from 2019 (jobs and enterprises by industry, commuting, greenhouse gas
emissions ...). Newer releases come from metadata left in the HTTP cache by
`uso data sources`, served here by a local stand-in built from the recorded 11re answer (see
test_cli_sources.py) with 2026 added, and a Sotkanet range to 2024; a report asks no service.
"""

from __future__ import annotations

import re

import httpfake
import pytest
from bs4 import BeautifulSoup
from conftest import run_uso
from test_cli_sources import BASE, LIMITS, TABLE_11RE, metadata_11re

from uso_lib import catalog, report
from uso_lib.cli import sources as sources_cli
from uso_lib.report import freshness

THEMES = ("vaestokehitys", "elinvoima", "hyvinvointi", "talous", "ymparisto")
# Juva's newest figure per theme in the snapshot (none of them a projection)
THEME_NEWEST = {"vaestokehitys": 2025, "elinvoima": 2024, "hyvinvointi": 2024,
                "talous": 2026, "ymparisto": 2019}


def test_juva_latest_years_on_the_snapshot(store):
    a = freshness.age(store, "178")
    assert a.latest["vaesto"] == 2025
    assert a.latest["tuloveroprosentti"] == 2026
    assert a.latest["tyopaikat"] == 2020 and a.latest["syntyneet"] == 2022
    assert (a.oldest, a.newest, a.span()) == (2019, 2026, "2019–2026")
    oldest = {i.id for i in a.at(2019)}
    assert len(oldest) == 17
    # the commuting shares (#17) are derived from the 2019 commuting counts
    assert {"kasvihuonekaasupaastot", "pienituloisuusaste", "tulopendelointi",
            "tulopendelointi_osuus", "lahtopendelointi_osuus"} <= oldest
    # projections reach 2040 but are no measure of the data's age; missing indicators count
    # for nothing (no figure is invented for them)
    assert "vaestoennuste" not in a.latest and "palvelutarpeiden_muutos" not in a.latest
    assert "hyte_kerroin" not in a.latest and "tyollisyysaste_20_64" not in a.latest
    assert {t: a.theme(t).newest for t in THEMES} == THEME_NEWEST


def test_a_comparison_year_caps_the_years(store):
    a = freshness.age(store, "178", year=2021)
    assert (a.oldest, a.newest) == (2019, 2021)
    assert a.latest["vaesto"] == 2021 and a.latest["tyopaikat"] == 2020
    assert "vertailuvuosi 2021" in freshness.cover_text(a, 2021)


def test_cover_and_section_sentences_name_years_and_indicators(store):
    a = freshness.age(store, "178")
    text = freshness.cover_text(a)
    assert text.startswith("Tiedot vuosilta 2019–2026: uusimmat luvut vuodelta 2026 "
                           "(Kunnallisveroprosentti), vanhimmat vuodelta 2019 (17 mittaria: ")
    assert "lisäksi 13 muuta" in text
    assert "2026: 1, 2025: 2, 2024: 4" in text  # the indicators by latest year
    pop = freshness.section_text(a.theme("vaestokehitys"))
    assert pop.startswith("Tietojen ikä: osion uusin luku on vuodelta 2025 (Väkiluku 31.12.; ")
    assert "vanhimmat vuodelta 2019" in pop
    assert (freshness.section_text(a.theme("ymparisto"))
            == "Tietojen ikä: osion luvut ovat vuodelta 2019.")
    assert freshness.section_text(freshness.Age()) == "Tietojen ikä: osiossa ei ole kunnan lukuja."


def test_index_entry_is_the_span_with_what_it_means(store):
    span, title = freshness.index_entry(store, "178")
    assert span == "2019–2026"
    assert title.startswith("uusimmat luvut 2026: Kunnallisveroprosentti; vanhimmat 2019: ")
    assert freshness.index_entry(store, "178", "2021")[0] == "2019–2021"
    assert freshness.index_entry(store, "999") == ("–", "ei kunnan lukuja")


def test_without_a_cache_nothing_is_said_and_nothing_is_created(store, tmp_path, monkeypatch):
    monkeypatch.setenv("USO_CACHE_DIR", str(tmp_path / "cache"))
    assert freshness.offered() == {} and freshness.newer(store) == []
    assert not (tmp_path / "cache").exists()  # an offline report leaves no cache behind


# -- newer releases in the cached metadata -------------------------------------------------
def _fill_cache(raw_dir, srv) -> None:
    """What `uso data sources` leaves in the cache when the services offer population 2026
    (StatFin 11re) and the Gini coefficient to 2024 (Sotkanet 3126; the snapshot has 2023)."""
    srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
    srv.route("GET", TABLE_11RE,
              httpfake.Reply(json=metadata_11re(raw_dir, extra_years=("2026",))))
    srv.route("GET", "/rest/1.1/indicators/3126", httpfake.Reply(json={
        "id": 3126, "range": {"start": 1995, "end": 2024}}))
    rows = {r.indicator: r for r in sources_cli.check(["vaesto", "gini"])}
    assert rows["vaesto"].latest_offered_year == 2026 and rows["gini"].latest_offered_year == 2024


@pytest.fixture
def cached(raw_dir, monkeypatch):
    with httpfake.FakeServer() as srv:
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + BASE)
        monkeypatch.setenv("USO_SOTKANET_URL", srv.url + "/rest/1.1")
        _fill_cache(raw_dir, srv)
        yield srv


def test_newer_years_in_the_cache_give_a_note_with_the_refresh_command(cached, store):
    sent = len(cached.requests)
    r = report.start("Juva", store=store)
    found = {n.indicator.id: (n.have, n.offered) for n in freshness.newer(store)}
    assert found == {"vaesto": (2025, 2026), "gini": (2023, 2024)}
    pop = freshness.section_html(r, "vaestokehitys")
    assert "Uudempia tietoja on julkaistu: Väkiluku 31.12.: 2026 (raportissa 2025; " \
           "StatFin/11re)" in pop
    assert "<code>uso data refresh --indicators vaesto</code>" in pop
    assert "<code>uso report Juva --aineisto local</code>" in pop
    assert "gini" in freshness.section_html(r, "hyvinvointi")
    assert "Uudempia" not in freshness.section_html(r, "elinvoima")  # nothing cached for it
    cover = report.cover(r).data
    assert "uudempia tietoja 2 mittarista" in cover
    assert len(cached.requests) == sent  # the report asked no service
    # a name with a space stays one argument of the command
    text = freshness.newer_text([freshness.Newer(catalog.get("vaesto"), 2025, 2026,
                                                 "StatFin/11re")], "Koski Tl", "local")
    assert "`uso report 'Koski Tl' --aineisto local`" in text and "laadi raportti uudelleen" in text


def test_the_cache_is_read_once_per_process_until_it_changes(cached, store, monkeypatch):
    freshness.offered(store)
    calls = []
    real = sources_cli.check
    monkeypatch.setattr(sources_cli, "check", lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    freshness.offered(store)
    freshness.offered()
    assert calls == []
    sources_cli.check(["vaesto"], fresh=True)  # a new answer is written into the cache
    assert len(freshness.offered(store)) == 2  # vaesto and gini
    assert calls[-1] == {"cache_only": True, "store": store} and len(calls) == 2


# -- a rendered report and the index page ---------------------------------------------------
@pytest.fixture(scope="module")
def rendered(raw_dir, tmp_path_factory):
    """Juva's real report and the index, with population 2026 and Gini 2024 in the cache."""
    d = tmp_path_factory.mktemp("freshness")
    env = {"USO_CACHE_DIR": str(d / "cache"), "USO_DATA_DIR": str(d / "data")}
    with httpfake.FakeServer() as srv, pytest.MonkeyPatch.context() as mp:
        env |= {"USO_PXWEB_URL": srv.url + BASE, "USO_SOTKANET_URL": srv.url + "/rest/1.1"}
        for k, v in env.items():
            mp.setenv(k, v)
        _fill_cache(raw_dir, srv)
        sent = len(srv.requests)
        out = d / "reports"
        r = run_uso("report", "Juva", "--out", str(out), "--timeout", "600", env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert len(srv.requests) == sent  # rendering asked no service
    html = (out / "178-juva.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    return BeautifulSoup(html, "html.parser"), BeautifulSoup(index, "html.parser")


@pytest.mark.slow
def test_rendered_cover_and_every_theme_say_how_old_the_figures_are(rendered):
    soup, _ = rendered
    cover = soup.find("div", class_="uso-cover").get_text(" ", strip=True)
    assert "Tiedot vuosilta 2019–2026: uusimmat luvut vuodelta 2026 (Kunnallisveroprosentti)" \
           in cover
    assert "vanhimmat vuodelta 2019 (17 mittaria" in cover
    lines = [p.get_text(" ", strip=True) for p in soup.find_all("p", class_="uso-freshness")]
    themes = [t for t in lines if t.startswith("Tietojen ikä")]
    assert len(themes) == len(THEMES)
    for text, year in zip(themes, THEME_NEWEST.values(), strict=True):
        assert re.search(rf"(uusin luku on|luvut ovat) vuodelta {year}\b", text), text
    newer = [d.get_text(" ", strip=True) for d in soup.find_all("div", class_="uso-newer")]
    assert len(newer) == 2
    assert "Väkiluku 31.12.: 2026 (raportissa 2025" in newer[0]
    assert "uso data refresh --indicators vaesto" in newer[0]
    assert "uso data refresh --indicators gini" in newer[1]


@pytest.mark.slow
def test_index_shows_each_reports_data_years(rendered):
    _, index = rendered
    head = [th.get_text(strip=True) for th in index.find("table").find_all("th")]
    row = next(tr for tr in index.find_all("tr") if tr.find("a", href="178-juva.html"))
    cell = row.find_all("td")[head.index("Tietojen vuodet")]
    assert cell.get_text(strip=True) == "2019–2026"
    assert cell["title"].startswith("uusimmat luvut 2026: Kunnallisveroprosentti")
