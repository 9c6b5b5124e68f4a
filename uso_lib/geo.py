"""Map polygons of the 2023 division: municipalities and the regions dissolved from them.

The polygons are the compact derived GeoParquet files in ``uso_lib/data/geo`` (built by
:mod:`uso_lib.snapshot.geo` from Statistics Finland's land-clipped 1:4.5M generalisation), in
ETRS-TM35FIN (EPSG:3067) so that areas and distances are in metres. They are read once per
process and handed out as copies, so a caller that adds a column cannot disturb the next map.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from uso_lib.config import PACKAGE_DATA
from uso_lib.errors import DataError, ParamsError

GEO_DIR = PACKAGE_DATA / "geo"
KUNNAT_FILE = "kunnat.parquet"
ALUEET_FILE = "alueet.parquet"
CRS = "EPSG:3067"
LEVELS = ("maakunta", "seutukunta", "hyvinvointialue", "maa")

#: Short credit printed on every map, with the years of the boundaries (see SOURCE).
ATTRIBUTION = "Aluejaot: © Tilastokeskus / MML, kuntajako 2021 (koodit 2023), CC BY 4.0"
#: Full provenance of the polygons (manifest, report appendices).
SOURCE = ("© Tilastokeskus, MML; Yle geodata; CC BY 4.0. Kuntarajat: Tilastokeskuksen "
          "1:4 500 000 yleistys (kuntajako 2021, rajattu maa- ja sisävesialueisiin), "
          "Yleisradio/geodata finland-hva-2021.topo.json; koodit samat kuin kuntajaossa 2023. "
          "Maakunnat, seutukunnat ja hyvinvointialueet koottu kunnista Tilastokeskuksen 2023 "
          "luokitusten mukaan.")

_REBUILD = ("Rebuild the polygons with `uso snapshot build --raw ../shared/data/raw`, "
            "or reinstall uso.")


def _path(name: str) -> Path:
    return Path(GEO_DIR) / name


@cache
def _read(path: Path, stamp: tuple[int, int]) -> gpd.GeoDataFrame:
    """One read per file version (``stamp`` = mtime and size, so a rebuild is picked up)."""
    try:
        gdf = gpd.read_parquet(path)
    except Exception as exc:  # pyarrow/geopandas raise many types for a damaged file
        raise DataError(f"The map polygon file {path} is unreadable ({exc}).",
                        hint=_REBUILD) from exc
    if gdf.crs is None or gdf.crs.to_epsg() != 3067:
        raise DataError(f"The map polygon file {path} is not in {CRS} (found {gdf.crs}).",
                        hint=_REBUILD)
    return gdf


def _load(name: str, columns: list[str]) -> gpd.GeoDataFrame:
    path = _path(name)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataError(f"The map polygon file {path} is missing.", hint=_REBUILD) from None
    gdf = _read(path, (st.st_mtime_ns, st.st_size))
    lacking = [c for c in columns if c not in gdf.columns]
    if lacking:
        raise DataError(f"The map polygon file {path} lacks the columns {lacking}.",
                        hint=_REBUILD)
    return gdf


@cache
def _municipalities(path: Path, stamp: tuple[int, int]) -> gpd.GeoDataFrame:
    from uso_lib.regions import registry

    raw = _load(KUNNAT_FILE, ["code", "geometry"])
    reg = registry(2023).frame()
    have, want = set(raw["code"]), set(reg["code"])
    if have != want:
        raise DataError(f"The map polygon file {path} does not match the 2023 registry: "
                        f"unknown codes {sorted(have - want)[:5]}, "
                        f"no polygon for {sorted(want - have)[:5]}.", hint=_REBUILD)
    gdf = gpd.GeoDataFrame(reg.merge(raw[["code", "geometry"]], on="code", validate="1:1"),
                           geometry="geometry", crs=CRS)
    gdf.index = pd.Index(gdf["code"].to_numpy(), name="kunta")
    return gdf


def municipalities() -> gpd.GeoDataFrame:
    """The 309 municipalities of 2023 with their registry attributes (code, name_fi, name_sv,
    name_en, maakunta_code, maakunta, seutukunta_code, ..., kielisuhde) and land polygons in
    EPSG:3067, indexed by code (index name ``kunta``, like the store's column)."""
    path = _path(KUNNAT_FILE)
    _load(KUNNAT_FILE, ["code", "geometry"])  # raises a DataError that says what to do
    st = path.stat()
    return _municipalities(path, (st.st_mtime_ns, st.st_size)).copy()


def regions(level: str) -> gpd.GeoDataFrame:
    """Dissolved regions of one level (``maakunta`` 19, ``seutukunta`` 69,
    ``hyvinvointialue`` 23 incl. Helsinki 90 and Åland 91, ``maa`` 1): columns level, code,
    name, geometry, indexed by code."""
    if level not in LEVELS:
        raise ParamsError(f"unknown region level {level!r}; use one of {', '.join(LEVELS)}",
                          field="level")
    gdf = _load(ALUEET_FILE, ["level", "code", "name", "geometry"])
    out = gdf[gdf["level"] == level].copy()
    if out.empty:
        raise DataError(f"The map polygon file {_path(ALUEET_FILE)} has no {level} regions.",
                        hint=_REBUILD)
    out.index = pd.Index(out["code"].to_numpy(), name=level)
    return out


def label_points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A point inside each polygon for its label: the representative point of its largest
    part, so an archipelago municipality is labelled on its main island, never at sea."""
    geoms = gdf.geometry.to_numpy()
    pts = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            pts.append(None)
            continue
        if geom.geom_type == "MultiPolygon":
            geom = max(geom.geoms, key=lambda p: p.area)
        pts.append(shapely.point_on_surface(geom))
    return gpd.GeoSeries(pts, index=gdf.index, crs=gdf.crs)


def neighbours(code: str) -> list[str]:
    """Codes of the municipalities that share a border with ``code`` (sorted)."""
    from uso_lib.regions import lookup

    code = lookup(code).code
    gdf = municipalities()
    geom = gdf.geometry.loc[code]
    hits = gdf.index[gdf.sindex.query(geom, predicate="touches")]
    return sorted(c for c in hits if c != code)
