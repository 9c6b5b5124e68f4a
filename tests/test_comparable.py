"""Comparable measures (#17): vital events per 1 000 residents derived in the snapshot with their
numerator and denominator named, the whole country's counts as national totals (births 2022:
44 951, StatFin 11ae summed over the 309 municipalities), and the report's "Koko maa" column
holding national figures only, the brochure's "Vrt. kunnat ka." the mean of the whole ranking."""

from __future__ import annotations

import re

import pytest

from uso_lib import report
from uso_lib.snapshot import vital

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def juva(store) -> report.Report:
    return report.start("Juva", store=store)


def test_country_counts_are_national_totals(store):
    births = store.get("syntyneet", "SSS", 2022)
    assert births.value == 44951.0 and "koko maa = kuntien summa" in births.source
    muni = store.rows("syntyneet")
    muni = muni[(muni["year"] == 2022) & (muni["kunta"] != "SSS") & (muni["category"] == "")]
    assert len(muni) == 309 and muni["value"].sum() == 44951.0
    # intermunicipal moves cancel out over the whole country
    assert store.get("nettomuutto", "SSS", 2022).value == 0.0


def test_a_partial_sum_is_no_national_total(store):
    rows = store.rows("syntyneet")
    rows = rows[(rows["year"] == 2022) & (rows["kunta"] != "SSS") & (rows["category"] == "")]
    full = vital.country_sums(rows, "x")
    assert full["value"].tolist() == [44951.0]
    assert vital.country_sums(rows[rows["kunta"] != "178"], "x").empty


def test_rates_name_numerator_and_denominator(store):
    juva = store.get("syntyneet_1000as", "178", 2022)
    assert juva.value == pytest.approx(28 / 5769 * 1000, abs=1e-4)
    assert juva.source == ("Laskettu: elävänä syntyneet (Tilastokeskus, StatFin 11ae "
                           "(väestönmuutokset)) / väkiluku 31.12. samalta vuodelta "
                           "(Tilastokeskus, StatFin 11re (väestö 31.12.)) × 1 000")
    assert juva.table == "11ae / 11re"
    # the country's rate: national births over the national population, not a mean of rates
    country = store.get("syntyneet_1000as", "SSS", 2022)
    assert country.value == pytest.approx(44951 / 5563970 * 1000, abs=1e-4)
    rates = store.rows("syntyneet_1000as")
    rates = rates[(rates["year"] == 2022) & (rates["kunta"] != "SSS")]
    assert abs(rates["value"].mean() - country.value) > 0.1  # the two really differ


def _row(html: str, label: str) -> list[str]:
    m = re.search(r"<tr[^>]*><td>(?:<a[^>]*>)?" + re.escape(label) + r"(?:</a>)?(.*?)</tr>",
                  html)
    assert m, label
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                   m.group(1))]


def test_summary_koko_maa_is_national_and_births_compared_per_1000(juva):
    html = report.summary_table(juva).data
    head = re.findall(r"<th[^>]*>([^<]*)</th>", html.split("</thead>")[0])
    assert head[:4] == ["Mittari", "Vuosi", "Juva", "Vrt. kunnat ka."]
    assert head[-4:] == ["Koko maa", "Kuntien ka.", "Sija vrt.", "Arvio"]
    births = dict(zip(head[1:], _row(html, "Elävänä syntyneet"), strict=True))
    assert births["Vuosi"] == "2022" and births["Koko maa"] == f"44{NBSP}951"
    assert births["Kuntien ka."] == "–"  # a mean count compares nothing
    # nor is a count ranked or assessed against municipalities of other sizes
    assert births["Vrt. kunnat ka."] == "–" and births["Sija vrt."] == "–"
    assert births["Arvio"] == "–" and births["Juva"] == "28"
    rate = dict(zip(head[1:], _row(html, "Elävänä syntyneet / 1 000 asukasta"), strict=True))
    assert rate["Juva"].startswith("4,9") and rate["Koko maa"].startswith("8,1")
    # a count without a national figure: no mean of municipalities under "Koko maa"
    yrittajat = dict(zip(head[1:], _row(html, "Yrittäjät (kunnassa asuvat)"), strict=True))
    assert yrittajat["Koko maa"] == "–" and yrittajat["Kuntien ka."] == "–"
    # a rate without one: the municipalities' mean in its own column
    child = dict(zip(head[1:], _row(html, "Lasten pienituloisuusaste"), strict=True))
    assert child["Koko maa"] == "–" and child["Kuntien ka."].endswith("%")


def test_vrt_kunnat_is_the_mean_of_the_whole_ranking(juva):
    html = report.summary_table(juva).data
    head = re.findall(r"<th[^>]*>([^<]*)</th>", html.split("</thead>")[0])
    row = juva.overview_row("tyottomyysaste")
    cells = dict(zip(head[1:], _row(html, "Työttömien osuus työvoimasta (työssäkäyntitilasto)"),
                     strict=True))
    expected = (row["peer_mean"] * row["peer_n"] + row["value"]) / (row["peer_n"] + 1)
    assert cells["Vrt. kunnat ka."] == f"{expected:.1f}".replace(".", ",") + f"{NBSP}%"


def test_theme_compares_vital_events_per_1000(juva):
    html = report.theme_section(juva, "vaestokehitys").data
    assert "<h3>Syntyneet ja kuolleet 1 000 asukasta kohden</h3>" in html
    assert "<h3>Kuntien välinen muutto 1 000 asukasta kohden</h3>" in html
    assert "<h3>Maahan- ja maastamuutto 1 000 asukasta kohden</h3>" in html
    block = html.split("<h3>Syntyneet ja kuolleet 1 000 asukasta kohden</h3>")[1]
    block = block.split("</section>")[0]
    assert "Laskettu: elävänä syntyneet" in block and "väkiluku 31.12." in block
    assert "<th class=num>Vrt. kunnat ka.</th>" in block
    assert "<th class=num>Koko maa</th>" in block


def test_commuting_as_shares_from_one_table_and_year(store):
    # Juva 2016 (tyokay): 1 624 working in Juva, 477 in-commuters, 727 out-commuters
    inn = store.get("tulopendelointi_osuus", "178", 2016)
    out = store.get("lahtopendelointi_osuus", "178", 2016)
    assert inn.value == pytest.approx(477 / (1624 + 477) * 100, abs=1e-4)
    assert out.value == pytest.approx(727 / (1624 + 727) * 100, abs=1e-4)
    assert inn.source.startswith("Laskettu: kuntaan muualta töihin tulevat / "
                                 "(asuinkunnassaan työssäkäyvät + kuntaan muualta töihin "
                                 "tulevat) × 100 (Tilastokeskus, työssäkäyntitilasto")
    # the country: in- and out-commuting are the same moves, so the two shares agree
    c_in, c_out = (store.get(i, "SSS", 2016).value
                   for i in ("tulopendelointi_osuus", "lahtopendelointi_osuus"))
    assert c_in == pytest.approx(c_out) and 30 < c_in < 40
    assert "koko maa = kuntien summa" in store.get("tulopendelointi_osuus", "SSS", 2016).source
    # 2019 from the Alueaikasarjat workbook, said so
    assert "Alueaikasarjat" in store.get("tulopendelointi_osuus", "178", 2019).source


def test_commuting_shares_block_in_the_vitality_theme(juva):
    html = report.theme_section(juva, "elinvoima").data
    block = html.split("<h3>Pendelöinti osuuksina</h3>")[1].split("</section>")[0]
    assert "Muualta töihin tulevien osuus kunnan työpaikoista" in block
    assert "Muualle töihin lähtevien osuus kunnan työllisistä asukkaista" in block
