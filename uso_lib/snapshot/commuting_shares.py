"""Commuting as shares, comparable across municipalities of different size (#17):

- ``tulopendelointi_osuus``: in-commuters' share of the jobs of the municipality's residents
  and in-commuters, in-commuters / (working in the home municipality + in-commuters) x 100;
- ``lahtopendelointi_osuus``: out-commuters' share of the employed residents,
  out-commuters / (working in the home municipality + out-commuters) x 100.

Numerator and denominator come from the same table and year (StatFin tyokay 1987-2016 via
:mod:`uso_lib.snapshot.commuting`, the Alueaikasarjat workbook for 2019 via
:mod:`uso_lib.snapshot.regional_series`), and each row's source says which. The whole country's
share is the country's sum over the country's sum (every municipality must have its figures),
never a mean of shares.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib import regions
from uso_lib.snapshot import _statfin, commuting, regional_series

RAW_FILES = sorted(set(commuting.RAW_FILES) | set(regional_series.RAW_FILES))

FLOWS = ("tulopendelointi", "lahtopendelointi", "asuinkunnassa_tyossakayvat")
SHARES = {"tulopendelointi": ("tulopendelointi_osuus", "kuntaan muualta töihin tulevat"),
          "lahtopendelointi": ("lahtopendelointi_osuus", "kunnasta muualle töihin lähtevät")}
OWN = "asuinkunnassaan työssäkäyvät"


def _flows(raw: Path) -> pd.DataFrame:
    """The three flows, one source per year: tyokay where it has the year, else the
    workbook."""
    a = commuting.build(raw)
    a = a[a["indicator"].isin(FLOWS) & (a["category"] == "")]
    b = regional_series.build(raw)
    b = b[b["indicator"].isin(FLOWS) & (b["category"] == "") & ~b["year"].isin(a["year"])]
    return pd.concat([a, b], ignore_index=True)


def shares(flows: pd.DataFrame) -> pd.DataFrame:
    wide = flows.pivot_table(index=["kunta", "year"], columns="indicator", values="value",
                             aggfunc="first")
    meta = flows[flows["indicator"] == "asuinkunnassa_tyossakayvat"].set_index(
        ["kunta", "year"])[["source", "table", "vintage"]]
    n = len(regions.registry(_statfin.TARGET).codes())
    complete = wide.groupby(level="year").apply(lambda g: g.notna().all(axis=1).sum() == n)
    sums = wide.groupby(level="year").sum(min_count=1)
    sums = sums[complete.reindex(sums.index).fillna(False).astype(bool)]
    country_meta = meta.groupby(level="year").first()
    parts = []
    for count, (share_id, name) in SHARES.items():
        for frame, is_country in ((wide, False), (sums, True)):
            num, own = frame[count], frame["asuinkunnassa_tyossakayvat"]
            df = ((num / (own + num)) * 100.0).round(4).rename("share").reset_index()
            if is_country:
                df["kunta"] = _statfin.COUNTRY
                m = country_meta.reindex(df["year"]).reset_index(drop=True)
            else:
                m = meta.reindex(pd.MultiIndex.from_frame(df[["kunta", "year"]])
                                 ).reset_index(drop=True)
            df = pd.concat([df, m], axis=1).dropna(subset=["share", "source"])
            summed = "; koko maa = kuntien summa" if is_country else ""
            df["source"] = ("Laskettu: " + name + " / (" + OWN + " + " + name + ") × 100 ("
                            + df["source"] + summed + ")")
            df["status"] = ""
            parts.append(_statfin.provenance_rows(share_id, df, value="share"))
    return pd.concat(parts, ignore_index=True)


def build(raw: Path) -> pd.DataFrame:
    return shares(_flows(raw))
