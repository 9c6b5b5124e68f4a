"""Population projections by age group: ``vaestoennuste`` (StatFin 14wx, projection 2024) and
``vaestoennuste_2019`` (StatFin 128v, projection 2019).

Two vintages, two ids: a projection is a scenario of its release, and mixing releases in one
series would show a break as if it were a change. Categories are the service-need groups of
INDICATORS.md row 4 (``0-6``, ``7-15``, ``16-18``, ``75+``, ``85+``), five-year groups for
pyramids and ``""`` for the total. Row 4 itself, ``palvelutarpeiden_muutos``, is the change %
of each service-need group from 2024 to 2035 and 2040 in the 2024 projection (derived here,
labelled as such).

The saved 14wx query asked for single ages 0-99 only: ages 100+ are absent, so the total is
"0-99-vuotiaat" and ``75+``/``85+`` stop at 99 (the catalogue's labels say so). 128v has
100+ and its own published total, which is used as is (and checked against the age sum).
128v uses the 2019 division: Honkajoki and Valtimo are summed into Kankaanpää and Nurmes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from pyjstat import pyjstat

from uso_lib.errors import DataError
from uso_lib.extras import require
from uso_lib.snapshot import _statfin

F_14WX = "recent/population_raw.json"
F_128V = "statfin/pop_fore_dat.rda"
RAW_FILES = [F_14WX, F_128V]

SERVICE_GROUPS = {"0-6": (0, 6), "7-15": (7, 15), "16-18": (16, 18), "75+": (75, None),
                  "85+": (85, None)}
FIVE_YEAR = {f"{a}-{a + 4}": (a, a + 4) for a in range(0, 100, 5)}
TOTAL_128V = 999  # 128v's code for the total of all ages
OPEN_128V = 100  # 128v's "100+" age

V_128V = "2019-10-02"  # release of projection 2019 (saved by pttry/KT162R on this date)
SRC_14WX = "Tilastokeskus, StatFin 14wx (väestöennuste 2024; iät 0-99, 100+ puuttuu aineistosta)"
SRC_128V = "Tilastokeskus, StatFin 128v (väestöennuste 2019)"
SRC_128V_MERGED = ("Tilastokeskus, StatFin 128v (väestöennuste 2019, 2019-aluejako); "
                   "yhdistyneiden kuntien ennusteiden summa")


def groups(max_age: int, *, open_group: int | None = None) -> dict[str, tuple[int, int]]:
    """Category -> inclusive age range, for ages 0..max_age (plus an open top group)."""
    out = {c: (lo, max_age if hi is None else hi) for c, (lo, hi) in SERVICE_GROUPS.items()}
    out.update(FIVE_YEAR)
    if open_group is not None:
        out[f"{open_group}+"] = (open_group, max_age)
    return out


def aggregate(single: pd.DataFrame, cats: dict[str, tuple[int, int]], *,
              total: bool) -> pd.DataFrame:
    """Sum single-age rows (kunta, year, age, value, status) into categories. A group with a
    missing age is missing as a whole (a partial sum would understate it)."""
    parts = []
    ranges = list(cats.items()) + ([("", (int(single["age"].min()),
                                         int(single["age"].max())))] if total else [])
    for cat, (lo, hi) in ranges:
        sel = single[(single["age"] >= lo) & (single["age"] <= hi)]
        g = sel.groupby(["kunta", "year"])
        out = g["value"].sum(min_count=1).to_frame("value")
        complete = (g["value"].count() == hi - lo + 1)
        out.loc[~complete, "value"] = np.nan
        out["status"] = ""
        if (sel["status"] != "").any():  # rare: join the symbols of a group's missing ages
            syms = g["status"].agg(lambda s: " ".join(sorted(set(s) - {""})))
            out.loc[~complete, "status"] = syms[~complete]
        parts.append(out.reset_index().assign(category=cat))
    return pd.concat(parts, ignore_index=True)


def _statuses(doc: dict, n: int) -> list[str]:
    """json-stat2 ``status``: a list, a dict of index -> symbol, or one symbol for all."""
    st = doc.get("status")
    if st is None:
        return [""] * n
    if isinstance(st, str):
        return [st] * n
    if isinstance(st, list):
        return [s or "" for s in st]
    return [st.get(str(i), "") or "" for i in range(n)]


def _from_14wx(raw: Path) -> pd.DataFrame:
    text = (raw / F_14WX).read_text(encoding="utf-8")
    doc = json.loads(text)
    df = pyjstat.Dataset.read(text).write("dataframe", naming="id")
    if len(df) != len(doc["value"]):
        raise DataError(f"{F_14WX}: decoded {len(df)} cells, the file has {len(doc['value'])}")
    if set(df["Sukupuoli"]) != {"SSS"} or df["Tiedot"].nunique() != 1:
        raise DataError(f"{F_14WX}: expected both sexes together and one measure")
    df = pd.DataFrame({"kunta": _statfin.area_codes(df["Alue"]),
                       "year": df["Vuosi"].astype(int), "age": df["Ikä"].astype(int),
                       "value": pd.to_numeric(df["value"], errors="coerce"),
                       "status": _statuses(doc, len(df))})
    if df["kunta"].isna().any():
        raise DataError(f"{F_14WX}: unexpected area codes")
    _statfin.require_division(df["kunta"], _statfin.TARGET, file=F_14WX)
    vintage = str(doc.get("updated", ""))[:10]
    if not vintage:
        raise DataError(f"{F_14WX}: no 'updated' date to record as the vintage")
    out = aggregate(df, groups(int(df["age"].max())), total=True)
    return out.assign(source=SRC_14WX, table="14wx", vintage=vintage)


def _from_128v(raw: Path) -> pd.DataFrame:
    df = require("pyreadr", "snapshot").read_r(raw / F_128V)["pop_fore_dat"]
    df = pd.DataFrame({"kunta": df["alue"].astype(str), "year": df["time"].astype(int),
                       "age": df["ika"].astype(int), "value": df["vaesto_e19"].astype(float)})
    df["kunta"] = _statfin.area_codes(df["kunta"])
    _statfin.require_division(df["kunta"], 2019, file=F_128V)
    mapping = _statfin.forward_map(df["kunta"], 2019, file=F_128V)
    merged = set(_statfin.merged_groups(mapping))
    df = _statfin.sum_forward(df, mapping, by=["year", "age"]).assign(status="")
    single = df[df["age"] != TOTAL_128V]
    published = df[df["age"] == TOTAL_128V].set_index(["kunta", "year"])["value"]
    check = single.groupby(["kunta", "year"])["value"].sum()
    if not np.allclose(check.reindex(published.index), published):
        raise DataError(f"{F_128V}: the age groups do not add up to the published totals")
    out = aggregate(single, groups(OPEN_128V, open_group=OPEN_128V), total=False)
    total = published.reset_index().assign(category="", status="")
    out = pd.concat([out, total], ignore_index=True)
    out["source"] = out["kunta"].map(lambda k: SRC_128V_MERGED if k in merged else SRC_128V)
    return out.assign(table="128v", vintage=V_128V)


def service_change(proj: pd.DataFrame) -> pd.DataFrame:
    """Row 4: projected change (%) of each service-need group from the projection's first
    year to each later year (``year`` = the target year). A derivation of published figures,
    and its source says so."""
    df = proj[proj["category"].isin(SERVICE_GROUPS)]
    base_year = int(df["year"].min())
    base = df[df["year"] == base_year].set_index(["kunta", "category"])["value"]
    later = df[df["year"] > base_year].copy()
    b = base.reindex(pd.MultiIndex.from_frame(later[["kunta", "category"]])).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (later["value"].to_numpy() / b - 1.0) * 100.0
    later["value"] = np.where(np.isfinite(change), change, np.nan).round(4)  # base 0: none
    later["status"] = ""
    later["source"] = (later["source"] + f"; muutos-% vuodesta {base_year} laskettu "
                       "ikäryhmän ennusteesta")
    return later


def build(raw: Path) -> pd.DataFrame:
    proj = _from_14wx(raw)
    return pd.concat([
        _statfin.provenance_rows("vaestoennuste", proj, category="category"),
        _statfin.provenance_rows("palvelutarpeiden_muutos", service_change(proj),
                                 category="category"),
        _statfin.provenance_rows("vaestoennuste_2019", _from_128v(raw), category="category"),
    ], ignore_index=True)
