"""The comparison engine on real published figures.

The store is built from the real raw files with the project's own snapshot builders (key
figures and population), so every number below is Statistics Finland's: Juva (178) population
2021 = 5887, 2016 = 6421, 2025 = 5569; unemployment 2020 Juva = Kurikka = Sastamala = 11.1 %,
Eurajoki 9.4 %, Imatra 20.6 %, Heinola 17.9 %. Indicators are defined here (not read from the
catalogue) so that each test states the polarity it exercises.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from uso_lib import compare, text
from uso_lib.catalog import Indicator
from uso_lib.errors import NoData
from uso_lib.store import Store

VAESTO = Indicator(id="vaesto", theme="vaestokehitys", row="1", label="Väkiluku",
                   unit="henkeä", decimals=0, polarity="neutral", kind="count", weight=None)
TYOTTOMYYS = Indicator(id="tyottomyysaste", theme="elinvoima", row="7",
                       label="Työttömyysaste", unit="%", decimals=1,
                       polarity="lower_better", kind="rate", weight="vaesto")

# The first ten USO 7 members and their population 31.12.2021 (StatFin 11re)
NETWORK10 = {"Juva": 5887, "Eurajoki": 9334, "Imatra": 25655, "Tornio": 21333,
             "Viitasaari": 6070, "Kannus": 5390, "Kuhmoinen": 2158, "Heinola": 18344,
             "Kuhmo": 7928, "Orivesi": 8978}


@pytest.fixture(scope="module")
def store(keyfigures_store) -> Store:
    return keyfigures_store


def test_juva_population_and_ten_municipality_mean(store):
    others = [n for n in NETWORK10 if n != "Juva"]
    c = compare.compare(VAESTO, "Juva", peers=others, network=list(NETWORK10), year=2021,
                        store=store)
    assert (c.kunta, c.year, c.value) == ("178", 2021, 5887.0)
    net = c.groups["network"]
    assert (net.n_members, net.n_with_data, net.includes_self) == (10, 10, True)
    assert net.mean == pytest.approx(sum(NETWORK10.values()) / 10) == pytest.approx(11107.7)
    assert net.median == pytest.approx((7928 + 8978) / 2)
    peers = c.groups["peers"]  # the peers alone: Juva is compared with them
    assert peers.includes_self is False and peers.n_with_data == 9
    assert peers.mean == pytest.approx((sum(NETWORK10.values()) - 5887) / 9)
    # neutral: the largest is 1; Juva is the 8th largest of the ten
    assert peers.rank == 8 and peers.n_ranked == 10 and c.polarity == "neutral"
    assert text.RANK_BASIS[c.polarity] == "suurin arvo = 1 (ei arvotusta)"
    assert peers.weighted_mean is None  # a count is not weighted
    assert c.country_value == pytest.approx(5548241)  # StatFin 11re, whole country 2021
    assert "11re" in c.source_text and c.source_text.endswith("2021")


def test_ranking_with_ties_lower_is_better(store):
    rk = compare.ranking(TYOTTOMYYS, "Juva", ["Kurikka", "Sastamala", "Eurajoki", "Imatra"],
                         year=2020, store=store)
    assert rk["name"].tolist()[0] == "Eurajoki" and rk["name"].tolist()[-1] == "Imatra"
    assert rk["value"].tolist() == [9.4, 11.1, 11.1, 11.1, 20.6]
    assert rk["rank"].tolist() == [1, 2, 2, 2, 5]  # "min" ties: the next one is 5th
    assert rk["rank_text"].tolist() == ["1", "2=", "2=", "2=", "5"]
    assert rk.loc[rk["highlight"], "name"].tolist() == ["Juva"]
    # the group mean is the members' (Juva excluded): (11.1 + 11.1 + 9.4 + 20.6) / 4
    assert rk.attrs["mean"] == pytest.approx(13.05)
    assert rk["group_mean"].iloc[0] == pytest.approx(13.05)
    assert rk.attrs["n_missing"] == 0 and "pienin" in text.RANK_BASIS[rk.attrs["polarity"]]
    c = compare.compare(TYOTTOMYYS, "Juva", peers=["Kurikka", "Sastamala", "Eurajoki",
                                                   "Imatra"], year=2020, store=store)
    g = c.groups["peers"]
    assert (g.rank, g.rank_text, g.n_ranked) == (2, "2=", 5)


def test_lower_is_better_assessment_and_weighting(store):
    c = compare.compare(TYOTTOMYYS, "Juva", peers=["Imatra", "Heinola"], year=2020,
                        store=store)
    g = c.groups["peers"]
    assert c.value == 11.1
    assert g.mean == pytest.approx((20.6 + 17.9) / 2)
    assert g.rank == 1  # the lowest unemployment ranks first
    assert g.assessment == "better" and text.assessment_fi(g.assessment) == "parempi"
    assert c.assessment == "better"
    # weighted by population 31.12.2020: Imatra 26 075, Heinola 18 497
    assert g.weighted_by == "vaesto 2020"
    assert g.weighted_mean == pytest.approx((20.6 * 26075 + 17.9 * 18497) / (26075 + 18497))
    # the same numbers read as "higher is better" are worse
    hb = TYOTTOMYYS.model_copy(update={"polarity": "higher_better"})
    c2 = compare.compare(hb, "Juva", peers=["Imatra", "Heinola"], year=2020, store=store)
    assert c2.groups["peers"].assessment == "worse" and c2.groups["peers"].rank == 3


def test_assessment_threshold_quarter_sd():
    assert compare.assess(10.0, 10.24, 1.0, "higher_better") == "same"
    assert compare.assess(10.0, 10.26, 1.0, "higher_better") == "worse"
    assert compare.assess(10.0, 10.26, 1.0, "lower_better") == "better"
    assert compare.assess(10.0, 9.7, 1.0, "neutral") == "higher"
    assert compare.assess(None, 9.7, 1.0, "neutral") is None


def test_group_with_missing_members(store):
    # 2025: Mäntyharju (507) and Pertunmaa (588) are published only merged (2025 division)
    c = compare.compare(VAESTO, "Juva", store=store)
    assert (c.year, c.value) == (2025, 5569.0)
    mk = c.groups["maakunta"]
    assert (mk.key, mk.name, text.group_label(mk)) == ("maakunta", "Etelä-Savo",
                                                       "Maakunta: Etelä-Savo")
    assert (mk.n_members, mk.n_with_data) == (12, 10)
    assert sorted(mk.missing) == ["507", "588"]
    have = [1273, 2023, 5569, 4952, 51551, 17124, 2081, 3219, 31008, 2310]
    assert mk.mean == pytest.approx(sum(have) / len(have))  # never filled with 0
    assert mk.n_ranked == 10
    rk = compare.ranking(VAESTO, "Juva", ["Mäntyharju", "Mikkeli", "Pertunmaa"], year=2025,
                         store=store)
    assert rk["name"].tolist() == ["Mikkeli", "Juva", "Mäntyharju", "Pertunmaa"]
    assert rk["rank"].isna().tolist() == [False, False, True, True]
    assert rk["status"].tolist()[2:] == [".", "."]
    assert rk.attrs["n_missing"] == 2 and rk.attrs["mean"] == 51551.0


def test_change_and_indexed_series(store):
    c = compare.compare(VAESTO, "Juva", peers=["Kuhmoinen"], year=2021, store=store)
    ch = c.change
    assert (ch.start, ch.end, ch.start_value, ch.end_value) == (2016, 2021, 6421.0, 5887.0)
    assert ch.absolute == -534.0
    assert ch.pct == pytest.approx((5887 - 6421) / 6421 * 100)
    assert ch.groups["peers"].n == 1
    groups = compare.groups_for("Juva", ["Kuhmoinen", "Rautalampi"], None)
    s = compare.series_frame(VAESTO, "Juva", groups, store=store, base_year=2016,
                             years=range(2016, 2022))
    assert s.loc[2016].tolist() == pytest.approx([100.0] * len(s.columns))
    assert s.loc[2021, "Juva"] == pytest.approx(5887 / 6421 * 100)
    assert list(s.columns[:2]) == ["Juva", "peers"]  # named by key: the report words them


def test_percentile_and_quintiles(store):
    s = pd.Series(np.arange(1.0, 11.0))
    assert compare.quintiles(s).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    ties = pd.Series([1.0, 2.0, 2.0, 2.0, 2.0, 3.0, np.nan])
    q = compare.quintiles(ties)
    assert q.iloc[1:5].nunique() == 1 and q.isna().tolist()[-1]
    assert compare.percentile(s, 5.5) == 50.0
    c = compare.compare(TYOTTOMYYS, "Juva", year=2020, store=store)
    cross = store.table("tyottomyysaste").cross(2020)
    assert len(cross) == 309
    below, equal = (cross < 11.1).sum(), (cross == 11.1).sum()
    assert equal == 3  # Juva, Kurikka, Sastamala
    assert c.percentile == pytest.approx(100 * (below + 1.5) / 309)
    assert c.quintile == compare.quintiles(cross)["178"]
    country = c.groups["country"]
    assert country.rank_text.endswith("=") and country.n_with_data == 309


def test_year_errors_and_fallback(store):
    with pytest.raises(NoData, match="2030"):
        compare.compare(TYOTTOMYYS, "Juva", year=2030, store=store)
    c = compare.compare(TYOTTOMYYS, "Juva", year=2023, store=store, strict_year=False)
    assert c.year == 2020 and c.value == 11.1
    assert c.notes[0] == compare.Note("year_fallback", (2023, 2020))
    assert text.comparison_notes(c)[0] == "Vuodelta 2023 ei ole tietoa; käytetään vuotta 2020."


def test_country_frames_are_cached_per_store(store):
    t1 = store.table("vaesto")
    assert store.table("vaesto") is t1
    y1 = t1.year(2021)
    assert t1.year(2021) is y1 and compare.year_stats(y1) is compare.year_stats(y1)
    members = ("178", "091", "999")  # 999 is no municipality: missing, not filled in
    mv = y1.members(members)
    assert y1.members(members) is mv and mv.missing == ("999",) and len(mv.have) == 2
    assert mv.mean == pytest.approx((5887 + y1.values["091"]) / 2)
    store.reload()
    t2 = store.table("vaesto")
    assert t2 is not t1 and t2.values.equals(t1.values)
    assert compare.year_stats(t2.year(2021)).sd == compare.year_stats(y1).sd


def test_to_dict_is_json_ready(store):
    import json

    c = compare.compare(TYOTTOMYYS, "Juva", peers=["Imatra"], network=["Juva", "Kuhmo"],
                        year=2020, store=store)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["value"] == 11.1 and d["groups"]["network"]["n_with_data"] == 2
    assert d["assessment"] == "better" and d["groups"]["peers"]["members"] == ["153"]
    assert not math.isnan(d["country_sd"])
    assert "assessment_fi" not in d and "rank_basis" not in d  # codes only: no wording
    fi = json.loads(json.dumps(text.with_labels(c)))
    assert fi["assessment_fi"] == "parempi" == fi["groups"]["peers"]["assessment_fi"]
    assert fi["rank_basis"] == "pienin arvo = 1 (pienempi on parempi)"
    assert fi["value"] == 11.1 and "relative_index_label" not in fi


# -- the command line ------------------------------------------------------------------------
@pytest.fixture
def snapshot_env(store, monkeypatch):
    """Point the CLI's embedded snapshot at the store built from the raw files."""
    monkeypatch.setenv("USO_SNAPSHOT_DIR", str(store.snapshot_dir))
    return {"USO_SNAPSHOT_DIR": str(store.snapshot_dir)}


def test_cli_compare_juva_population_json(store, snapshot_env, uso):
    """The issue's example, as a user runs it: Juva's value, the peers used, their mean and
    Juva's rank, agreeing with the store."""
    import json

    r = uso("compare", "Juva", "--indicator", "vaesto", "--year", "2021", "--json",
            env=snapshot_env)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert (d["kunta"], d["name"], d["year"], d["value"]) == ("178", "Juva", 2021, 5887)
    codes = [p["code"] for p in d["peers"]["peers"]]
    assert len(codes) == 9 and "178" not in codes
    assert d["peers"]["method"] == "suggested"  # params/network.yaml gives Juva no verrokit
    pop = store.table("vaesto").cross(2021)
    assert d["peer_mean"] == pytest.approx(pop[codes].mean())
    assert d["rank"] == 1 + int((pop[codes] > 5887).sum()) and d["n_ranked"] == 10
    ranked = [row["kunta"] for row in d["ranking"]]
    assert sorted(ranked) == sorted(codes + ["178"])
    assert d["source"] == "Tilastokeskus, StatFin 11re (väestö 31.12.), 2021"


def test_cli_ranking_table_like_the_brochure(snapshot_env, capsys):
    from uso_lib.cli import main

    rc = main(["compare", "Juva", "--indicator", "tyottomyysaste", "--year", "2020",
               "--peers", "Kurikka,Sastamala,Eurajoki,Imatra"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = [ln for ln in out.splitlines() if ln.strip()]
    body = lines[lines.index(next(ln for ln in lines if ln.startswith("----"))) + 1:]
    assert body[0].split()[:2] == ["1", "Eurajoki"]
    assert [ln.split()[0] for ln in body[1:4]] == ["2=", "2=", "2="]
    assert "» Juva" in out
    # the brochure's group average: the whole ranking, Juva included (#17):
    # (11.1 + 11.1 + 11.1 + 9.4 + 20.6) / 5; the peers alone under their own label
    means = {ln.split("ka.")[0].strip(): ln.split()[-2] for ln in body if " ka. " in ln}
    assert means == {"Vrt. kunnat": "12,7", "Vertailukunnat ilman kuntaa Juva": "13,1"}


def test_cli_whole_picture_and_bad_peers(snapshot_env, capsys):
    from uso_lib.cli import main

    rc = main(["compare", "Juva", "--peers", "Kuhmoinen,Rautalampi", "--network", "none"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "vertailukunnat (annettu parametreissa): Kuhmoinen, Rautalampi" in out
    assert "Väestökehitys" in out and "Kunnan talous" in out
    assert "Juva menetti vuosina 2020–2025 väestöstään" in out
    rc = main(["compare", "Juva", "--peers", "Kuhmoinen,Juva"])
    err = capsys.readouterr().err
    assert rc == 2 and "--peers[2]" in err and "Traceback" not in err


# -- composite indices -------------------------------------------------------------------------
def test_vitality_index_components_and_centring(store):
    from uso_lib import indices

    vi = indices.vitality_index(store)
    used = {c.key: (c.indicator, c.start, c.end) for c in vi.available()}
    assert used == {"vaesto": ("vaesto", 2020, 2025),
                    "tyopaikat": ("tyopaikat", 2015, 2020),
                    "huoltosuhde": ("taloudellinen_huoltosuhde", 2015, 2020),
                    "koulutus": ("korkea_aste_osuus", 2015, 2020)}
    assert any("tulojen" in n.lower() for n in vi.notes)  # no income series: said so
    f = vi.frame
    assert f["value"].mean() == pytest.approx(0, abs=1e-12)
    for key in used:
        assert f[key].mean() == pytest.approx(0, abs=1e-9)
        assert f[key].std(ddof=1) == pytest.approx(1)
    j = vi.for_kunta("Juva")
    raw = {c["key"]: c["raw"] for c in j["components"]}
    assert raw["vaesto"] == pytest.approx((5569 - 5932) / 5932 * 100)  # 2020 -> 2025
    assert raw["tyopaikat"] == pytest.approx((1817 - 2151) / 2151 * 100)
    assert raw["huoltosuhde"] == pytest.approx(178.2 - 171.1)
    assert raw["koulutus"] == pytest.approx(20.2 - 17.7)
    zs = [c["scaled"] for c in j["components"]]
    raw_index = f[list(used)].mean(axis=1)
    assert j["value"] == pytest.approx(sum(zs) / 4 - raw_index.mean())
    # a rise in the dependency ratio counts against: Juva's +7.1 points gives a negative z
    assert raw["huoltosuhde"] > f["huoltosuhde_raw"].mean() and j["components"][2]["scaled"] < 0
    # Pertunmaa has no 2025 population (published merged): three components, still an index
    p = vi.for_kunta("Pertunmaa")
    assert p["n_components"] == 3 and p["value"] is not None
    assert [c["available"] for c in p["components"]] == [False, True, True, True]
    assert indices.vitality_index(store) is vi  # cached per store
    store.reload()  # computed again for the reloaded figures, and the same from the same files
    again = indices.vitality_index(store)
    assert again is not vi and again.frame.equals(vi.frame)


def test_wellbeing_scaling_country_mean_100(store):
    from uso_lib import indices

    wi = indices.wellbeing_index(store, components=[TYOTTOMYYS])
    f = wi.frame
    assert f["tyottomyysaste"].mean() == pytest.approx(100.0)
    mean = store.table("tyottomyysaste").cross(2020).mean()
    # lower is better: 200 - 100 * value / mean (Juva 11.1 % below the mean scores above 100)
    assert f.at["178", "tyottomyysaste"] == pytest.approx(200 - 100 * 11.1 / mean)
    assert f.at["178", "value"] > 100
    assert wi.own_label.startswith("uso:n oma")


def test_counts_are_ranked_but_not_judged(store):
    jobs = Indicator(id="tyopaikat", theme="elinvoima", row="6", label="Työpaikat",
                     unit="työpaikkaa", polarity="higher_better", kind="count", weight=None)
    c = compare.compare(jobs, "Juva", peers=["Imatra", "Heinola"], year=2020, store=store)
    g = c.groups["peers"]
    assert c.value == 1817.0 and g.rank == 3  # ranked by polarity: the fewest jobs is last
    assert g.mean == (8811 + 5879) / 2
    assert g.assessment == "lower" and c.assessment == "lower"  # not "worse": size, not merit
    # the robust spread: a plain SD of jobs (Helsinki!) would call the gap "about the same"
    cross = store.table("tyopaikat").cross(2020)
    q1, q3 = cross.quantile([0.25, 0.75])
    assert c.country_sd == pytest.approx((q3 - q1) / 1.349)
    assert abs(g.difference / cross.std()) < 0.25 < abs(g.difference_sd)


def test_overview_of_the_embedded_snapshot():
    """Every catalogue indicator has a row, figures or a note saying how to get them."""
    from uso_lib import catalog

    st = Store("snapshot")
    ov = compare.overview("Juva", ["Kuhmoinen", "Rautalampi"], ["Juva", "Kuhmo"], store=st)
    assert ov["indicator"].tolist() == catalog.catalog().ids()
    v = ov.set_index("indicator").loc["vaesto"]
    # 2025 population: Juva 5569, Kuhmoinen 1979, Rautalampi 2928; country 5 652 881 (SSS)
    assert (v["year"], v["value"], v["peer_mean"]) == (2025, 5569.0, (1979 + 2928) / 2)
    assert v["country"] == 5652881 and not v["country_is_mean"]
    assert v["peer_rank_text"] == "1" and v["assessment"] == "higher"  # a count: no judgement
    rel = ov[ov["relative_index"]]
    assert len(rel) >= 1 and rel["peer_mean"].isna().all() and rel["country"].isna().all()
    assert rel["peer_rank"].notna().all()  # ranks and direction are kept
    none = ov[~ov["has_data"]]
    assert len(none) >= 1 and none["value"].isna().all()
    assert {n.code for notes in none["note"] for n in notes} <= {"no_data", "categories_only"}
    # the engine gives codes; the wording layer says them (a relative index: what it means)
    fi = text.overview_labels(ov)
    assert (fi.loc[rel.index, "note"] == text.RELATIVE_INDEX_LABEL).all()
    assert fi.loc[none.index, "note"].str.len().gt(10).all()
    assert fi.at[ov.index[ov["indicator"] == "vaesto"][0], "assessment_fi"] == "korkeampi"
    y21 = compare.overview("Juva", ["Kuhmoinen"], None, year=2021, store=st,
                           indicators=["vaesto"])
    assert (y21.at[0, "year"], y21.at[0, "value"]) == (2021, 5887.0)
