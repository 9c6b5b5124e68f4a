"""Finnish highlight sentences and number formatting, on real figures: the brochure's HYTE-€
ranking (Iisalmi 19,7 € ... Raahe 11,4 €, "Vrt. kunnat ka. 17,1 €") and Statistics Finland's
population and key figures for Juva (178): 6421 (2016) -> 5887 (2021); Kuhmoinen 2286 -> 2158;
Rautalampi 3288 -> 3033; 2020 annual margin Juva 895,3 €/as., loan stock 3 614,6 €/as."""

from __future__ import annotations

import pytest

from uso_lib import compare, fmt, text
from uso_lib.catalog import Indicator
from uso_lib.store import Store

NBSP = "\u00a0"
MINUS = "\u2212"
# The brochure's comparison: HYTE-€ 2020 of ten municipalities
HYTE_EUR = {"Iisalmi": 19.7, "Kokkola": 19.2, "Oulu": 18.7, "Raisio": 18.5, "Kemi": 17.0,
            "Riihimäki": 17.0, "Rovaniemi": 16.8, "Tornio": 16.6, "Kuusamo": 16.4,
            "Raahe": 11.4}

UNEMPLOYMENT = Indicator(id="tyottomyysaste", theme="elinvoima", row="7",
                         label="Työttömien osuus työvoimasta", unit="%", decimals=1,
                         polarity="lower_better", kind="rate")
MARGIN = Indicator(id="vuosikate_eur_as", theme="talous", row="19", label="Vuosikate",
                   unit="€/as.", decimals=1, polarity="higher_better", kind="per_capita")
LOANS = Indicator(id="lainakanta_eur_as", theme="talous", row="20", label="Lainakanta",
                  unit="€/as.", decimals=1, polarity="lower_better", kind="per_capita")
TERTIARY = Indicator(id="korkea_aste_osuus", theme="elinvoima", row="11",
                     label="Korkea-asteen tutkinnon suorittaneet", unit="%", decimals=1,
                     polarity="higher_better", kind="rate")


@pytest.fixture(scope="module")
def store(keyfigures_store) -> Store:
    return keyfigures_store


def test_finnish_number_formats():
    assert fmt.with_unit(19.7, "€", 1) == f"19,7{NBSP}€"
    assert fmt.number(5887) == f"5{NBSP}887"
    assert text.figure(5887, "henkeä", 0) == f"5{NBSP}887"
    assert text.figure(11.1, "%", 1) == f"11,1{NBSP}%"
    assert text.figure(3614.6, "€/as.", 1) == f"3{NBSP}614,6{NBSP}€/as."
    assert text.figure(None, "%", 1) == "–"


def test_brochure_group_mean_is_plain_mean():
    mean = sum(HYTE_EUR.values()) / len(HYTE_EUR)
    assert mean == pytest.approx(17.13)
    assert f"Vrt. kunnat ka. {text.figure(mean, '€', 1)}" == f"Vrt. kunnat ka. 17,1{NBSP}€"


def test_lower_first():
    assert text.lower_first("Työttömyysaste") == "työttömyysaste"
    assert text.lower_first("HYTE-kerroin") == "HYTE-kerroin"


def test_population_sentences(store):
    s = text.population_sentences("Juva", ["Kuhmoinen", "Rautalampi"], year=2021, store=store)
    peers_pct = ((2158 - 2286) / 2286 + (3033 - 3288) / 3288) / 2 * 100  # -6.68 %
    assert fmt.percent(abs(peers_pct)) == f"6,7{NBSP}%"
    assert s[0] == (f"Juva menetti vuosina 2016–2021 väestöstään 8,3{NBSP}% ({MINUS}534 "
                    f"asukasta), kun vertailukuntien väkiluku väheni samana aikana keskimäärin "
                    f"6,7{NBSP}%.")
    # Juva lost the largest share of the three
    assert s[1].endswith("Väkiluvun muutoksella mitattuna Juva on 3 kunnan vertailuryhmässä "
                         "sijalla 3.")
    assert s[1].startswith("Väestökehitys oli vertailukuntien keskiarvo")


def test_contrast_sentences_follow_the_assessment(store):
    peers = ["Kuhmoinen", "Rautalampi", "Viitasaari"]
    ov = compare.overview("Juva", peers, None, store=store,
                          indicators=[UNEMPLOYMENT, MARGIN, LOANS, TERTIARY])
    by = ov.set_index("indicator")
    # 2020: margin 969.0 / 315.4 / 549.5, loans 1791.3 / 4111.4 / 2230.8, unemployment 14/12/15
    assert by.at["vuosikate_eur_as", "peer_mean"] == pytest.approx((969.0 + 315.4 + 549.5) / 3)
    assert by.at["lainakanta_eur_as", "peer_mean"] == pytest.approx(
        (1791.3 + 4111.4 + 2230.8) / 3)
    assert by["assessment"].to_dict() == {"tyottomyysaste": "better",
                                          "vuosikate_eur_as": "better",
                                          "lainakanta_eur_as": "worse",
                                          "korkea_aste_osuus": "same"}
    better, worse = text.contrast_sentences(ov, "Juva")
    assert better == (f"Juva erottuu vertailukunnista edukseen: vuosikate 895,3{NBSP}€/as. "
                      f"(vertailukunnat ka. 611,3{NBSP}€/as.; 2020) ja työttömien osuus "
                      f"työvoimasta 11,1{NBSP}% (vertailukunnat ka. 13,7{NBSP}%; 2020).")
    assert worse == (f"Juva jää vertailukunnista jälkeen: lainakanta 3{NBSP}614,6{NBSP}€/as. "
                     f"(vertailukunnat ka. 2{NBSP}711,2{NBSP}€/as.; 2020).")
    assert "korkea" not in better + worse  # "about the same" is not called out


def test_comparison_sentence(store):
    c = compare.compare(UNEMPLOYMENT, "Juva", peers=["Imatra", "Heinola"], year=2020,
                        store=store)
    assert text.comparison_sentence(c) == (
        f"Työttömien osuus työvoimasta 11,1{NBSP}% (2020); vertailukuntien keskiarvo "
        f"19,3{NBSP}%, sija 1/3 (pienin arvo = 1): parempi kuin vertailuryhmässä.")


def test_highlights_without_peers_has_population_only(store):
    out = text.highlights("Juva", None, year=2021, store=store)
    assert out == [f"Juva menetti vuosina 2016–2021 väestöstään 8,3{NBSP}% ({MINUS}534 "
                   "asukasta)."]


def test_thousand_units_are_written_out():
    assert text.figure(24, "1000 t CO2-ekv.", 0) == f"24{NBSP}000{NBSP}t CO2-ekv."
    assert text.figure(21442, "1000 €", 0) == f"21{NBSP}442{NBSP}000{NBSP}€"
    assert text.figure(None, "1000 €", 0) == "–"
