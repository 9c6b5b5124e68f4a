"""The indicator catalogue's live definitions against the evidence they name.

The M-codes below are the ``Tiedot`` values of the recorded metadata of
``Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja.px`` (tuopouk/key_figures_in_finland
``assets/municipality_meta.json``, 2025 release, English texts); codes are facts, copied here so
that the check needs no network.
"""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from uso_lib import catalog
from uso_lib.snapshot import keyfigures

RECORDED_M_CODES = {
    "M411": "Population", "M476": "Population change from the previous year, %",
    "M391": "Persons aged under 15, %", "M421": "Persons aged 15 to 64, %",
    "M478": "Persons aged 64 or over, %", "M404": "Swedish-speaking, %",
    "M410": "Foreign citizens, %", "M408": "Degree of urbanisation, %",
    "M303": "Excess of births, persons", "M297": "Intermunicipal migration gain/loss, persons",
    "M302": "Families", "M44": "Household-dwelling units",
    "M62": "Household-dwelling units living in terraced houses and detached houses, %",
    "M70": "Household-dwelling units living in rental dwellings, %",
    "M488": "Share of persons aged 15 or over with at least upper secondary qualifications, %",
    "M486": "Persons with tertiary level qualifications, share of persons aged 15 or over, %",
    "M485": "Economic dependency ratio", "M151": "Workplace self-sufficiency",
    "M137": "Employed labour force resident in the area",
    "M536": "Employment rate of persons aged 20 to 64, %",
    "M130": "Employees working in their municipality of residence, share of employed "
            "persons, %",
    "M162": "Share of unemployed persons in the labour force, %",
    "M78": "Share of pensioners in the population, %", "M152": "Jobs in the area",
    "M72": "Share of jobs in primary production, %",
    "M84": "Share of jobs in secondary production, %", "M106": "Share of jobs in services, %",
}
KEY_FIGURE_TABLE = "uusin/kuntien_avainluvut_aikasarja"
# the item each catalogue id must name (issue #14, checked against the English texts above)
EXPECTED = {
    "alle15_osuus": "M391", "ika15_64_osuus": "M421", "yli64_osuus": "M478",
    "ruotsinkielisten_osuus": "M404", "ulkomaan_kansalaisten_osuus": "M410",
    "tyopaikat": "M152", "alkutuotanto_osuus": "M72", "jalostus_osuus": "M84",
    "palvelut_osuus": "M106", "tyottomyysaste": "M162", "tyollisyysaste_20_64": "M536",
    "tyollinen_tyovoima": "M137", "elakelaisten_osuus": "M78",
    "taloudellinen_huoltosuhde": "M485", "tyopaikkaomavaraisuus": "M151",
    "omassa_kunnassa_tyossakayvat_osuus": "M130", "tutkinto_osuus": "M488",
    "korkea_aste_osuus": "M486",
}


def live_entries():
    return [i for i in catalog.catalog().indicators if i.live is not None]


def test_every_confirmed_entry_names_its_evidence():
    confirmed = [i for i in live_entries() if i.live.confirmed]
    assert len(confirmed) >= 30  # 18 key figures, 11re, 14wx and the Sotkanet ids
    for ind in confirmed:
        ev = ind.live.evidence or ""
        # a repository and a path, or the publisher's page
        assert ("/" in ev.split()[0] and len(ev.split()) > 1) or ev.startswith("http"), ind.id


def test_confirmed_without_evidence_is_refused():
    with pytest.raises(ValidationError, match="confirmed: true needs evidence"):
        catalog.LiveSource(source="sotkanet", indicator=127, confirmed=True)
    with pytest.raises(ValidationError, match="source: none needs a note"):
        catalog.LiveSource(source="none")
    with pytest.raises(ValidationError):
        catalog.LiveSource(source="pxweb", database="StatFin", table="12r5", period="monthly")


def test_key_figures_use_recorded_m_codes_in_the_time_series_table():
    key = [i for i in live_entries() if i.live.source == "pxweb"
           and i.live.database == "Kuntien_avainluvut"]
    assert {i.id: i.live.content for i in key} == EXPECTED
    for ind in key:
        live = ind.live
        assert live.table == KEY_FIGURE_TABLE and live.content in RECORDED_M_CODES, ind.id
        assert live.confirmed and "key_figures_in_finland" in live.evidence, ind.id
        assert live.content_label is None and live.table_query is None, ind.id
        assert live.period == "year", ind.id


def test_items_that_left_the_table_say_why():
    for ind_id in ("opetus_kulttuuri_nettokustannukset_eur_as",
                   "sosiaali_terveys_nettokustannukset_eur_as", "konsernin_lainakanta_eur_as",
                   "tyollisyysaste"):
        live = catalog.get(ind_id).live
        assert live.source == "none" and "Kuntien avainluvut" in live.note, ind_id
    # the old employment rate keeps its snapshot item; the 20-64 rate is its own indicator
    assert keyfigures.ITEMS["tyollisyysaste"][0] == "Työllisyysaste, %"
    assert "20-64" in catalog.get("tyollisyysaste_20_64").label
    # the two finance items the snapshot shares with Sotkanet stay Sotkanet's
    for ind_id in ("vuosikate_eur_as", "lainakanta_eur_as"):
        assert catalog.get(ind_id).live.source == "sotkanet"


def test_statfin_shapes_named_in_the_issue():
    assert catalog.get("nettomuutto").live.content == "muutl-vm43_netto"
    assert catalog.get("nettomaahanmuutto").live.content == "muutl-vm4142"
    proj = catalog.get("vaestoennuste").live
    assert (proj.table, proj.content, proj.confirmed) == ("14wx", "vaesto_e24", True)
    firms = catalog.get("yrityskanta_toimialoittain").live
    assert (firms.table, firms.content, firms.period) == ("11yq", "yrityskanta", "q4")
    deciles = catalog.get("asuntovaesto_tulokymmenyksittain").live
    assert deciles.category_variable == "Tulokymmenys" and deciles.content
    median = catalog.get("tulot_kulutusyksikko_mediaani")
    assert median.live.content == "tjt-ekvikturaha_med"
    assert "kulutusyksikköä kohti" in median.label
    for ind_id in ("tyottomat_tyonhakijat_osuus", "tyottomat_tyonhakijat", "tyovoima"):
        live = catalog.get(ind_id).live
        assert live.period == "december" and not live.selections, ind_id
    morbidity = catalog.get("sairastavuusindeksi").live
    assert morbidity.indicator == 5641 and not morbidity.confirmed
    assert "243" in morbidity.note and "244" in morbidity.note


def test_yaml_files_open_with_their_evidence():
    for path in sorted(catalog.CATALOG_DIR.glob("[1-9]*.yaml")):
        head = path.read_text(encoding="utf-8").split("\nindicators:", 1)[0]
        assert "Evidence" in head, path.name
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]
