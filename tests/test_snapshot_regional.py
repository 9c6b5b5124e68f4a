"""Snapshot builders B: Alueaikasarjat, commuting, elections, welfare and finance.

The figures asserted here are the published ones quoted in ../shared/data/raw/*/SOURCES.md
(Juva 178 unless said otherwise), read back through the embedded snapshot, plus checks that
the builders keep missing figures missing and map merged municipalities as documented.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from uso_lib import catalog, config, regions, snapshot
from uso_lib.errors import DataError, NoData
from uso_lib.snapshot import _to2023, elections, finance
from uso_lib.store import KEY, Store

MY_BUILDERS = ["regional_series", "commuting", "elections", "welfare", "finance"]
CATALOG_FILE = catalog.CATALOG_DIR / "20-regional-welfare.yaml"
ALAND = [m.code for m in regions.registry() if m.maakunta_code == "21"]
MAINLAND = [m.code for m in regions.registry() if m.maakunta_code != "21"]


_CACHE: dict[tuple[int, str, str], dict[tuple[int, str], float]] = {}


def value(store: Store, ind: str, kunta: str, year: int, category: str = "") -> float:
    """A figure from the snapshot store (one store query per indicator and municipality;
    ``Store.get`` is used where a test also checks the provenance)."""
    key = (id(store), ind, kunta)
    if key not in _CACHE:
        rows = store.series(ind, kunta, category=None)
        _CACHE[key] = {(int(y), c): v for y, c, v in zip(rows["year"], rows["category"],
                                                          rows["value"], strict=True)}
    try:
        return _CACHE[key][(year, category)]
    except KeyError:
        raise NoData(f"{ind} {kunta} {year} {category!r} not in the snapshot") from None


# -- Alueaikasarjat 2015/2019 ---------------------------------------------------------------
def test_juva_2019_regional_series(store):
    # SOURCES.md: Juva 2019 in-migration 201, out-migration 251, jobs 1947
    assert value(store, "muutto_ikaryhmittain", "178", 2019, "tulo") == 201
    assert value(store, "muutto_ikaryhmittain", "178", 2019, "lahto") == 251
    ages = ["0-19", "20-39", "40-59", "60-"]
    assert sum(value(store, "muutto_ikaryhmittain", "178", 2019, f"tulo:{a}")
               for a in ages) == 201
    assert (value(store, "muutto_ikaryhmittain", "178", 2019, "lahto:m")
            + value(store, "muutto_ikaryhmittain", "178", 2019, "lahto:n")) == 251
    assert value(store, "tyopaikat_toimialoittain", "178", 2019) == 1947
    # industries given by sex are summed: manufacturing 134 men + 82 women
    assert value(store, "tyopaikat_toimialoittain", "178", 2019, "C") == 216
    assert value(store, "yrittajat", "178", 2019) == 448


def test_commuting_2019_from_the_workbook_and_2016_from_tyokay(store):
    # SOURCES.md: Juva 2019 in-commuters 456, out-commuters 771; 2016 1624 / 477 / 727
    assert value(store, "tulopendelointi", "178", 2019) == 456
    assert value(store, "lahtopendelointi", "178", 2019) == 771
    assert value(store, "asuinkunnassa_tyossakayvat", "178", 2016) == 1624
    assert value(store, "tulopendelointi", "178", 2016) == 477
    assert value(store, "lahtopendelointi", "178", 2016) == 727
    # one source per series-year: 2015 comes from the commuting tables only
    rows = store.series("tulopendelointi", "178")
    assert rows["year"].is_unique
    by_year = rows.set_index("year")["table"]
    assert by_year[2015] == "tyokay" and by_year[2019] == "Alueaikasarjat"
    assert rows["year"].min() == 1987 and 2017 not in set(rows["year"])


def test_population_pyramid_adds_up_to_the_population(store):
    pyramid = store.series("vaesto_ikaryhmittain", "178", category=None)
    y2019 = pyramid[pyramid["year"] == 2019]
    assert len(y2019) == 40  # 20 age groups x 2 sexes
    assert y2019["value"].sum() == 6116  # Juva population 2019
    assert value(store, "vaesto_ikaryhmittain", "178", 2019, "n:95-") == 19


def test_emissions_unit_and_sectors(store):
    total = store.get("kasvihuonekaasupaastot", "178", 2019)
    assert total.value == 85 and total.table == "121z"
    assert "päästökaupan ulkopuoliset" in total.source
    assert catalog.get("kasvihuonekaasupaastot").unit == "1000 t CO2-ekv."
    sectors = ["energia_pl_liikenne", "liikenne", "teollisuus", "maatalous", "jatteet"]
    parts = [value(store, "kasvihuonekaasupaastot", "178", 2019, s) for s in sectors]
    assert parts == [22, 34, 2, 25, 1]
    assert abs(sum(parts) - total.value) <= 2  # published rounded to whole kilotonnes


def test_low_income_rate_is_computed_from_published_counts(store):
    obs = store.get("pienituloisuusaste", "178", 2019)
    assert obs.value == pytest.approx(1026 / 6012 * 100)
    assert "laskettu" in obs.source
    assert value(store, "asuntovaesto_tulokymmenyksittain", "178", 2019) == 6012
    deciles = [value(store, "asuntovaesto_tulokymmenyksittain", "178", 2019, str(i))
               for i in range(1, 11)]
    assert sum(deciles) == 6012


def test_honkajoki_counts_summed_means_left_missing(store):
    # 2015 jobs: Kankaanpää 5103 + Honkajoki 731 = 5834, which is also the 2021-division
    # key-figure series' Kankaanpää 2015 (built from another file by another builder)
    jobs = store.get("tyopaikat_toimialoittain", "214", 2015)
    assert jobs.value == 5834 and "Honkajoki (099" in jobs.source
    assert value(store, "tyopaikat", "214", 2015) == 5834
    # 2019 employment columns were published in the 2021 division: taken as they are
    assert value(store, "tyopaikat_toimialoittain", "214", 2019) == 5339
    assert value(store, "tyopaikat", "214", 2019) == 5339
    assert "myöhemmällä aluejaolla" in store.get("tyopaikat_toimialoittain", "214", 2019).source
    # a median cannot be summed: missing, with the reason
    med = store.get("kotitalouksien_tulot_mediaani", "214", 2019)
    assert med.missing and "keskilukuja" in med.source
    assert value(store, "kotitalouksien_tulot_mediaani", "178", 2019) == 29418
    assert store.rows("kotitalouksien_tulot_mediaani")["kunta"].nunique() == 309
    assert "099" not in set(store.rows("muutto_ikaryhmittain")["kunta"])


def test_enterprise_stock_total_is_the_sum_of_sections(store):
    letters = list(catalog.get("yrityskanta_toimialoittain").categories)
    assert "O" not in letters and len(letters) == 18
    total = store.get("yrityskanta_toimialoittain", "178", 2019)
    assert total.value == sum(value(store, "yrityskanta_toimialoittain", "178", 2019, k)
                              for k in letters) == 510
    assert value(store, "yrityskanta_toimialoittain", "178", 2019, "A") == 97


def test_juva_2015_agrees_with_key_figures(store):
    # two files, two builders, one published figure
    assert value(store, "tyopaikat_toimialoittain", "178", 2015) == value(
        store, "tyopaikat", "178", 2015) == 2151


# -- elections ---------------------------------------------------------------------------
def test_municipal_turnout_2021(store):
    obs = store.get("aanestysaktiivisuus_kuntavaalit", "178", 2021)
    assert obs.value == pytest.approx((1228 + 1264) / 5057 * 100)
    assert round(obs.value, 1) == 49.3
    assert "laskettu" in obs.source and obs.table == "kvaa 12x4"
    assert value(store, "aanestysaktiivisuus_kuntavaalit", "178", 2021, "m") == 48.1
    assert value(store, "aanestysaktiivisuus_kuntavaalit", "178", 2021, "n") == 50.4


def test_municipal_turnout_covers_mainland_and_leaves_aland_missing(store):
    cs = store.cross_section("aanestysaktiivisuus_kuntavaalit", 2021)
    have = cs[cs["value"].notna()]
    assert set(have["kunta"]) == set(MAINLAND) - {"588"}  # Pertunmaa lacks eligible voters
    by_sex = store.cross_section("aanestysaktiivisuus_kuntavaalit", 2021, category="m")
    assert by_sex["value"].notna().sum() == 293
    aland = cs[cs["kunta"].isin(ALAND)]
    assert len(aland) == 16 and aland["value"].isna().all()  # missing, never 0
    assert aland["source"].str.contains("Ahvenanmaalla on omat").all()
    pertunmaa = store.get("aanestysaktiivisuus_kuntavaalit", "588", 2021)
    assert pertunmaa.missing and "äänioikeutettujen" in pertunmaa.source


def test_parliamentary_turnout(store, raw_dir):
    assert value(store, "aanestysaktiivisuus_eduskuntavaalit", "178", 1987) == 78.0
    assert value(store, "aanestysaktiivisuus_eduskuntavaalit", "SSS", 2019) == 72.1
    cs = store.cross_section("aanestysaktiivisuus_eduskuntavaalit", 2019)
    assert len(cs[cs["kunta"] != "SSS"]) == 309  # Åland votes in parliamentary elections
    # Lavia merged into Pori in 2015: 2011 is recomputed for today's Pori from the counts
    df = pd.DataFrame(json.loads((raw_dir / elections.PARLIAMENT).read_text("utf-8")))
    parts = df[(df["Vuosi"] == 2011) & df["Alue"].str.match(r"^(609|413) ")]
    assert len(parts) == 2
    expected = (parts["Äänestäneet Sukupuolet yhteensä"].sum()
                / parts["Äänioikeutetut Sukupuolet yhteensä"].sum() * 100)
    pori = store.get("aanestysaktiivisuus_eduskuntavaalit", "609", 2011)
    assert pori.value == pytest.approx(expected) and "Lavia (413" in pori.source
    assert pori.value != parts["Äänestysprosentti Sukupuolet yhteensä"].iloc[0]


def test_parliamentary_drops_only_municipalities_gone_before_2013(raw_dir):
    _rows, dropped = elections.parliamentary(raw_dir)
    assert len(dropped) == 153
    first = regions.registry(2013)
    for item in dropped:
        code, name = item.split(" ", 1)
        assert code not in first and re.search(r" -\d{2}$", name), item


# -- welfare -----------------------------------------------------------------------------
@pytest.mark.parametrize("ind, expected", [
    ("syrjaytymisriski_nuoret_indeksi", 64.5),
    ("toimeentulotuki_pitkaaikainen_25_64_indeksi", 55.8),
    ("rikokset_henki_terveys_indeksi", 109.3),
    ("tyomarkkinatuki_kuntaosuus_indeksi", 45.9),
    ("nuorisotyottomyys_indeksi", 76.8),
])
def test_diak_indices_juva_window_2019_2021(store, ind, expected):
    obs = store.get(ind, "178", 2021)  # stored under the window's last year
    assert round(obs.value, 1) == expected
    assert "2019–2021" in obs.source and "mediaanikunta" in obs.source
    assert obs.table.endswith("(Diak-indeksi)")
    with pytest.raises(NoData):
        store.get(ind, "178", 2022)


def test_diak_coverage_mainland_only(store):
    cs = store.cross_section("tyomarkkinatuki_kuntaosuus_indeksi", 2021)
    assert set(cs.loc[cs["value"].notna(), "kunta"]) == set(MAINLAND)
    assert cs.loc[cs["kunta"].isin(ALAND), "value"].isna().all()
    assert cs["value"].median() == pytest.approx(100)  # median municipality = 100
    # gaps published as gaps: NEET has 285 values in the last window
    neet = store.cross_section("syrjaytymisriski_nuoret_indeksi", 2021)
    assert neet["value"].notna().sum() == 285 and len(neet) == 309


def test_morbidity_and_kela_shares(store):
    obs = store.get("sairastavuusindeksi", "178")
    assert obs.value == 101.4 and obs.year == 2024 and obs.table == "Sotkanet 5641"
    assert "tilastovuotta ei ilmoiteta" in obs.source and obs.vintage == "2024-06-01"
    assert value(store, "sairastavuusindeksi", "178", 2024, "syopa") == 90.8
    # Pertunmaa is in the June 2024 release (the 2025 one dropped it)
    assert value(store, "sairastavuusindeksi", "588", 2024) == 110.8
    assert value(store, "tmt_kuntaosuus_saajat_osuus", "178", 2024) == pytest.approx(
        1.648, abs=5e-4)
    assert value(store, "perustoimeentulotuki_saajat_osuus", "178", 2024) == pytest.approx(
        2.223, abs=5e-4)


def test_sotkanet_gini_and_child_poverty(store):
    gini = store.series("gini", "178").set_index("year")["value"]
    assert gini.loc[2018:2023].tolist() == [24.3, 25.3, 23.6, 25.1, 25.7, 25.0]
    assert value(store, "lasten_pienituloisuusaste", "178", 2023) == 12.4
    # the export lists the 2025 municipalities; Mäntyharju's figure is its own
    # (Alueaikasarjat: Mäntyharju 26.6, Pertunmaa 28.6 in 2019), Pertunmaa is missing
    assert value(store, "gini", "507", 2019) == 26.6
    pert = store.get("gini", "588", 2019)
    assert pert.missing and "Pertunmaa" in pert.source


# -- finance -----------------------------------------------------------------------------
def test_finance_ratios_2020(store):
    assert value(store, "suhteellinen_velkaantuneisuus", "178", 2020) == 54
    assert value(store, "omavaraisuusaste", "178", 2020) == 63
    kankaanpaa = store.get("omavaraisuusaste", "214", 2020)
    assert kankaanpaa.missing and "Honkajoki" in kankaanpaa.source
    cs = store.cross_section("suhteellinen_velkaantuneisuus", 2020)
    assert len(cs) == 309 and cs["value"].notna().sum() == 308


# -- catalogue ---------------------------------------------------------------------------
def test_catalogue_entries_valid_and_cover_my_rows():
    cat = catalog.load()  # raises on any invalid entry
    mine = [e["id"] for e in yaml.safe_load(CATALOG_FILE.read_text("utf-8"))["indicators"]]
    rows = {cat.get(i).row for i in mine}
    owned = {"2", "5", "6", "8", "10", "13", "14", "15", "16", "17", "18", "19", "21", "22",
             "23"}
    assert owned <= rows
    for required in ("kasvihuonekaasupaastot", "aanestysaktiivisuus_kuntavaalit",
                     "hyte_kerroin", "hyte_eur_as", "valtionosuudet_eur_as"):
        assert required in mine
    hyte = cat.get("hyte_kerroin")
    assert hyte.live.source == "file" and "uso data import" in hyte.how_to_get


def test_relative_indices_flagged_and_never_refreshed_as_rates():
    cat = catalog.load()
    idx = [i for i in cat.indicators if i.id.endswith("_indeksi")
           and i.id != "sairastavuusindeksi"]
    assert len(idx) == 6
    for ind in idx:
        assert ind.relative_index, ind.id
        assert "mediaanikunta = 100" in ind.label, ind.id
        assert ind.live is None or ind.live.source == "none", ind.id
    # the morbidity index is an absolute index (country = 100), not a median index
    assert not cat.get("sairastavuusindeksi").relative_index


def test_every_snapshot_indicator_of_mine_is_in_the_catalogue(store):
    manifest = snapshot.read_manifest()
    cat = catalog.load()
    used_by = store.frame.groupby("indicator")["category"].unique()
    for name in MY_BUILDERS:
        for ind in manifest["builders"][name]["indicators"]:
            assert ind in cat.ids(), (name, ind)
            used = set(used_by[ind]) - {""}
            assert used <= set(cat.get(ind).categories or {}), ind


# -- determinism and errors --------------------------------------------------------------
def test_build_is_deterministic_and_matches_the_committed_snapshot(raw_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    snapshot.build(raw_dir, a, only=["elections", "finance", "welfare"])
    snapshot.build(raw_dir, b, only=["elections", "finance"])
    for name in ("elections", "finance"):
        assert (a / f"{name}.parquet").read_bytes() == (b / f"{name}.parquet").read_bytes()
    for name in ("elections", "finance", "welfare"):
        fresh = pd.read_parquet(a / f"{name}.parquet")
        committed = pd.read_parquet(config.SNAPSHOT_DIR / f"{name}.parquet")
        pd.testing.assert_frame_equal(fresh, committed)  # the committed part is current
        assert not fresh.duplicated(KEY).any()
    manifest = json.loads((a / "MANIFEST.json").read_text("utf-8"))
    assert manifest["builders"]["finance"]["indicators"] == ["omavaraisuusaste",
                                                            "suhteellinen_velkaantuneisuus"]


def test_unknown_name_is_a_clear_error():
    with pytest.raises(DataError, match="'Atlantis' is not a municipality of the 2020"):
        _to2023.names_to_codes(["Juva", "Atlantis"], 2020, where="test.xlsx")


def test_corrupt_finance_file_is_a_clear_error(raw_dir, tmp_path):
    text = (raw_dir / finance.RAW).read_text("utf-8")
    (tmp_path / "recent").mkdir()
    (tmp_path / finance.RAW).write_text(text[: len(text) // 2], "utf-8")
    with pytest.raises(DataError, match="Cannot read recent/municipal_debt_raw.json"):
        finance.build(tmp_path)


def test_voters_file_without_women_column_is_a_clear_error(raw_dir, tmp_path):
    df = pd.read_csv(raw_dir / elections.VOTERS, sep=";", encoding="latin-1", dtype=str)
    (tmp_path / "statfin").mkdir()
    df.drop(columns=["Äänestäneitä naisia"]).to_csv(
        tmp_path / elections.VOTERS, sep=";", encoding="latin-1", index=False)
    (tmp_path / elections.ELIGIBLE).write_bytes((raw_dir / elections.ELIGIBLE).read_bytes())
    with pytest.raises(DataError, match="unexpected columns"):
        elections.municipal(tmp_path)


def test_missing_part_never_becomes_zero():
    # the workbook's 2019 jobs: Kankaanpää 5339, Honkajoki empty (published in 2021 division)
    frame = pd.DataFrame({"kunta": ["214", "099"], "year": [2019, 2019],
                          "jobs": [5339.0, math.nan]})
    strict = _to2023.to_2023(frame, from_division=2020, where="t", values={"jobs": True})
    assert len(strict) == 1 and strict.loc[0, "kunta"] == "214"
    assert math.isnan(strict.loc[0, "jobs"])
    assert strict.loc[0, "jobs@how"] == _to2023.PART_MISSING
    later = _to2023.to_2023(frame, from_division=2020, where="t", values={"jobs": True},
                            empty_part_means_included=True)
    assert later.loc[0, "jobs"] == 5339 and later.loc[0, "jobs@how"] == _to2023.INCLUDED
    # 2015: both published in the 2020 division (5103 + 731)
    both = pd.DataFrame({"kunta": ["214", "099"], "year": [2015, 2015],
                         "jobs": [5103.0, 731.0]})
    summed = _to2023.to_2023(both, from_division=2020, where="t", values={"jobs": True})
    assert summed.loc[0, "jobs"] == 5834 and summed.loc[0, "merged"] == "099"


def test_snapshot_size_within_budget():
    total = sum(p.stat().st_size for p in Path(config.SNAPSHOT_DIR).glob("*.parquet"))
    assert total < snapshot.MAX_TOTAL_BYTES
