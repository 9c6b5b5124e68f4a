"""The Statistics Finland snapshot parts (population, vital, projection, keyfigures,
unemployment): figures read back through the store match the published examples, the
division rules hold, missing stays missing, and the build is deterministic.

Values are asserted through ``Store("snapshot")`` (the committed parquet files); a few
builders are also run on the raw files to check determinism and cross-file agreement.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyreadr
import pytest

from uso_lib import catalog, regions, store
from uso_lib.errors import DataError, NoData
from uso_lib.snapshot import _statfin, population, unemployment, vital
from uso_lib.store import Store

pytestmark = pytest.mark.timeout(120)

MY_PARTS = ["population", "vital", "projection", "keyfigures", "unemployment"]


@pytest.fixture(scope="module")
def snap() -> Store:
    return Store("snapshot")


def val(s: Store, ind: str, kunta: str, year: int, category: str = "") -> float:
    return s.get(ind, kunta, year, category).value


# -- population ---------------------------------------------------------------------------
@pytest.mark.parametrize("kunta,year,expected", [
    ("178", 2017, 6334), ("178", 2019, 6116), ("178", 2021, 5887), ("178", 2022, 5769),
    ("178", 2023, 5734), ("091", 2022, 664028),
])
def test_population_published_values(snap, kunta, year, expected):
    obs = snap.get("vaesto", kunta, year)
    assert obs.value == expected
    assert obs.table == "11re" and "StatFin 11re" in obs.source
    assert obs.origin == "snapshot" and obs.vintage == "2025-03-19"


def test_population_2021_covers_every_municipality_and_the_country(snap):
    cs = snap.cross_section("vaesto", 2021)
    assert set(cs["kunta"]) == set(regions.registry().codes()) | {"SSS"}
    assert len(cs) == 310 and cs["value"].notna().all()
    # the country is the sum of its municipalities
    munis = cs.loc[cs["kunta"] != "SSS", "value"].sum()
    assert cs.loc[cs["kunta"] == "SSS", "value"].item() == munis


def test_population_2024_is_the_labelled_preliminary_figure(snap):
    obs = snap.get("vaesto", "178", 2024)
    assert obs.value == 5673
    assert obs.table == "11lj" and "ennakkotieto 2024M12" in obs.source
    obs25 = snap.get("vaesto", "178", 2025)
    assert obs25.value == 5569 and "Kuntien avainluvut" in obs25.source
    assert snap.get("vaesto", "SSS", 2025).value == 5652881  # sum of the 308 municipalities


@pytest.mark.parametrize("year", [2024, 2025])
def test_2025_division_figures_are_not_passed_off_as_2023_division(snap, year):
    for kunta in ("507", "588"):
        obs = snap.get("vaesto", kunta, year)
        assert obs.missing and obs.status == "."
        assert "Pertunmaa (588)" in obs.source and "2025-aluejaossa" in obs.source
        chg = snap.get("vaesto_muutos_pct", kunta, year)
        assert chg.missing and chg.status == "."
    # the 2023 figures of both are the 11re ones
    assert snap.get("vaesto", "507", 2023).value == 5522
    assert snap.get("vaesto", "588", 2023).value == 1577


def test_population_change_is_derived_and_agrees_with_the_key_figures(snap, raw_dir):
    obs = snap.get("vaesto_muutos_pct", "178", 2022)
    assert obs.value == pytest.approx((5769 / 5887 - 1) * 100, abs=1e-3)
    assert "laskettu" in obs.source
    # Kuntien avainluvut publishes the same change rounded to 0.1
    a = pd.read_csv(raw_dir / "recent/Kuntien_avainluvut_20221108-aikasarja.csv", sep="\t",
                    na_values=[".."])
    pub = a[a["Tiedot"] == "Väkiluvun muutos edellisestä vuodesta, %"]
    codes = _statfin.codes_for_names(pub["Alue 2021"], 2021, file="avainluvut",
                                     allow_unmatched=pub["Alue 2021"])
    pub = pub[pub["Alue 2021"].isin(list(codes))]
    pub = pub.assign(kunta=pub["Alue 2021"].map(codes)).set_index("kunta")["2021"]
    ours = snap.cross_section("vaesto_muutos_pct", 2021).set_index("kunta")["value"]
    diff = (ours.reindex(pub.index).round(1) - pub).abs()
    assert len(pub) == 309 and diff.max() <= 0.1 + 1e-9 and (diff < 1e-9).sum() >= 305


# -- vital statistics and migration -------------------------------------------------------
def test_vital_statistics_juva(snap):
    assert val(snap, "syntyneet", "178", 2022) == 28
    assert val(snap, "kuolleet", "178", 2022) == 144
    assert val(snap, "luonnollinen_vaestonlisays", "178", 2022) == -116
    assert val(snap, "nettomuutto", "178", 2022) == -14
    assert val(snap, "nettomaahanmuutto", "178", 2022) == 12
    # 11ae and 11a2 agree for Juva 2017 (the snapshot takes 2017 from 11ae)
    assert [val(snap, i, "178", 2017) for i in ("tulomuutto", "lahtomuutto", "nettomuutto")] \
        == [195, 240, -45]
    assert snap.get("tulomuutto", "178", 2017).table == "11ae"
    assert snap.get("tulomuutto", "178", 2009).table == "11a2"


def test_net_migration_2023_is_the_sum_of_the_months(snap):
    obs = snap.get("nettomuutto", "178", 2023)
    assert obs.value == -40 and obs.table == "12w7" and "summa" in obs.source
    with pytest.raises(NoData):
        snap.get("syntyneet", "178", 2023)  # 11ae ends in 2022: no invented year


def test_12w7_months_sum_to_the_11ae_year_for_every_municipality(snap, raw_dir):
    months = vital._from_12w7(raw_dir, 2022).set_index("kunta")["value"]
    year = snap.cross_section("nettomuutto", 2022).set_index("kunta")["value"]
    assert len(months) == 309
    pd.testing.assert_series_equal(months.sort_index(), year.reindex(months.index).sort_index(),
                                   check_names=False)


def test_merged_municipalities_are_summed_into_the_2023_division(snap, raw_dir):
    raw = pyreadr.read_r(raw_dir / vital.F_11A2)["dat_muuttotiedot_kunnittain"]
    raw = raw[raw["Vuosi"] == 2009].assign(kunta=raw["kunta_no"].astype(str))
    for into, old in (("214", "099"), ("541", "911")):  # Honkajoki, Valtimo
        for ind in ("tulomuutto", "lahtomuutto", "nettomuutto"):
            parts = raw[raw["kunta"].isin([into, old]) & (raw["Tiedot"] == ind)]["values"]
            assert len(parts) == 2
            obs = snap.get(ind, into, 2009)
            assert obs.value == parts.sum()
            assert "yhdistyneiden kuntien summa" in obs.source
    assert "099" not in set(snap.rows("tulomuutto")["kunta"])
    # an unmerged municipality keeps its plain source
    assert "summa" not in snap.get("tulomuutto", "178", 2009).source


# -- projections --------------------------------------------------------------------------
def test_projection_2024_totals_and_age_groups(snap):
    for year, expected in ((2024, 5646), (2035, 4855), (2040, 4605)):
        obs = snap.get("vaestoennuste", "178", year)
        assert obs.value == expected and obs.table == "14wx" and "100+" in obs.source
    five = snap.series("vaestoennuste", "178", category=None)
    five = five[five["year"] == 2040]
    groups = [f"{a}-{a + 4}" for a in range(0, 100, 5)]
    assert five.set_index("category").loc[groups, "value"].sum() == 4605
    assert set(catalog.get("vaestoennuste").categories) == set(five["category"]) - {""}


def test_projection_2019_and_its_merged_municipalities(snap, raw_dir):
    for year, expected in ((2019, 6127), (2020, 6034), (2021, 5943)):
        assert val(snap, "vaestoennuste_2019", "178", year) == expected
    # 128v uses the 2019 division: Kankaanpää 2030 = Kankaanpää + Honkajoki
    raw = pyreadr.read_r(raw_dir / "statfin/pop_fore_dat.rda")["pop_fore_dat"]
    tot = raw[(raw["ika"] == 999) & (raw["time"] == 2030)]
    tot = tot.set_index(tot["alue"].astype(str))["vaesto_e19"]
    obs = snap.get("vaestoennuste_2019", "214", 2030)
    assert obs.value == tot["214"] + tot["099"] and "yhdistyneiden" in obs.source
    # 75+ includes 100+ in this projection
    s = snap.series("vaestoennuste_2019", "178", category=None).query("year == 2030")
    by = s.set_index("category")["value"]
    assert by["75+"] == by[["75-79", "80-84", "85-89", "90-94", "95-99", "100+"]].sum()


def test_service_need_change(snap):
    base = val(snap, "vaestoennuste", "178", 2024, "85+")
    later = val(snap, "vaestoennuste", "178", 2040, "85+")
    obs = snap.get("palvelutarpeiden_muutos", "178", 2040, "85+")
    assert (base, later) == (324, 464)
    assert obs.value == pytest.approx((464 / 324 - 1) * 100, abs=1e-3)
    assert "laskettu" in obs.source


# -- key figures --------------------------------------------------------------------------
@pytest.mark.parametrize("ind,expected", [
    ("tyottomyysaste", 11.1), ("tyopaikkaomavaraisuus", 85.2), ("vuosikate_eur_as", 895.3),
    ("lainakanta_eur_as", 3614.6), ("konsernin_lainakanta_eur_as", 5859.2),
])
def test_key_figures_juva_2020(snap, ind, expected):
    obs = snap.get(ind, "178", 2020)
    assert obs.value == expected and obs.table == "Kuntien avainluvut"


def test_key_figures_keep_municipalities_only_and_the_country_row(snap):
    rows = snap.rows("tyopaikkaomavaraisuus")
    assert set(rows["kunta"]) == set(regions.registry().codes()) | {"SSS"}
    assert val(snap, "tyottomyysaste", "SSS", 2020) == 13.3
    assert val(snap, "tyopaikkaomavaraisuus", "SSS", 2020) == 100.0
    # an item that is not published for a year is absent, not 309 invented blanks
    assert 2021 not in snap.years("tyottomyysaste")
    with pytest.raises(NoData):
        snap.get("vuosikate_eur_as", "178", 2021)
    assert snap.get("vuosikate_eur_as", "178").year == 2020  # latest with data


# -- unemployment -------------------------------------------------------------------------
def test_unemployment_december_values(snap):
    obs = snap.get("tyottomat_tyonhakijat_osuus", "178", 2021)
    assert obs.value == 9.6 and "joulukuu" in obs.source and "laskettu" not in obs.source
    assert val(snap, "tyottomat_tyonhakijat", "178", 2021) == 238
    assert val(snap, "tyovoima", "178", 2021) == 2492
    assert val(snap, "tyovoima", "178", 2023) == 2378
    assert val(snap, "tyottomat_tyonhakijat_osuus", "178", 2024) == 9.3


def test_unemployment_merged_pair_is_computed_or_missing(snap):
    obs = snap.get("tyottomat_tyonhakijat_osuus", "507", 2021)
    assert obs.value == 10.5 and "laskettu" in obs.source  # 232 / 2209
    for year in (2023, 2024):
        gone = snap.get("tyottomat_tyonhakijat_osuus", "507", year)
        assert gone.missing and gone.status == "." and "Pertunmaa" in gone.source


def test_suppressed_rate_stays_missing_not_zero(snap):
    obs = snap.get("tyottomat_tyonhakijat_osuus", "062", 2021)  # suppressed in 12r5
    assert obs.missing and math.isnan(obs.value)
    assert obs.to_dict()["value"] is None


def test_computed_rate_matches_the_published_rate(raw_dir):
    counts = unemployment._counts(raw_dir)
    dec = unemployment._december(counts)
    published = unemployment.rate(raw_dir, dec)
    pub = published[published["source"] == unemployment.SRC_RATE].set_index(["kunta", "year"])
    calc = dec.assign(r=100 * dec["TYOTTOMATLOPUSSA"] / dec["TYOVOIMATK"]).set_index(
        ["kunta", "year"])["r"]
    both = pub.join(calc, how="inner").dropna(subset=["value", "r"])
    assert len(both) > 4000
    assert (both["value"] - both["r"]).abs().max() <= 0.05 + 1e-9  # rounding only
    # Juva October 2023 as published: 189 / 2378 = 7.9 %
    oct23 = counts[(counts["kunta"] == "178") & (counts["year"] == 2023)
                   & (counts["month"] == 10)].set_index("tiedot")["value"]
    assert round(100 * oct23["TYOTTOMATLOPUSSA"] / oct23["TYOVOIMATK"], 1) == 7.9


# -- determinism, joins, catalogue, CLI ---------------------------------------------------
@pytest.mark.parametrize("mod,name", [(population, "population"), (vital, "vital")])
def test_build_is_deterministic_and_matches_the_committed_snapshot(raw_dir, mod, name):
    def built() -> pd.DataFrame:
        df = store.normalize(mod.build(raw_dir))
        return df.sort_values(store.KEY, kind="stable").reset_index(drop=True)

    first, second = built(), built()
    pd.testing.assert_frame_equal(first, second)
    committed = pd.read_parquet(Store("snapshot").snapshot_dir / f"{name}.parquet")
    committed = store.normalize(committed).sort_values(store.KEY, kind="stable")
    pd.testing.assert_frame_equal(first, committed.reset_index(drop=True))


def test_name_join_fails_loudly_and_accepts_ku_names():
    codes = _statfin.codes_for_names(["Juva", "Kuhmo", "Kuhmoinen", "Maarianhamina"], 2023,
                                     file="x.csv")
    assert codes == {"Juva": "178", "Kuhmo": "290", "Kuhmoinen": "291",
                     "Maarianhamina": "478"}
    with pytest.raises(DataError, match=r"x\.csv.*Juvaa"):
        _statfin.codes_for_names(["Juva", "Juvaa"], 2023, file="x.csv")
    with pytest.raises(DataError, match="no municipality in the 2023 division"):
        _statfin.forward_map(["178", "999"], 2017, file="y.rda")
    assert _statfin.forward_map(["099", "911", "178"], 2017, file="y.rda") == {
        "099": "214", "911": "541", "178": "178"}


def test_every_snapshot_indicator_is_catalogued_with_its_raw_files(snap, raw_dir):
    manifest = json.loads((snap.snapshot_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    cat = catalog.catalog()
    rows_covered = set()
    for part in MY_PARTS:
        for ind_id in manifest["builders"][part]["indicators"]:
            ind = cat.get(ind_id)
            rows_covered.add(ind.row)
            assert ind.has_offline, ind_id
            for f in ind.offline.files:
                assert (raw_dir / f).is_file(), (ind_id, f)
    assert {"1", "3", "4", "6", "7", "9", "11", "12", "19", "20"} <= rows_covered
    assert cat.get("muuton_suunnat").how_to_get  # 1b: live only, says how to get it
    assert cat.get("opetus_kulttuuri_nettokustannukset_eur_as").offline.proxy


def test_every_figure_has_provenance_and_gaps_stay_missing(snap):
    manifest = json.loads((snap.snapshot_dir / "MANIFEST.json").read_text(encoding="utf-8"))
    mine = {i for p in MY_PARTS for i in manifest["builders"][p]["indicators"]}
    df = snap.frame[snap.frame["indicator"].isin(mine)]
    assert set(df["indicator"]) == mine
    assert (df["source"] != "").all() and (df["table"] != "").all()
    assert df["vintage"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    assert np.isfinite(df["value"].dropna()).all()
    # the known gaps are NaN rows, never zeros: suppressed 12r5 cells and the 507/588 years
    gaps = df[df["value"].isna()]
    assert {"tyottomat_tyonhakijat_osuus", "vaesto"} <= set(gaps["indicator"])
    assert (gaps.loc[gaps["status"] == ".", "kunta"].isin(["507", "588"])).all()


def test_cli_data_get_subprocess(uso):
    """As a user runs it (one subprocess: the CLI's start-up is the slow part)."""
    res = uso("data", "get", "vaesto", "--kunta", "Juva", "--year", "2021", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["value"] == 5887 and out["kunta"] == "178" and out["origin"] == "snapshot"
    assert out["source"] == "Tilastokeskus, StatFin 11re (väestö 31.12.)"
    assert out["table"] == "11re" and out["year"] == 2021


def test_cli_data_get(capsys):
    """In process, in one test: the store is loaded once (conftest resets it per test)."""
    from uso_lib.cli import main

    cases = [
        (("vaesto", "--kunta", "091", "--year", "2022"), 664028),
        (("tyottomyysaste", "--kunta", "Juva", "--year", "2020"), 11.1),
        (("tyopaikkaomavaraisuus", "--kunta", "Juva", "--year", "2020"), 85.2),
        (("vaesto", "--kunta", "Mäntyharju", "--year", "2024"), None),
    ]
    for args, expected in cases:
        assert main(["data", "get", *args, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["value"] == expected and out["origin"] == "snapshot", args
        assert out["source"].startswith("Tilastokeskus")
        if expected is None:
            assert out["status"] == "."  # missing, with the reason in the source
            assert "Pertunmaa" in out["source"]
