"""One map per theme (#17): a regional close-up coloured by mapclassify's national quintiles,
the municipality and its peers outlined, missing municipalities shown as missing, the source,
table and year in the caption (Juva, Etelä-Savo)."""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image

from uso_lib import report
from uso_lib.report import theme_maps
from uso_lib.store import Store

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def juva() -> report.Report:
    return report.start("Juva", store=Store("snapshot"))


def test_breaks_are_mapclassify_quintiles_of_the_country(juva):
    rows = juva.store.cross_section("lainakanta_eur_as", 2020)
    rows = rows[rows["kunta"] != "SSS"]
    b = theme_maps.breaks(rows["value"])
    assert len(b) == 4 and b == sorted(b)
    counts = [int((rows["value"] <= x).sum()) for x in b]
    # each class holds about a fifth of the 309 municipalities
    assert all(abs(c - (i + 1) * 309 / 5) <= 3 for i, c in enumerate(counts))


@pytest.mark.parametrize("theme, indicator_label, year", [
    ("vaestokehitys", "Väkiluvun muutos edellisestä vuodesta", "2025"),
    ("elinvoima", "Työttömien työnhakijoiden osuus työvoimasta, joulukuu", "2024"),
    ("hyvinvointi", "Lasten pienituloisuusaste", "2023"),
    ("talous", "Lainakanta", "2020"),
    ("ymparisto", "Kasvihuonekaasupäästöt (päästökaupan ulkopuoliset) asukasta kohden",
     "2019"),
])
def test_every_theme_has_its_map(juva, theme, indicator_label, year):
    html = theme_maps.theme_map_html(juva, theme)
    assert html.startswith('<div class="uso-theme-map"><figure class="uso-figure"><img src="'
                           'data:image/png;base64,')
    assert f'alt="{indicator_label} {year}: Juva ja maakunta Etelä-Savo"' in html
    cap = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", html).group(1)
    assert cap.startswith("Lähde: ") and f"({year})" in cap and "MML" in cap
    assert "mapclassify" in html and "ei tietoa" in html
    png = base64.b64decode(re.search(r"base64,([^\"]+)\"", html).group(1))
    assert Image.open(io.BytesIO(png)).size[0] > 400
    assert len(png) < 120_000  # five maps stay well within the report's 3 MB


def test_emissions_per_resident_say_how_they_were_derived(juva):
    html = theme_maps.theme_map_html(juva, "ymparisto")
    assert "Laskettu: Tilastokeskus, StatFin 121z" in html and "väkiluku 31.12." in html
    juva_t = (juva.store.get("kasvihuonekaasupaastot", "178", 2019).value * 1000
              / juva.store.get("vaesto", "178", 2019).value)
    assert 5 < juva_t < 50  # tonnes per resident, not thousands of tonnes


def test_theme_sections_open_with_the_map(juva):
    for theme in theme_maps.THEME_MAPS:
        html = report.theme_section(juva, theme).data
        assert html.count('class="uso-theme-map"') == 1
        assert html.index("uso-theme-map") < html.index('class="uso-theme"')
