"""Municipal finance key figures 2020 that the key-figure tables lack: relative indebtedness
and equity ratio (two of the legal crisis-municipality criteria).

``recent/municipal_debt_raw.json`` is a JSON-stat2 download of Statistics Finland's *Kuntien
talous ja toiminta*, "Tunnusluvut, kunnat 2020" (table 006_kta_19_2020, 310 municipalities of
the 2020 division, updated 2021-09-10). Its loan-stock columns duplicate the key figures
(``lainakanta_eur_as`` belongs to the key-figure builder) and are not taken here.

Both measures are ratios, which cannot be added up: Kankaanpää (214), which absorbed Honkajoki
(099) in 2021, has no 2020 figure for its 2023 area and stays missing with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from uso_lib.errors import DataError
from uso_lib.snapshot import _to2023, rows

RAW = "recent/municipal_debt_raw.json"
RAW_FILES = [RAW]
FROM_DIVISION = 2020
SOURCE = "Tilastokeskus, Kuntien talous ja toiminta: tunnusluvut, kunnat 2020"
TABLE = "kta 006_kta_19_2020"

MEASURES = {  # key-figure code -> indicator id
    "suhteel_velkaant": "suhteellinen_velkaantuneisuus",
    "omavaraisuus_aste": "omavaraisuusaste",
}


def read(raw: Path) -> tuple[pd.DataFrame, str]:
    """The dataset as a long frame (Alue, Tunnusluku, Vuosi, value, status) and its update
    date. Decoded by hand so that the publisher's status symbols survive (pyjstat drops them)."""
    try:
        data = json.loads((raw / RAW).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {RAW}: {exc}") from exc
    try:
        ids, size, dims = data["id"], data["size"], data["dimension"]
        values = data["value"]
    except KeyError as exc:
        raise DataError(f"{RAW}: not a JSON-stat2 dataset (no {exc})") from exc
    if any(k not in ids for k in ("Alue", "Tunnusluku", "Vuosi")):
        raise DataError(f"{RAW}: expected dimensions Alue, Tunnusluku, Vuosi; found {ids}")
    if len(values) != int(np.prod(size)):
        raise DataError(f"{RAW}: {len(values)} values for a {size} cube")
    codes = []
    for dim in ids:
        index = dims[dim]["category"]["index"]
        ordered = sorted(index, key=index.get) if isinstance(index, dict) else list(index)
        codes.append(ordered)
    grid = pd.MultiIndex.from_product(codes, names=ids).to_frame(index=False)
    status = data.get("status") or {}
    if isinstance(status, list):
        status = dict(enumerate(status))
    grid["value"] = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
    grid["status"] = [status.get(str(i), status.get(i, "")) or "" for i in range(len(grid))]
    return grid, str(data.get("updated", ""))[:10]


def build(raw: Path) -> pd.DataFrame:
    grid, updated = read(raw)
    if not updated:
        raise DataError(f"{RAW}: the dataset has no 'updated' date")
    missing = sorted(set(MEASURES) - set(grid["Tunnusluku"]))
    if missing:
        raise DataError(f"{RAW}: key figures {missing} not found")
    grid = grid[grid["Tunnusluku"].isin(MEASURES)]
    wide = grid.pivot_table(index=["Alue", "Vuosi"], columns="Tunnusluku", values="value",
                            dropna=False, aggfunc="first").reset_index()
    wide = wide.rename(columns={"Alue": "kunta", "Vuosi": "year"})
    wide["year"] = wide["year"].astype(int)
    mapped = _to2023.to_2023(wide[["kunta", "year", *MEASURES]], from_division=FROM_DIVISION,
                             where=RAW, values=dict.fromkeys(MEASURES, False))
    status = grid.set_index(["Alue", "Tunnusluku"])["status"]
    out = []
    for code, indicator in MEASURES.items():
        frame = mapped[["kunta", "year", code]].rename(columns={code: "value"})
        frame["status"] = [status.get((k, code), "") for k in frame["kunta"]]
        part = rows(indicator, frame, status="status", source=SOURCE, table=TABLE,
                    vintage=updated)
        notes = [_to2023.note(h, m, k) for h, m, k in zip(
            mapped[f"{code}@how"], mapped["merged"], mapped["kunta"], strict=True)]
        part["source"] = [f"{SOURCE}; {n}" if n else SOURCE for n in notes]
        out.append(part)
    return pd.concat(out, ignore_index=True)
