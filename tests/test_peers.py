"""Suggested and given comparison municipalities, on the real structural figures (population
StatFin 11re/11lj/avainluvut, key figures 2020/2021 from Kuntien avainluvut)."""

from __future__ import annotations

import json
import math

import pytest

from uso_lib import peers, regions
from uso_lib.errors import ParamsError, UnknownMunicipality
from uso_lib.store import Store


@pytest.fixture(scope="module")
def store(keyfigures_store) -> Store:
    return keyfigures_store


def test_suggest_nine_for_juva(store):
    s = peers.suggest("Juva", store=store)
    assert s.kunta == "178" and len(s.peers) == 9
    assert "178" not in s.codes() and len(set(s.codes())) == 9
    d = [p.distance for p in s.peers]
    assert d == sorted(d) and d[0] > 0
    # the profile is the real one: population 2025 (avainluvut M411) and the 2021/2020 shares
    assert s.profile["vaesto"] == 5569
    assert s.profile["yli64_osuus"] == 37.3 and s.profile["alle15_osuus"] == 11.4
    assert s.profile["tyollisyys"] == 71.6 and s.profile["tyopaikkaomavaraisuus"] == 85.2
    years = {f.key: f.year for f in s.features}
    assert years["vaesto_log"] == 2025 and years["tyollisyys"] == 2020
    # rural like Juva: the structural group is part of the profile
    reg = regions.registry()
    assert sum(reg.get(c).kuntaryhmitys_code == "3" for c in s.codes()) >= 8
    assert peers.suggest("Juva", store=store).codes() == s.codes()  # deterministic


def test_explanation_adds_up(store):
    """Each peer's distance is the RMS of the z-differences it reports, and each difference
    is the raw profile difference over the feature's SD."""
    s = peers.suggest("Juva", store=store)
    info = {f.key: f for f in s.features}
    for p in s.peers:
        diffs = [v for v in p.differences.values() if v is not None]
        assert p.distance == pytest.approx(math.sqrt(sum(x * x for x in diffs) / len(diffs)),
                                           abs=1e-3)
        for key in ("yli64_osuus", "taloudellinen_huoltosuhde"):
            expect = (p.profile[key] - s.profile[key]) / info[key].sd
            assert p.differences[key] == pytest.approx(expect, abs=2e-3)
    json.dumps(s.to_dict())  # JSON-ready


def test_exclude_and_k(store):
    first = peers.suggest("Juva", k=3, store=store)
    again = peers.suggest("Juva", k=3, store=store, exclude=[first.codes()[0]])
    assert first.codes()[0] not in again.codes()
    assert again.codes()[:2] == first.codes()[1:3]
    with pytest.raises(ParamsError, match="positive"):
        peers.suggest("Juva", k=0, store=store)


def test_distance_feature_when_geo_available(store):
    pytest.importorskip("geopandas")
    s = peers.suggest("Juva", store=store, use_distance=True)
    keys = [f.key for f in s.features]
    if "etaisyys_km" not in keys:
        pytest.fail(f"the geo polygons are installed but no distance was used: {s.notes}")
    km = [p.profile["etaisyys_km"] for p in s.peers]
    assert all(k > 0 for k in km)
    # weighing distance pulls the peers closer than the pure profile does
    from_juva = peers._centroid_km("178")
    plain = peers.suggest("Juva", store=store)
    assert sum(km) / 9 < from_juva[plain.codes()].mean()
    assert km == pytest.approx(from_juva[s.codes()].round(2).tolist())
    d = json.loads(json.dumps(s.to_dict()))
    assert d["peers"][0]["profile"]["etaisyys_km"] > 0


def test_given_peers_are_validated():
    sel = peers.resolve_peers("Juva", "Rantasalmi, 740, kuhmoinen")
    assert sel.method == "params" and sel.codes() == ["681", "740", "291"]
    assert [p.name_fi for p in sel.peers] == ["Rantasalmi", "Savonlinna", "Kuhmoinen"]
    with pytest.raises(ParamsError, match=r"verrokit\[2\].*its own comparison"):
        peers.resolve_peers("Juva", ["Rantasalmi", "Juva"])
    with pytest.raises(ParamsError, match=r"verrokit\[3\].*listed twice"):
        peers.resolve_peers("178", ["Rantasalmi", "Kuhmoinen", "RANTASALMI"])
    with pytest.raises(UnknownMunicipality, match="entry 2") as err:
        peers.resolve_peers("Juva", ["Rantasalmi", "Jyvaskyllä"])
    assert "Jyväskylä" in err.value.suggestions


def test_no_given_peers_means_suggested(store):
    sel = peers.resolve_peers("Juva", [], store=store)
    assert sel.method == "suggested" and len(sel.codes()) == 9
    assert sel.suggestion is not None and sel.codes() == sel.suggestion.codes()
    assert sel.to_dict()["method_fi"].startswith("ehdotettu")


def test_cli_peers_juva_json(store, uso):
    r = uso("peers", "Juva", "--json", env={"USO_SNAPSHOT_DIR": str(store.snapshot_dir)})
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["kunta"] == "178" and len(d["peers"]) == 9
    assert all(p["code"] != "178" and p["name"] != "Juva" for p in d["peers"])
    for p in d["peers"]:
        assert p["distance"] > 0 and p["profile"]["vaesto"] > 0
        assert set(p["profile"]) == set(d["profile"])
    assert d["peers"] == peers.suggest("Juva", store=store).to_dict()["peers"]
