"""WFS polygons and the classification service's regional keys, answered by the local server
from the real 2023 files (MML municipal division 2023, Statistics Finland key 2023)."""

from __future__ import annotations

import json

import geopandas as gpd
import httpfake
import pandas as pd
import pytest

from uso_lib.errors import SourceError
from uso_lib.sources import classifications, geostat
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter


@pytest.fixture
def server():
    with httpfake.FakeServer() as srv:
        yield srv


def client(srv, path: str) -> HttpClient:
    return HttpClient("test", srv.url + path, sleep=lambda s: None, backoff=0,
                      limiter=RateLimiter(100, 1), cache=HttpCache())


@pytest.fixture
def juva_3067(raw_dir) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(raw_dir / "geo/kuntarajat.2023.json")
    juva = gdf[gdf["NATCODE"] == "178"].to_crs(3067)
    # shaped like the WFS answer: properties kunta (string), vuosi, nimi, namn, name
    return gpd.GeoDataFrame({"kunta": ["178"], "vuosi": [2023], "nimi": ["Juva"],
                             "namn": ["Juva"], "name": ["Juva"]},
                            geometry=list(juva.geometry), crs=3067)


def test_wfs_polygons_of_a_year(server, juva_3067):
    server.route("GET", "/geoserver/wfs", httpfake.Reply(body=juva_3067.to_json()))
    gdf = geostat.municipalities(2023, client=client(server, "/geoserver/wfs"))
    [req] = server.calls()
    assert req.params["typeNames"] == ["tilastointialueet:kunta4500k_2023"]
    assert req.params["srsName"] == ["EPSG:3067"]
    assert req.params["outputFormat"] == ["application/json"]
    assert gdf.crs.to_epsg() == 3067
    assert gdf["code"].tolist() == ["178"] and gdf["nimi"].tolist() == ["Juva"]
    # the MML polygon of Juva covers its land and fresh water, 1345.69 km² (TOTALAREA)
    assert gdf.geometry.area.iloc[0] / 1e6 == pytest.approx(1345.69, rel=0.02)


def test_wfs_codes_stay_strings(server, juva_3067):
    doc = json.loads(juva_3067.to_json())
    doc["features"][0]["properties"]["kunta"] = 5  # a server that sends numbers
    server.route("GET", "/geoserver/wfs", httpfake.Reply(json=doc))
    gdf = geostat.municipalities(2023, client=client(server, "/geoserver/wfs"))
    assert gdf["code"].tolist() == ["005"]


def test_wfs_missing_layer(server):
    server.route("GET", "/geoserver/wfs", httpfake.Reply(json={"type": "FeatureCollection",
                                                               "features": []}))
    with pytest.raises(SourceError, match="kunta4500k_1999.*no features"):
        geostat.municipalities(1999, client=client(server, "/geoserver/wfs"))


@pytest.fixture
def key_2023(raw_dir) -> pd.DataFrame:
    return pd.read_csv(raw_dir / "geo/municipality_key_2023.csv", dtype=str)


def maps_answer(key: pd.DataFrame, level: str) -> list[dict]:
    """The classification service's pairs, built from the real 2023 key."""
    return [{"sourceItem": {"code": r["kunta"], "classificationItemNames": [
                {"lang": "fi", "name": r["municipality_name_fi"]}]},
             "targetItem": {"code": r[f"{level}_code"], "classificationItemNames": [
                {"lang": "fi", "name": r[f"{level}_name_fi"]}]}}
            for r in key.to_dict("records")]


def test_municipality_key_of_a_year(server, key_2023):
    base = "/api/classifications/v2/correspondenceTables"
    for level in classifications.LEVELS:
        server.route("GET", f"{base}/kunta_1_20230101%23{level}_1_20230101/maps",
                     httpfake.Reply(json=maps_answer(key_2023, level)))
    key = classifications.municipality_key(2023, client=client(server,
                                                               "/api/classifications/v2"))
    assert len(key) == 309
    juva = key.set_index("kunta").loc["178"]
    assert juva["nimi"] == "Juva" and juva["maakunta_code"] == "10"
    assert juva["maakunta"] == "Etelä-Savo" and juva["seutukunta_code"] == "105"
    assert juva["hyvinvointialue"] == "Etelä-Savon hyvinvointialue"
    req = server.calls()[0]
    assert req.params == {"content": ["data"], "meta": ["min"], "lang": ["fi"]}
    assert "%23" in req.path  # '#' travels encoded


def test_light_maps_form_with_local_ids(server):
    base = "/api/classifications/v2/correspondenceTables"
    server.route("GET", f"{base}/kunta_1_20230101%23maakunta_1_20230101/maps",
                 httpfake.Reply(json=[{"sourceLocalId": "kunta_1_20230101/178",
                                       "targetLocalId": "maakunta_1_20230101/10"}]))
    df = classifications.correspondence("maakunta", 2023,
                                        client=client(server, "/api/classifications/v2"))
    assert df[["source_code", "target_code"]].values.tolist() == [["178", "10"]]


# -- an unusable answer is forgotten by the HTTP cache, so the next call asks again (#16) -----
def test_wfs_answer_without_features_is_not_served_again_from_the_cache(server, juva_3067):
    server.route("GET", "/geoserver/wfs",
                 httpfake.Reply(json={"type": "FeatureCollection", "features": []}),
                 httpfake.Reply(body=juva_3067.to_json()))
    with pytest.raises(SourceError, match="no features") as err:
        geostat.municipalities(2023, client=client(server, "/geoserver/wfs"))
    assert "uso data refresh --fresh" in str(err.value)
    gdf = geostat.municipalities(2023, client=client(server, "/geoserver/wfs"))
    assert gdf["code"].tolist() == ["178"] and len(server.calls()) == 2


def test_municipality_in_two_areas_is_refused_and_forgotten(server, key_2023):
    path = ("/api/classifications/v2/correspondenceTables/"
            "kunta_1_20230101%23maakunta_1_20230101/maps")
    pairs = maps_answer(key_2023, "maakunta")
    juva = next(p for p in pairs if p["sourceItem"]["code"] == "178")
    twice = pairs + [{**juva, "targetItem": {"code": "09", "classificationItemNames": []}}]
    server.route("GET", path, httpfake.Reply(json=twice), httpfake.Reply(json=pairs))
    with pytest.raises(SourceError, match=r"municipalities \['178'\] are in two maakunta"):
        classifications.correspondence("maakunta", 2023,
                                       client=client(server, "/api/classifications/v2"))
    df = classifications.correspondence("maakunta", 2023,
                                        client=client(server, "/api/classifications/v2"))
    assert len(df) == 309 and len(server.calls()) == 2  # asked again, not the cached answer
