"""Births, deaths, natural increase, intermunicipal and international migration.

- 2010-2022, all nine measures: StatFin 11ae (``vaestonmuutos``), keyed by municipality *name*
  only; every name must match the 2023 registry or the build fails.
- 1990-2009, intermunicipal in/out/net migration: StatFin 11a2 in the 2017 division. Honkajoki
  (099) and Valtimo (911) merged later, so their counts are summed into Kankaanpää (214) and
  Nurmes (541). The net figure of such a sum is exact; in- and out-migration then include the
  moves between the merged municipalities (intra-municipal in the 2023 division): the row's
  source says so.
- 2023, net intermunicipal migration: the sum of the 12 months of StatFin 12w7.

Only years a newer table lacks are taken from an older one: one source per series year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib import regions
from uso_lib.errors import DataError
from uso_lib.extras import require
from uso_lib.snapshot import _statfin

F_11AE = "recent/vaestonmuutos.derived.csv"
F_11A2 = "statfin/dat_muuttotiedot_kunnittain.rda"
F_12W7 = "recent/statfin_muutl_pxt_12w7.derived.csv"
RAW_FILES = [F_11AE, F_11A2, F_12W7]

# indicator id -> 11ae column
COLUMNS_11AE = {
    "syntyneet": "vm01",
    "kuolleet": "vm11",
    "luonnollinen_vaestonlisays": "luonvalisays",
    "tulomuutto": "vm43_tulo",
    "lahtomuutto": "vm43_lahto",
    "nettomuutto": "vm43_netto",
    "maahanmuutto": "vm41",
    "maastamuutto": "vm42",
    "nettomaahanmuutto": "vm4142",
}
# indicator id -> 11a2 "Tiedot" value (counts only; the author's rates are not used)
ITEMS_11A2 = {"tulomuutto": "tulomuutto", "lahtomuutto": "lahtomuutto",
              "nettomuutto": "nettomuutto"}
DIVISION_11A2 = 2017

SRC_11AE = "Tilastokeskus, StatFin 11ae (väestönmuutokset)"
SRC_11A2 = "Tilastokeskus, StatFin 11a2 (kuntien välinen muutto)"
SRC_11A2_MERGED = ("Tilastokeskus, StatFin 11a2 (kuntien välinen muutto, 2017-aluejako); "
                   "yhdistyneiden kuntien summa: tulo- ja lähtömuutto sisältävät niiden väliset "
                   "muutot, nettomuutto ei")
SRC_12W7 = ("Tilastokeskus, StatFin 12w7 (kuntien välinen nettomuutto; vuosiluku = "
            "kuukausien {y}M01-{y}M12 summa)")
V_11AE, V_11A2, V_12W7 = "2024-01-21", "2020-01-23", "2025-03-19"


def _from_11ae(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_11AE)
    codes = _statfin.codes_for_names(df["kunta"], _statfin.TARGET, file=F_11AE)
    df["code"] = df["kunta"].map(codes)
    _statfin.require_division(df["code"], _statfin.TARGET, file=F_11AE)
    long = df.melt(id_vars=["code", "vuosi"], value_vars=list(COLUMNS_11AE.values()),
                   var_name="column", value_name="value")
    long["indicator"] = long["column"].map({v: k for k, v in COLUMNS_11AE.items()})
    return long.rename(columns={"code": "kunta", "vuosi": "year"}).assign(
        status="", source=SRC_11AE, table="11ae", vintage=V_11AE)


def _from_11a2(raw: Path, before: int) -> pd.DataFrame:
    df = require("pyreadr", "snapshot").read_r(raw / F_11A2)["dat_muuttotiedot_kunnittain"]
    df = df[df["Tiedot"].isin(ITEMS_11A2.values()) & (df["Vuosi"] < before)]
    df = pd.DataFrame({"kunta": df["kunta_no"].astype(str).str.zfill(3),
                       "year": df["Vuosi"].astype(int),
                       "indicator": df["Tiedot"].map({v: k for k, v in ITEMS_11A2.items()}),
                       "value": df["values"].astype(float)})
    if df.duplicated(["kunta", "year", "indicator"]).any():
        raise DataError(f"{F_11A2}: several rows for one municipality, year and item")
    _statfin.require_division(df["kunta"], DIVISION_11A2, file=F_11A2)
    mapping = _statfin.forward_map(df["kunta"], DIVISION_11A2, file=F_11A2)
    merged = set(_statfin.merged_groups(mapping))
    out = _statfin.sum_forward(df, mapping, by=["year", "indicator"])
    out["source"] = out["kunta"].map(lambda k: SRC_11A2_MERGED if k in merged else SRC_11A2)
    return out.assign(status="", table="11a2", vintage=V_11A2)


def _from_12w7(raw: Path, year: int) -> pd.DataFrame:
    df = pd.read_csv(raw / F_12W7, dtype={"Alue": str, "Kuukausi": str})
    df = df[df["Kuukausi"].str.startswith(f"{year}M")]
    df["kunta"] = _statfin.area_codes(df["Alue"])
    df = df[df["kunta"] != _statfin.COUNTRY]  # the country's net is 0 by definition
    if df["kunta"].isna().any():
        bad = sorted(set(df.loc[df["kunta"].isna(), "Alue"]))
        raise DataError(f"{F_12W7}: unexpected areas {bad[:10]}")
    _statfin.require_division(df["kunta"], _statfin.TARGET, file=F_12W7)
    g = df.groupby("kunta")["vm43_netto"]
    out = g.sum(min_count=1).to_frame("value")
    out.loc[g.count() != 12, "value"] = float("nan")  # a year is all 12 months or nothing
    out = out.reset_index().assign(year=year, indicator="nettomuutto", status="",
                                   source=SRC_12W7.format(y=year), table="12w7",
                                   vintage=V_12W7)
    return out


def country_sums(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """The whole country (SSS) of each count and year: the sum of every municipality of the
    division, only where all of them have a figure (a partial sum is no national total).
    Statistics Finland's municipal counts add up to the country's, and a report's "Koko maa"
    column must hold the national figure, not a mean of municipalities."""
    n = len(regions.registry(_statfin.TARGET).codes())
    have = df[df["kunta"] != _statfin.COUNTRY]
    g = have.groupby(["indicator", "year"])["value"]
    out = g.sum(min_count=1).to_frame("value")
    out.loc[g.count() != n, "value"] = float("nan")
    out = out.dropna().reset_index()
    return out.assign(kunta=_statfin.COUNTRY, status="",
                      source=f"{source}; koko maa = kuntien summa")


def build(raw: Path) -> pd.DataFrame:
    new = _from_11ae(raw)
    new = pd.concat([new, country_sums(new, SRC_11AE).assign(table="11ae", vintage=V_11AE)],
                    ignore_index=True)
    first = int(new["year"].min())
    last = int(new["year"].max())
    df = pd.concat([new, _from_11a2(raw, before=first), _from_12w7(raw, last + 1)],
                   ignore_index=True)
    parts = [_statfin.provenance_rows(ind, grp) for ind, grp in df.groupby("indicator")]
    return pd.concat(parts, ignore_index=True)
