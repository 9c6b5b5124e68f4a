"""Derive the compact municipality history the registry reads, from Statistics Finland's
classification keys (geofi's derived CSV of the 2013-2026 keys in ``geo/municipality_key.csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

KEY_FILE = "geo/municipality_key.csv"
OUT_FILE = "municipalities.csv"

# column in the key -> column in the registry
COLUMNS = {
    "year": "year",
    "kunta": "code",
    "municipality_name_fi": "name_fi",
    "municipality_name_sv": "name_sv",
    "municipality_name_en": "name_en",
    "maakunta_code": "maakunta_code",
    "maakunta_name_fi": "maakunta",
    "maakunta_name_sv": "maakunta_sv",
    "seutukunta_code": "seutukunta_code",
    "seutukunta_name_fi": "seutukunta",
    "hyvinvointialue_code": "hyvinvointialue_code",
    "hyvinvointialue_name_fi": "hyvinvointialue",
    "kuntaryhmitys_code": "kuntaryhmitys_code",
    "kuntaryhmitys_name_fi": "kuntaryhmitys",
    "kielisuhde_code": "kielisuhde_code",
    "kielisuhde_name_fi": "kielisuhde",
}

SOURCE = ("Tilastokeskus, luokitukset (kunta, maakunta, seutukunta, hyvinvointialue, "
          "kuntaryhmitys, kielisuhde) 2013-2026, via rOpenGov/geofi municipality_key")


def build(raw: Path, out_dir: Path) -> dict:
    key = pd.read_csv(raw / KEY_FILE, dtype=str, keep_default_na=False)
    df = key[list(COLUMNS)].rename(columns=COLUMNS)
    df["code"] = df["code"].str.zfill(3)
    for col, width in [("maakunta_code", 2), ("seutukunta_code", 3),
                       ("hyvinvointialue_code", 2)]:
        df[col] = df[col].where(df[col] == "", df[col].str.zfill(width))
    df = df.sort_values(["year", "code"]).reset_index(drop=True)
    path = out_dir / OUT_FILE
    df.to_csv(path, index=False, lineterminator="\n")
    return {"file": OUT_FILE, "rows": len(df), "source": SOURCE, "raw": [KEY_FILE]}
