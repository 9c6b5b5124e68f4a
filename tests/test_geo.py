"""Map polygons: the committed GeoParquet files, the loader, and the builder that derives them."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from uso_lib import geo
from uso_lib.errors import DataError, ParamsError
from uso_lib.regions import registry
from uso_lib.snapshot import geo as geo_builder


@pytest.fixture
def kunnat() -> gpd.GeoDataFrame:
    return geo.municipalities()


def test_municipalities_are_the_309_of_2023_with_registry_attributes(kunnat):
    assert len(kunnat) == 309
    assert kunnat.crs.to_epsg() == 3067
    assert sorted(kunnat.index) == registry(2023).codes()
    assert all(isinstance(c, str) and len(c) == 3 and c.isdigit() for c in kunnat["code"])
    assert kunnat.geometry.is_valid.all()
    assert set(kunnat.geom_type) <= {"Polygon", "MultiPolygon"}
    juva = kunnat.loc["178"]
    assert (juva["name_fi"], juva["maakunta_code"], juva["seutukunta_code"],
            juva["hyvinvointialue_code"], juva["kuntaryhmitys_code"]) == (
        "Juva", "10", "105", "12", "3")
    assert kunnat.loc["272", "name_sv"] == "Karleby"


def test_polygons_are_land_not_sea(kunnat):
    # land + fresh water of Finland is about 338 000 km²; with sea areas it would be ~390 900
    total_km2 = kunnat.area.sum() / 1e6
    assert 335_000 < total_km2 < 341_000
    # Helsinki: 214 km² land (+ islands/fresh water), 730 km² with its sea area
    assert 200 < kunnat.area["091"] / 1e6 < 300
    # Kokkola's MML polygon is 2754 km² with sea; its land + fresh water is 1493 km²
    assert kunnat.area["272"] / 1e6 == pytest.approx(1493, rel=0.06)


def test_areas_agree_with_mml_land_and_fresh_water(kunnat, raw_dir):
    mml = gpd.read_file(raw_dir / "geo/kuntarajat.2023.json").set_index("NATCODE")
    land = (mml["LANDAREA"] + mml["FRESHWAREA"]).reindex(kunnat.index)
    ratio = (kunnat.area / 1e6) / land
    assert ratio.median() == pytest.approx(1.0, abs=0.01)
    assert kunnat.area["178"] / 1e6 == pytest.approx(1345.69, rel=0.03)  # Juva


def test_borders_coincide_and_neighbours_match_mml(kunnat, raw_dir):
    assert shapely.coverage_is_valid(kunnat.geometry.to_numpy())
    # an independent source (MML 2023, EPSG:4326) gives Juva the same neighbours
    mml = gpd.read_file(raw_dir / "geo/kuntarajat.2023.json").to_crs(3067).set_index("NATCODE")
    hits = mml.index[mml.sindex.query(mml.geometry["178"], predicate="intersects")]
    assert geo.neighbours("Juva") == sorted(c for c in hits if c != "178")
    assert geo.neighbours("178") == ["171", "491", "593", "623", "681", "768"]


@pytest.mark.parametrize(("level", "count"), [("maakunta", 19), ("seutukunta", 69),
                                              ("hyvinvointialue", 23), ("maa", 1)])
def test_dissolved_regions_follow_the_registry(level, count, kunnat):
    reg = geo.regions(level)
    assert len(reg) == count
    assert reg.crs.to_epsg() == 3067
    assert reg.geometry.is_valid.all()
    assert reg.area.sum() == pytest.approx(kunnat.area.sum(), rel=1e-4)
    if level != "maa":
        assert set(reg.index) == set(kunnat[f"{level}_code"])


def test_region_names_and_membership(kunnat):
    mk = geo.regions("maakunta")
    assert mk.at["10", "name"] == "Etelä-Savo"
    assert geo.regions("seutukunta").at["192", "name"] == "Kemi-Tornio"
    hva = geo.regions("hyvinvointialue")
    assert set(hva.index) >= {"90", "91"}  # Helsinki and Åland stand alone
    juva = kunnat.geometry["178"]
    assert mk.geometry["10"].contains(juva.representative_point())
    assert mk.geometry["10"].intersection(juva).area == pytest.approx(juva.area, rel=1e-6)


def test_wellbeing_counties_match_statistics_finland_polygons(raw_dir):
    """Dissolved from municipalities, the counties coincide with the published 1:4.5M ones."""
    ref = gpd.read_file(raw_dir / "geo/hyvinvointialueet2023.gpkg").set_index("hyvinvoint")
    ours = geo.regions("hyvinvointialue")
    assert set(ours.index) == set(ref.index)
    for code in ours.index:
        a, b = ours.geometry[code], ref.geometry[code]
        assert a.intersection(b).area / a.union(b).area > 0.98, code


def test_label_points_lie_inside_their_polygon(kunnat):
    pts = geo.label_points(kunnat)
    assert pts.index.equals(kunnat.index)
    assert kunnat.geometry.contains(pts).all()
    # Brändö is an archipelago whose centroid falls in the sea; its label point does not
    brando = kunnat.geometry["035"]
    assert not brando.contains(brando.centroid)
    assert brando.contains(pts["035"])


def test_municipalities_hands_out_copies():
    a = geo.municipalities()
    a["extra"] = 1
    a.loc["178", "name_fi"] = "muutettu"
    b = geo.municipalities()
    assert "extra" not in b.columns and b.loc["178", "name_fi"] == "Juva"


def test_unknown_level_is_a_clear_error():
    with pytest.raises(ParamsError, match="maakunta, seutukunta, hyvinvointialue"):
        geo.regions("kunta")


def test_missing_polygon_file_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(geo, "GEO_DIR", tmp_path)
    with pytest.raises(DataError, match="missing") as err:
        geo.municipalities()
    assert "uso snapshot build" in str(err.value)
    with pytest.raises(DataError, match="alueet.parquet is missing"):
        geo.regions("maakunta")


def test_corrupt_polygon_file_says_what_to_do(tmp_path, monkeypatch):
    (tmp_path / geo.KUNNAT_FILE).write_bytes(b"PAR1 this is not a parquet file")
    monkeypatch.setattr(geo, "GEO_DIR", tmp_path)
    with pytest.raises(DataError, match="unreadable") as err:
        geo.municipalities()
    assert "uso snapshot build" in str(err.value)


def test_polygons_of_another_division_are_refused(tmp_path, monkeypatch):
    g = gpd.read_parquet(geo.GEO_DIR / geo.KUNNAT_FILE)
    g.loc[g["code"] == "214", "code"] = "099"  # Honkajoki, merged into Kankaanpää in 2021
    g.to_parquet(tmp_path / geo.KUNNAT_FILE)
    monkeypatch.setattr(geo, "GEO_DIR", tmp_path)
    with pytest.raises(DataError, match="does not match the 2023 registry"):
        geo.municipalities()


# -- the builder ------------------------------------------------------------------------------
def test_builder_is_deterministic_and_matches_the_committed_files(raw_dir, tmp_path):
    m1 = geo_builder.build(raw_dir, tmp_path / "a")
    geo_builder.build(raw_dir, tmp_path / "b")
    for name in (geo.KUNNAT_FILE, geo.ALUEET_FILE):
        first = (tmp_path / "a/geo" / name).read_bytes()
        assert first == (tmp_path / "b/geo" / name).read_bytes()
        assert len(first) < 300_000  # compact: a few hundred KB at most
        fresh = gpd.read_parquet(tmp_path / "a/geo" / name)
        committed = gpd.read_parquet(geo.GEO_DIR / name)
        assert fresh.drop(columns="geometry").equals(committed.drop(columns="geometry"))
        assert shapely.equals_exact(fresh.geometry.to_numpy(),
                                    committed.geometry.to_numpy(), 0).all()
    assert m1["rows"] == {"kunnat": 309, "maakunta": 19, "seutukunta": 69,
                          "hyvinvointialue": 23, "maa": 1}
    assert m1["files"] == ["geo/kunnat.parquet", "geo/alueet.parquet"]
    assert "CC BY 4.0" in m1["source"] and "Yle" in m1["source"]
    assert list(m1["raw"]) == geo_builder.RAW_FILES
    json.dumps(m1)  # goes into MANIFEST.json as it is


def test_builder_without_the_raw_file_fails_clearly(tmp_path):
    with pytest.raises(DataError, match="finland-hva-2021.topo.json"):
        geo_builder.build(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out/geo/kunnat.parquet").exists()
