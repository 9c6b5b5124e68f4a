"""Derive the compact map polygons the package draws with, from the raw boundary files.

Why this source: MML's 2023 municipal division (``kuntarajat.2023.json``) reaches out into the
territorial sea, so coastal municipalities look swollen on a choropleth (Helsinki 730 km²
against 214 km² of land). Yle's TopoJSON of Statistics Finland's 1:4.5M generalisation is
clipped to land and fresh water and has the same 309 codes as the 2023 division, so it is the
drawing geometry. Regions are dissolved from these polygons with the 2023 registry codes,
rather than read from separate files, so that region borders coincide exactly with
municipality borders on every map.

Outputs (GeoParquet, EPSG:3067, rows sorted, coordinates on a 1 m grid, so a rebuild from the
same raw file is byte-identical):

- ``data/geo/kunnat.parquet``: ``code`` (3-digit string), ``name_fi``, ``geometry``;
- ``data/geo/alueet.parquet``: ``level`` (maakunta / seutukunta / hyvinvointialue / maa),
  ``code``, ``name``, ``geometry``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from uso_lib.atomic import atomic_write, sha256_file
from uso_lib.errors import DataError
from uso_lib.geo import ALUEET_FILE, CRS, KUNNAT_FILE, LEVELS, SOURCE

TOPO_FILE = "geo/finland-hva-2021.topo.json"
TOPO_LAYER = "munis"
RAW_FILES = [TOPO_FILE]
OUT_DIR = "geo"

# The topology is already generalised to ~1 km vertex spacing (median segment 5 km); a light
# coverage simplification removes near-collinear vertices without moving any shared border.
# 250 m is a quarter of a millimetre on an A4-wide close-up of a maakunta.
TOLERANCE_M = 250.0
GRID_M = 1.0
EXPECTED_COUNT = 309


def build(raw: Path, package_data: Path) -> dict:
    """Write both GeoParquet files under ``package_data/geo``; returns the manifest entry."""
    raw = Path(raw)
    src = raw / TOPO_FILE
    if not src.exists():
        raise DataError(f"geo builder: raw polygon file missing: {src}",
                        hint="Point --raw at ../shared/data/raw (it holds geo/).")
    from uso_lib.regions import registry

    reg = registry(2023).frame()
    kunnat = municipality_polygons(src, reg)
    alueet = dissolve(kunnat, reg)

    out = Path(package_data) / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    _write(kunnat, out / KUNNAT_FILE)
    _write(alueet, out / ALUEET_FILE)
    return {
        "files": [f"{OUT_DIR}/{KUNNAT_FILE}", f"{OUT_DIR}/{ALUEET_FILE}"],
        "rows": {"kunnat": len(kunnat),
                 **{lv: int((alueet["level"] == lv).sum()) for lv in LEVELS}},
        "bytes": {KUNNAT_FILE: (out / KUNNAT_FILE).stat().st_size,
                  ALUEET_FILE: (out / ALUEET_FILE).stat().st_size},
        "crs": CRS,
        "simplify_tolerance_m": TOLERANCE_M,
        "source": SOURCE,
        "raw": {TOPO_FILE: sha256_file(src)},
    }


def municipality_polygons(src: Path, reg: pd.DataFrame) -> gpd.GeoDataFrame:
    """Land-clipped municipality polygons in EPSG:3067, checked against the 2023 registry."""
    try:
        g = gpd.read_file(src, layer=TOPO_LAYER)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise DataError(f"geo builder: cannot read layer {TOPO_LAYER!r} of {src}: {exc}") from exc
    if "id" not in g.columns:
        raise DataError(f"geo builder: {src} layer {TOPO_LAYER!r} has no 'id' (code) column")
    # The file declares no CRS; its README says WGS84.
    g = g.set_crs(4326, allow_override=True).to_crs(CRS)
    g["code"] = g["id"].astype(str).str.zfill(3)

    dup = g["code"][g["code"].duplicated()].tolist()
    if dup:
        raise DataError(f"geo builder: duplicate municipality codes in {src}: {dup}")
    have, want = set(g["code"]), set(reg["code"])
    if have != want:
        raise DataError(
            f"geo builder: polygon codes in {src} differ from the 2023 registry: "
            f"not in registry {sorted(have - want)}, without polygon {sorted(want - have)}")

    g = g.sort_values("code").reset_index(drop=True)
    geoms = shapely.set_precision(g.geometry.values, GRID_M)
    geoms = shapely.coverage_simplify(geoms, TOLERANCE_M)
    geoms = shapely.orient_polygons(geoms)  # exterior CCW, holes CW: matplotlib fills holes right
    if not shapely.is_valid(geoms).all() or not shapely.coverage_is_valid(geoms):
        bad = g.loc[~shapely.is_valid(geoms), "code"].tolist()
        raise DataError(f"geo builder: simplification produced invalid polygons {bad}; "
                        f"lower TOLERANCE_M ({TOLERANCE_M} m)")
    names = reg.set_index("code")["name_fi"]
    return gpd.GeoDataFrame({"code": g["code"], "name_fi": g["code"].map(names)},
                            geometry=geoms, crs=CRS)


def dissolve(kunnat: gpd.GeoDataFrame, reg: pd.DataFrame) -> gpd.GeoDataFrame:
    """Regions as unions of their member municipalities (2023 codes), plus the whole country."""
    merged = kunnat[["code", "geometry"]].merge(reg, on="code", how="left", validate="1:1")
    parts = []
    for level in LEVELS:
        if level == "maa":
            merged["maa_code"], merged["maa_name"] = "SSS", "Koko maa"
            code_col, name_col = "maa_code", "maa_name"
        else:
            code_col, name_col = f"{level}_code", level
        blank = merged[code_col].fillna("").eq("")
        if blank.any():
            raise DataError(f"geo builder: municipalities without a {level} code in the 2023 "
                            f"registry: {merged.loc[blank, 'code'].tolist()}")
        names = merged.groupby(code_col)[name_col].first()
        d = merged[[code_col, "geometry"]].dissolve(by=code_col, method="coverage")
        parts.append(pd.DataFrame({"level": level, "code": d.index.astype(str),
                                   "name": names.reindex(d.index).to_numpy(),
                                   "geometry": d.geometry.to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    geoms = shapely.orient_polygons(shapely.set_precision(out["geometry"].to_numpy(), GRID_M))
    if not shapely.is_valid(geoms).all():
        raise DataError("geo builder: a dissolved region polygon is invalid")
    return gpd.GeoDataFrame(out.drop(columns="geometry"), geometry=geoms, crs=CRS)


def _write(gdf: gpd.GeoDataFrame, path: Path) -> None:
    atomic_write(path, lambda tmp: gdf.to_parquet(tmp, index=False, compression="zstd",
                                                  write_covering_bbox=False))
