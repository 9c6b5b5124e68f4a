"""Statistics Finland's WFS (geo.stat.fi): municipality polygons of a given year.

Maps must use the layer of the same year as the data's regional division (a 2023 figure on a
2026 map would lose Pertunmaa), so the year is a required argument. The layer is asked for in
its native ETRS-TM35FIN (EPSG:3067), the projection Finnish maps are drawn in, and municipality
codes are kept as three-character strings. An answer that cannot be used is forgotten by the
HTTP cache (:meth:`HttpClient.discard`), so the next call asks the service again.
"""

from __future__ import annotations

import geopandas as gpd

from uso_lib import config
from uso_lib.errors import SourceError
from uso_lib.sources.http import HttpClient

CRS = "EPSG:3067"
SCALES = ("1000k", "4500k")
LEVELS = ("kunta", "maakunta", "seutukunta", "hyvinvointialue")


def layer_name(year: int, *, level: str = "kunta", scale: str = "4500k") -> str:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, not {scale!r}")
    return f"tilastointialueet:{level}{scale}_{int(year)}"


def params(year: int, *, level: str = "kunta", scale: str = "4500k") -> dict[str, str]:
    return {"service": "WFS", "version": "2.0.0", "request": "GetFeature",
            "typeNames": layer_name(year, level=level, scale=scale),
            "outputFormat": "application/json", "srsName": CRS}


def polygons(year: int, *, level: str = "kunta", scale: str = "4500k",
             client: HttpClient | None = None) -> gpd.GeoDataFrame:
    """Polygons of one level (default municipalities) for a year, in EPSG:3067.

    Columns: ``code`` (three-character municipality code, or the level's code), ``vuosi``,
    ``nimi``, ``namn``, ``name``, ``geometry``.
    """
    client = client or HttpClient("geo.stat.fi WFS", config.url("USO_GEOSTAT_URL"))
    layer = layer_name(year, level=level, scale=scale)
    what = f"WFS layer {layer}"
    fetched = client.get("", params=params(year, level=level, scale=scale), what=what)
    doc = fetched.json()
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not feats:
        raise SourceError(f"{what}: no features (is there a layer for {year}?).",
                          hint="Layers exist per year, e.g. kunta4500k_2023; see the WFS "
                               "GetCapabilities document. " + client.discard(fetched))
    try:
        gdf = gpd.GeoDataFrame.from_features(feats, crs=CRS)
    except Exception as exc:  # shapely/geopandas raise several types on bad geometry
        raise SourceError(f"{what}: unreadable features ({exc}).",
                          hint=client.discard(fetched)) from exc
    if level not in gdf.columns:
        raise SourceError(f"{what}: features lack the '{level}' code property "
                          f"(found {sorted(c for c in gdf.columns if c != 'geometry')}).",
                          hint=client.discard(fetched))
    width = 3 if level == "kunta" else 2
    codes = gdf[level].astype(str).str.strip()
    gdf["code"] = codes.where(~codes.str.isdigit(), codes.str.zfill(width))
    keep = ["code"] + [c for c in ("vuosi", "nimi", "namn", "name") if c in gdf.columns]
    return gdf[keep + ["geometry"]].sort_values("code").reset_index(drop=True)


def municipalities(year: int, *, scale: str = "4500k",
                   client: HttpClient | None = None) -> gpd.GeoDataFrame:
    """Municipality polygons of ``year`` (``code`` = ``"178"``), EPSG:3067."""
    return polygons(year, level="kunta", scale=scale, client=client)
