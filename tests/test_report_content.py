"""The report's building blocks on the real embedded snapshot: Finnish figures, source lines,
no-data notes, escaping, the peers and how they were chosen, the summary, the theme blocks and
the data appendix (Juva, 178: population 2021 = 5 887, unemployment 2020 = 11,1 %)."""

from __future__ import annotations

import base64
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from PIL import Image

from uso_lib import catalog, report
from uso_lib.errors import OutputError, ParamsError, UnknownMunicipality
from uso_lib.report import appendix as report_appendix
from uso_lib.report import html as report_html
from uso_lib.report import sections as report_sections

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def juva(store) -> report.Report:
    """Juva, comparison year 2021, its suggested peers, the repository's network."""
    return report.start("Juva", vuosi=2021, store=store)


def _network(tmp_path: Path, body: str, name: str = "Testiverkosto") -> Path:
    p = tmp_path / "network.yaml"
    p.write_text(f"name: {name}\nperiod: 2023-2024\nmembers:\n" + body, encoding="utf-8")
    return p


# -- figures and source lines -------------------------------------------------------------
def test_value_text_is_finnish_and_never_fills_missing():
    assert report_html.value_text(5887, "henkeä") == f"5{NBSP}887"
    assert report_html.value_text(11.1, "%", 1) == f"11,1{NBSP}%"
    assert report_html.value_text(895.3, "€/as.", 0) == f"895{NBSP}€/as."
    assert report_html.value_text(math.nan, "%", 1, "..") == ".."
    assert report_html.value_text(None, "%", 1) == "–"


def test_source_line_names_publisher_table_years_and_data_date(store):
    rows = store.series("vaesto", "178")
    rows = rows[rows["year"] == 2021]
    assert float(rows["value"].iloc[0]) == 5887
    line = report_html.source_line(rows)
    assert line.startswith("Lähde: Tilastokeskus, StatFin 11re")
    assert "(2021)" in line and "Aineiston päiväys 19.3.2025." in line


def test_source_line_of_live_rows_says_when_fetched(store):
    rows = store.series("vaesto", "178").tail(3).copy()
    rows["origin"], rows["retrieved"] = "live", "2026-11-02"
    line = report_html.source_line(rows)
    assert "Haettu 2.11.2026." in line and "Aineiston päiväys" not in line


def test_notes_escape_data_and_keep_command_names():
    html = report_html.note("<script>alert(1)</script> & `uso data refresh`", "nodata")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert "<code>uso data refresh</code>" in html


def test_no_data_note_says_missing_and_how_to_get_it():
    fetchable = report_html.no_data_text(catalog.get("nuorisotyottomyys"))
    assert fetchable.startswith("Ei tietoa offline-aineistossa; `uso data refresh` hakee sen.")
    assert "THL Sotkanet, indikaattori 189" in fetchable
    from_file = report_html.no_data_text(catalog.get("hyte_kerroin"))
    assert from_file.startswith("Ei tietoa offline-aineistossa.")
    assert "uso data import" in from_file


def test_png_is_a_small_palette_image_and_the_figure_is_closed():
    from uso_lib import viz

    frame = pd.DataFrame({"Juva": [12.4, 11.1, 9.6]}, index=[2018, 2019, 2020])
    fig = viz.time_series(frame, unit="%", decimals=1, source="Tilastokeskus, testi")
    uri = report_html.png_data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert len(uri) < 60_000
    # closed: its artists are gone (an emptied skeleton may serve the next chart)
    assert not fig.texts and not any(ax.lines or ax.texts or ax.patches or ax.artists
                                     for ax in fig.axes)


# -- parameters and peers -----------------------------------------------------------------
def test_start_with_suggested_peers(juva):
    assert juva.kunta.code == "178" and juva.year == 2021
    assert juva.peer_method == "suggested" and len(juva.peers) == 9
    assert "178" not in juva.peer_codes
    assert juva.network is not None and juva.network.name == "USO 7"
    assert juva.member is not None and juva.network_label == "USO 7 ka."


def test_start_with_given_peers(store):
    r = report.start("178", ["Rantasalmi", "740"], store=store)
    assert r.peer_method == "params" and [p.name_fi for p in r.peers] == ["Rantasalmi",
                                                                          "Savonlinna"]


def test_start_with_peers_from_the_network_file(store, tmp_path):
    path = _network(tmp_path, "  - kunta: Juva\n    verrokit: [Sulkava, Puumala]\n")
    r = report.start("Juva", verkosto=str(path), store=store)
    assert r.peer_method == "network" and r.peer_codes == ["768", "623"]
    assert "verkoston parametritiedostossa" in r.peer_method_fi


@pytest.mark.parametrize("kwargs,error,text", [
    ({"kunta": "Juvaa"}, UnknownMunicipality, "Juva"),
    ({"kunta": "Juva", "aineisto": "netti"}, ParamsError, "aineisto"),
    ({"kunta": "Juva", "vuosi": "kaksi"}, ParamsError, "vuosi"),
    ({"kunta": "Juva", "verrokit": ["Juva"]}, ParamsError, "own comparison"),
    ({"kunta": "Juva", "verkosto": "/nonexistent/network.yaml"}, ParamsError, "does not exist"),
])
def test_bad_parameters_are_clear_errors(store, kwargs, error, text):
    with pytest.raises(error, match=text):
        report.start(store=store, **kwargs)


# -- cover, summary ---------------------------------------------------------------------------
def test_cover_escapes_names_and_notes_and_has_maps(store, tmp_path):
    path = _network(tmp_path, "  - kunta: Juva\n    verrokit: [Sulkava]\n"
                              "    notes: \"<script>alert('x')</script> & muuta\"\n")
    r = report.start("Juva", verkosto=str(path), store=store)
    html = report.cover(r).data
    assert "<h1>Tilanneanalyysi: Juva</h1>" in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; muuta" in html
    assert "Vertailukunnat (1): Sulkava." in html
    assert html.count("data:image/png;base64,") == 2
    assert "Testiverkosto -verkoston jäsen (kausi 2023–2024)" in html
    # the maps' caption says whose boundaries of which year (every figure: source and year);
    # the maps' pixels leave it out, their PNG metadata keeps it
    assert "Aluejaot: © Tilastokeskus / MML, kuntajako 2021 (koodit 2023), CC BY 4.0." in html
    from uso_lib import geo

    assert _png_sources(html) == [geo.ATTRIBUTION] * 2


def _png_sources(html: str) -> list[str]:
    """The "Source" metadata of every PNG embedded in ``html``."""
    return [Image.open(io.BytesIO(base64.b64decode(uri))).text.get("Source", "")
            for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def _captions(html: str) -> list[str]:
    return re.findall(r'<figcaption class="uso-source">(.*?)</figcaption>', html, re.S)


def test_map_pages_credit_source_and_boundaries_once_in_the_caption(juva, store):
    """The explore and network maps are drawn without their credit lines (maps' own tests
    check the image) and the caption carries both the figures' source and year and the
    boundaries' credit, each once."""
    from uso_lib import geo, params
    from uso_lib.report import explore as report_explore
    from uso_lib.report import network as report_network

    credit = f"{geo.ATTRIBUTION}."
    explore = report_explore.country_map(juva, "tyottomyysaste").data
    network = report_network.members_map(params.load_network(), store).data
    caps = _captions(explore) + _captions(network)
    assert len(caps) == 3 and explore.count("data:image/png;base64,") == 2
    for cap in caps:
        assert cap.count(credit) == 1 and cap.count("Lähde: Tilastokeskus") == 1, cap
    # a map saved from the page keeps the credit as the PNG's metadata
    assert _png_sources(explore + network) == caps
    # unemployment's latest year in the snapshot is 2020 (Juva 11,1 %); population's 2025
    assert all("(2020)" in c for c in _captions(explore)), _captions(explore)
    assert "(2025)" in _captions(network)[0]


def test_summary_lists_every_indicator_with_real_figures(juva):
    html = report.summary_table(juva).data
    for ind in catalog.catalog().indicators:
        assert f'href="#ind-{ind.id.replace("_", "-")}"' in html, ind.id
    # Juva's population 2021 and its unemployment rate 2020 (the latest year of that series)
    assert f"<b>5{NBSP}887</b>" in html
    assert f"<b>11,1{NBSP}%</b>" in html
    assert "ei tietoa offline-aineistossa" in html  # e.g. muuton suunnat


def test_blocks_show_every_catalogue_indicator_once_in_row_order():
    seen = []
    for theme, _ in catalog.catalog().by_theme():
        rows = []
        for _title, members in report_sections.blocks(theme.id):
            seen += [m.id for m in members]
            rows += [report_sections.row_key(m.row) for m in members]
        assert rows == sorted(rows), theme.id
    assert sorted(seen) == sorted(catalog.catalog().ids())
    assert len(seen) == len(set(seen))


# -- indicator blocks -------------------------------------------------------------------------
def test_indicator_block_chart_table_and_source(juva):
    html = report_sections.indicator_block(juva, catalog.get("vaesto"))
    assert 'id="ind-vaesto"' in html and "<h3>Väkiluku 31.12.</h3>" in html
    fig = re.search(r'<figure class="uso-figure"><img src="data:image/png;base64,[^"]+"'
                    r' alt="[^"]*"/><figcaption class="uso-source">Lähde: ([^<]+)</figcaption>',
                    html)
    assert fig and "Tilastokeskus, StatFin 11re" in fig.group(1)
    assert f"<td class=num>5{NBSP}887</td>" in html  # Arvo 2021
    assert "Arvo 2021" in html


def test_missing_indicator_gets_a_note_not_a_chart(juva):
    html = report_sections.indicator_block(juva, catalog.get("muuton_suunnat"))
    assert "uso-nodata" in html and "Ei tietoa offline-aineistossa" in html
    assert "<img" not in html


def test_relative_index_is_labelled_and_ranked(juva):
    html = report_sections.indicator_block(juva, catalog.get("syrjaytymisriski_nuoret_indeksi"))
    assert "indeksi, mediaanikunta = 100 (vain järjestys)" in html
    assert "<img" in html and "Sija koko maassa" in html
    assert "Vrt. kunnat ka." not in html  # a relative index has no group means


def test_proxy_says_so(juva):
    html = report_sections.indicator_block(juva, catalog.get("yrittajat"))
    assert "Korvaava mittari:" in html


def test_group_block_rows_are_link_targets(juva):
    members = [catalog.get(i) for i in ("syntyneet", "kuolleet", "luonnollinen_vaestonlisays")]
    html = report_sections.group_block(juva, "Syntyneet ja kuolleet", members)
    assert html.count("<img") == 1
    for m in members:
        assert f'id="ind-{m.id.replace("_", "-")}"' in html
    assert "Lähde: Tilastokeskus, StatFin 11ae" in html


# -- the appendix -----------------------------------------------------------------------------
def test_appendix_holds_the_figures_shown_and_is_written_atomically(juva, tmp_path):
    report_sections.indicator_block(juva, catalog.get("vaesto"))
    out = report.appendix_note(juva, str(tmp_path / "liite" / "178-juva-liite")).data
    assert "178-juva-liite.csv" in out and "178-juva-liite.xlsx" in out
    csv = pd.read_csv(tmp_path / "liite" / "178-juva-liite.csv", dtype={"kunta": str})
    row = csv[(csv["indicator"] == "vaesto") & (csv["kunta"] == "178") & (csv["year"] == 2021)]
    assert row["value"].tolist() == [5887.0]
    assert row["table"].tolist() == ["11re"] and row["nimi"].tolist() == ["Juva"]
    assert set(report_appendix.COLUMNS) <= set(csv.columns)
    xlsx_path = tmp_path / "liite" / "178-juva-liite.xlsx"
    xlsx = pd.read_excel(xlsx_path, sheet_name=None, engine="openpyxl", dtype={"kunta": str})
    assert set(xlsx) == {"Luvut", "Tietoja"}
    # the same figures as the CSV, cell for cell: codes stay text ("005", not 5), numbers stay
    # numbers with every digit, a missing value is an empty cell in both
    pd.testing.assert_frame_equal(xlsx["Luvut"], csv, check_dtype=False)
    assert csv["category"].isna().any() and csv["status"].isna().all()
    info = dict(zip(xlsx["Tietoja"]["kenttä"], xlsx["Tietoja"]["arvo"], strict=True))
    assert info["kunta"].startswith("Juva")
    # a reader filters 2 500 rows: the header stays in view and has filter buttons
    sheet = load_workbook(xlsx_path)["Luvut"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:M{len(csv) + 1}"
    assert sheet["A1"].value == "indicator" and sheet["A1"].font.b
    assert sheet["C1"].value == "kunta" and all(isinstance(c.value, str) for c in sheet["C"])
    assert not list((tmp_path / "liite").glob(".*.tmp"))


def test_appendix_write_failure_is_an_output_error(tmp_path):
    blocker = tmp_path / "tiedosto"
    blocker.write_text("ei kansio")
    app = report_appendix.Appendix()
    app.add(pd.DataFrame({"indicator": ["vaesto"], "kunta": ["178"], "year": [2021],
                          "category": [""], "value": [5887.0], "status": [""],
                          "source": ["Tilastokeskus, StatFin 11re"], "table": ["11re"],
                          "vintage": ["2025-03-19"], "origin": ["snapshot"]}),
            catalog.get("vaesto"))
    with pytest.raises(OutputError, match="Cannot write the data appendix"):
        app.write(blocker / "liite")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiedosto"]


def test_appendix_keeps_missing_values_missing(store):
    rows = store.rows("vaesto")
    rows = rows[rows["value"].isna()]
    assert len(rows) and set(rows["status"]) == {"."}  # the publisher's "." kept
    app = report_appendix.Appendix()
    app.add(rows, catalog.get("vaesto"))
    frame = app.frame()
    assert np.isnan(frame["value"]).all() and set(frame["status"]) == {"."}


def test_nothing_to_draw_is_a_note_not_a_failure(store):
    """Sottunga and its peers have no figure of the youth long-term social assistance index
    (Diak suppresses small municipalities): the block says so and still shows its table."""
    r = report.start("Sottunga", store=store)
    html = report_sections.indicator_block(
        r, catalog.get("toimeentulotuki_pitkaaikainen_18_24_indeksi"))
    assert "<img" not in html
    assert "Sottunga ja vertailukunnat: ei arvoja kaaviota varten." in html
    assert "Sottunga – ei tietoa vuodelta 2021." in html  # the sentence, never a 0


def test_how_to_get_commands_read_as_code():
    text = report_html.no_data_text(catalog.get("hyte_kerroin"))
    assert "`uso data import TIEDOSTO --indicator hyte_kerroin`" in text
    assert "`uso data template` antaa pohjan" in text
    assert "Ei offline-aineistossa" not in text  # the lead sentence says it once


def test_network_members_fee_tiers_from_population(store):
    from uso_lib import params
    from uso_lib.report import network as report_network

    df = report_network.members_frame(params.load_network(), store).set_index("nimi")
    assert len(df) == 18 and set(df["vuosi"]) == {2025}
    assert df.at["Juva", "vaesto"] == 5569 and df.at["Juva", "maksu"] == 9_000
    assert df.at["Imatra", "maksu"] == 12_000  # 24 345 residents
    assert df.at["Kokkola", "vaesto"] == 48338 and df.at["Kokkola", "maksu"] == 16_000
    assert df["maksu"].sum() == 193_000
    html = report_network.members_table(params.load_network(), store).data
    assert f"193{NBSP}000{NBSP}€" in html and "yli 45 000 asukasta" in html


def test_network_name_is_escaped_everywhere(store, tmp_path):
    path = _network(tmp_path, "  - kunta: Juva\n    verrokit: [Sulkava]\n",
                    name="'USO <b>7</b> & co'")
    r = report.start("Juva", verkosto=str(path), store=store)
    cover = report.cover(r).data
    assert "USO &lt;b&gt;7&lt;/b&gt; &amp; co -verkoston jäsen" in cover
    block = report_sections.indicator_block(r, catalog.get("tyottomyysaste"))
    assert "USO &lt;b&gt;7&lt;/b&gt; &amp; co ka." in block and "<b>7</b>" not in block
