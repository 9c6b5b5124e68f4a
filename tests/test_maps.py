"""Maps drawn from real figures: population 31.12.2021 (StatFin 11re) for all 309 municipalities.

The draw cost is tested by counting collections and patches (one collection per layer, never one
artist per municipality), not by timing.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from uso_lib import geo
from uso_lib.errors import DataError, NoData, OutputError, ParamsError, UnknownMunicipality
from uso_lib.regions import registry
from uso_lib.viz import maps

PEERS = ["051", "153", "851", "272"]  # Eurajoki, Imatra, Tornio, Kokkola
NBSP = "\u00a0"
RANGE = re.compile(r"^\d{1,3}(\u00a0\d{3})* – \d{1,3}(\u00a0\d{3})*\u00a0henkeä$")


@pytest.fixture(scope="module")
def vaesto_2021(raw_dir) -> pd.DataFrame:
    """Store rows of population 2021: from the embedded snapshot when it has been built,
    otherwise read from the same published table (11re) in ../shared."""
    from uso_lib.store import Store

    try:
        rows = Store("snapshot").cross_section("vaesto", 2021)
    except (DataError, NoData):
        rows = pd.DataFrame()
    if len(rows) >= 309:
        return rows
    df = pd.read_csv(raw_dir / "recent/statfin_vaerak_pxt_11re_all.derived.csv", dtype=str)
    df = df[df["Vuosi"] == "2021"]
    return pd.DataFrame({
        "indicator": "vaesto", "kunta": df["Alue"].str.removeprefix("KU"), "year": 2021,
        "category": "", "value": df["vaesto"].astype(float), "status": "",
        "source": "Tilastokeskus, StatFin 11re", "table": "11re"})


def _by_gid(ax, gid: str) -> list:
    return [c for c in ax.collections if c.get_gid() == gid]


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_real_population_data_is_what_we_think(vaesto_2021):
    juva = vaesto_2021.loc[vaesto_2021["kunta"] == "178", "value"]
    assert juva.tolist() == [5887.0]


def test_choropleth_of_population_draws_one_fill_collection(vaesto_2021):
    fig = maps.choropleth(vaesto_2021, highlight="Juva", outline=PEERS,
                          title="Väkiluku 31.12.2021", unit="henkeä")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    fills = [c for c in ax.collections if isinstance(c, PathCollection)
             and c.get_array() is not None]
    assert len(fills) == 1 and fills[0].get_gid() == "fill"
    assert len(fills[0].get_paths()) == 309  # every municipality has a 2021 figure
    assert _by_gid(ax, "no-data") == []
    # fill, region borders, peer outlines, highlight: four collections, no per-polygon patches
    assert sorted(c.get_gid() for c in ax.collections) == ["borders", "fill", "highlight",
                                                           "peers"]
    assert len(ax.patches) == 0
    hi = _by_gid(ax, "highlight")[0]
    assert len(hi.get_paths()) == 1
    assert to_hex(hi.get_edgecolor()[0]) == maps.HIGHLIGHT_COLOR
    juva_poly = geo.municipalities().geometry["178"]
    assert np.allclose(hi.get_paths()[0].vertices.min(axis=0), juva_poly.bounds[:2])
    assert len(_by_gid(ax, "peers")[0].get_paths()) == 4


def test_choropleth_legend_is_finnish_quintiles(vaesto_2021):
    fig = maps.choropleth(vaesto_2021, highlight="178", outline=PEERS, unit="henkeä")
    labels = _legend(fig.axes[0])
    classes, markers = labels[:5], labels[5:]
    assert all(RANGE.match(lab) for lab in classes), classes
    assert classes[0].endswith(f"658{NBSP}457{NBSP}henkeä")  # Helsinki tops the highest class
    assert markers == ["Juva", maps.PEERS_LABEL]
    assert maps.NO_DATA not in labels


def test_choropleth_names_the_municipality_and_peers_and_credits_sources(vaesto_2021):
    fig = maps.choropleth(vaesto_2021, highlight="178", outline=PEERS, unit="henkeä")
    texts = _texts(fig.axes[0])
    for name in ("Juva", "Eurajoki", "Imatra", "Tornio", "Kokkola"):
        assert name in texts
    credit = [t for t in texts if geo.ATTRIBUTION in t]
    assert len(credit) == 1
    assert "Tilastokeskus" in credit[0] and "11re" in credit[0] and "(2021)" in credit[0]


def test_quintiles_hold_a_fifth_each_and_place_juva_in_the_middle(vaesto_2021):
    vals, _ = maps.map_values(vaesto_2021)
    cls = maps.classify(vals, "quintile", unit="henkeä")
    # ranks split 309 into fifths; Vesilahti (922) and Juuka (176) both had 4 444
    # inhabitants at the 2nd/3rd class boundary, and ties share a class
    assert cls.counts == [62, 63, 61, 62, 61]
    assert vals["922"] == vals["176"] == 4444
    assert int(cls.index["922"]) == int(cls.index["176"]) == 1
    assert int(cls.index["178"]) == 2  # Juva, 5887 inhabitants
    assert int(cls.index["091"]) == 4
    lo, hi = (float(x.replace(NBSP, "")) for x in
              cls.labels[2].removesuffix(f"{NBSP}henkeä").split(" – "))
    assert lo <= 5887 <= hi


def test_missing_municipalities_are_hatched_and_called_ei_tietoa(vaesto_2021):
    lappi = {m.code for m in registry().in_group("maakunta", "19")}
    rows = vaesto_2021[~vaesto_2021["kunta"].isin(lappi)]
    fig = maps.choropleth(rows, highlight="178", outline=["851"], unit="henkeä")
    ax = fig.axes[0]
    fill, = _by_gid(ax, "fill")
    nodata, = _by_gid(ax, "no-data")
    assert len(fill.get_paths()) == 309 - len(lappi)
    assert len(nodata.get_paths()) == len(lappi) == 21
    assert nodata.get_array() is None and nodata.get_hatch()
    labels = _legend(ax)
    assert labels.count(maps.NO_DATA) == 1
    assert labels.index(maps.NO_DATA) == 5  # after the five classes


def test_a_missing_value_stays_missing_never_low(vaesto_2021):
    rows = vaesto_2021.copy()
    # the value of Juva withdrawn (as a publisher's ".." would be): NaN, not a class
    rows.loc[rows["kunta"] == "178", ["value", "status"]] = [np.nan, ".."]
    vals, _ = maps.map_values(rows)
    cls = maps.classify(vals)
    assert "178" not in cls.index.index and sum(cls.counts) == 308
    fig = maps.choropleth(rows, highlight="178")
    nodata, = _by_gid(fig.axes[0], "no-data")
    assert len(nodata.get_paths()) == 1


def test_ties_share_a_class_and_empty_classes_leave_the_legend():
    # kuntaryhmitys 2023 as a number: 59 urban (1), 63 semi-urban (2), 187 rural (3)
    reg = registry().frame().set_index("code")
    vals = reg["kuntaryhmitys_code"].astype(float)
    cls = maps.classify(vals, "quintile")
    for code in (1.0, 2.0, 3.0):
        assert cls.index[vals == code].nunique() == 1
    assert cls.counts == [122, 187, 0, 0, 0]
    fig = maps.choropleth(vals)
    assert _legend(fig.axes[0]) == ["3", "1 – 2"]


def test_explicit_breaks(vaesto_2021):
    vals, _ = maps.map_values(vaesto_2021)
    cls = maps.classify(vals, [1000, 5000, 20000], unit="henkeä")
    assert cls.labels == [f"alle 1{NBSP}000{NBSP}henkeä",
                          f"1{NBSP}000 – 5{NBSP}000{NBSP}henkeä",
                          f"5{NBSP}000 – 20{NBSP}000{NBSP}henkeä",
                          f"vähintään 20{NBSP}000{NBSP}henkeä"]
    assert int(cls.index["178"]) == 2
    assert sum(cls.counts) == 309
    with pytest.raises(ParamsError, match="increasing"):
        maps.classify(vals, [5000, 1000])
    with pytest.raises(ParamsError, match="unknown classes"):
        maps.classify(vals, "kvintiili")


def test_series_input_accepts_codes_in_any_form(vaesto_2021):
    rows = vaesto_2021[vaesto_2021["kunta"] != "SSS"]
    s = pd.Series(rows["value"].to_numpy(), index=["KU" + k for k in rows["kunta"]])
    vals, source = maps.map_values(s)
    assert source is None and vals["178"] == 5887 and len(vals) == 309
    vals2, _ = maps.map_values(pd.Series([5887.0], index=[178]))
    assert vals2.to_dict() == {"178": 5887.0}


def test_bad_values_are_clear_errors(vaesto_2021):
    with pytest.raises(DataError, match="map_code") as err:
        maps.map_values(pd.Series([2000.0], index=["099"]))  # Honkajoki, merged in 2021
    assert "099" in str(err.value)
    two_years = pd.concat([vaesto_2021, vaesto_2021.assign(year=2020)])
    with pytest.raises(DataError, match="several year values"):
        maps.choropleth(two_years)
    with pytest.raises(NoData):
        maps.choropleth(pd.Series([np.nan], index=["178"]))
    with pytest.raises(DataError, match="several rows"):
        maps.map_values(pd.Series([1.0, 2.0], index=["178", "KU178"]))
    with pytest.raises(UnknownMunicipality, match="Did you mean"):
        maps.choropleth(vaesto_2021, highlight="Juvaa")


def test_regional_close_up_of_etela_savo(vaesto_2021):
    fig = maps.regional("178", vaesto_2021, peers=PEERS + ["171"], unit="henkeä")
    ax = fig.axes[0]
    members = {m.code for m in registry().in_group("maakunta", "10")}
    names = set(_texts(ax))
    member_names = {m.name_fi for m in registry().in_group("maakunta", "10")}
    assert len(members) == 12 and member_names <= names
    assert "Joroinen" in names  # a peer next door, in Pohjois-Savo since 2021
    assert "Tornio" not in names  # a peer far outside the view is not drawn
    fill, = _by_gid(ax, "fill")
    assert 12 < len(fill.get_paths()) < 80  # the region and its neighbours, not the country
    assert len(_by_gid(ax, "highlight")) == 1 and len(_by_gid(ax, "region")) == 1
    assert len(ax.collections) <= 6 and len(ax.patches) == 0
    region = geo.regions("maakunta").geometry["10"]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bx0, by0, bx1, by1 = region.bounds
    assert x0 < bx0 and bx1 < x1 and y0 < by0 and by1 < y1
    assert RANGE.match(_legend(ax)[0])
    assert any(geo.ATTRIBUTION in t for t in _texts(ax))


def test_regional_without_values_and_by_wellbeing_county():
    fig = maps.regional("Tornio", level="hyvinvointialue", label=None)
    ax = fig.axes[0]
    assert [t for t in _texts(ax) if geo.ATTRIBUTION not in t] == ["Tornio"]
    assert ax.get_legend() is None
    with pytest.raises(ParamsError, match="level"):
        maps.regional("178", level="kunta")


def test_locator_marks_municipality_peers_and_region():
    fig = maps.locator("178", peers=PEERS)
    ax = fig.axes[0]
    fill, = _by_gid(ax, "fill")
    assert len(fill.get_paths()) == 309
    colors = [to_hex(c) for c in fill.get_facecolor()]
    codes = list(geo.municipalities().index)
    assert colors[codes.index("178")] == maps.HIGHLIGHT_COLOR
    assert colors[codes.index("051")] == colors[codes.index("272")] != maps.HIGHLIGHT_COLOR
    assert colors[codes.index("491")] != colors[codes.index("091")]  # Mikkeli is in the region
    assert _legend(ax) == ["Juva", maps.PEERS_LABEL, "Etelä-Savo"]
    assert len(ax.collections) <= 4 and len(ax.patches) == 0
    assert any(geo.ATTRIBUTION in t for t in _texts(ax))


def test_without_credit_the_maps_leave_source_and_boundaries_to_the_page(vaesto_2021):
    figs = [maps.choropleth(vaesto_2021, highlight="178", outline=PEERS, credit=False),
            maps.regional("178", vaesto_2021, peers=PEERS, credit=False),
            maps.locator("178", peers=PEERS, credit=False)]
    for fig in figs:
        texts = _texts(fig.axes[0])
        assert not [t for t in texts if geo.ATTRIBUTION in t or "Tilastokeskus" in t], texts
        assert fig.subplotpars.bottom == pytest.approx(0.01)  # no empty band for it either
    assert "Juva" in _texts(figs[0].axes[0])  # the names are still there


def test_reused_base_draws_the_same_pixels_as_a_fresh_map(vaesto_2021):
    """The report's theme maps keep each region's coloured base (viz.layers) and draw only the
    municipality's outlines, names and legend on it: the PNG must be the one a map drawn from
    scratch gives, for the first municipality (base drawn) and for its neighbours (reused)."""
    from uso_lib.viz import export, layers

    layers.clear()
    kw = {"level": "maakunta", "classes": [2000, 5000, 20000], "unit": "henkeä",
          "title": "Väkiluku 2021", "credit": False}
    seen = set()
    for code, peers in (("178", PEERS), ("491", ["178", "171"]), ("178", []), ("851", PEERS)):
        fresh = export.to_png_bytes(maps.regional(code, vaesto_2021, peers=peers, **kw), dpi=100)
        fig = maps.regional(code, vaesto_2021, peers=peers, reuse=True, **kw)
        assert isinstance(fig, layers.LayeredFigure) and fig.overlay
        seen.add(id(fig))
        reused = export.to_png_bytes(fig, dpi=100)
        assert reused == fresh, code
        assert not fig.overlay and not fig.in_use  # closed: the overlay removed, base kept
    assert len(seen) == 2  # Juva, Mikkeli and Juva again share Etelä-Savo's base; Tornio not

    # a base still in use (not yet turned into a PNG) is not drawn over: a figure of its own
    first = maps.regional("178", vaesto_2021, peers=PEERS, reuse=True, **kw)
    second = maps.regional("491", vaesto_2021, reuse=True, **kw)
    assert second is not first and not isinstance(second, layers.LayeredFigure)
    assert "Juva" in _texts(first.axes[0]) and "Mikkeli" in _texts(second.axes[0])
    export.close(first)
    # other values make another base (the key holds the classes of every municipality)
    other = vaesto_2021.assign(value=vaesto_2021["value"] * 3)
    assert maps.regional("491", other, reuse=True, **kw) is not first
    # a size given as a list (not hashable) still finds its base
    listed = maps.regional("178", vaesto_2021, reuse=True, figsize=[6.4, 5.2], **kw)
    assert isinstance(listed, layers.LayeredFigure)
    export.close(listed)
    layers.clear()


def test_maps_draw_into_a_given_axes(vaesto_2021):
    fig = Figure(figsize=(8, 7))
    a1, a2 = fig.subplots(1, 2)
    assert maps.choropleth(vaesto_2021, ax=a1) is fig
    assert maps.locator("178", ax=a2) is fig
    assert len(_by_gid(a1, "fill")) == 1 and len(_by_gid(a2, "fill")) == 1


def test_save_writes_a_png_atomically(vaesto_2021, tmp_path):
    fig = maps.choropleth(vaesto_2021, highlight="178", unit="henkeä")
    out = maps.save(fig, tmp_path / "kartat" / "178-juva-vaesto.png", dpi=80)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["178-juva-vaesto.png"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="Cannot write the map"):
        maps.save(fig, blocker / "map.png")
