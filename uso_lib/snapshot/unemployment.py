"""Registered unemployment (työnvälitystilasto, StatFin 12r5): the unemployed-jobseeker rate,
the number of unemployed jobseekers and the labour force, one figure per year.

The jobseeker register is monthly; the store keeps the December figure of each year, as
published, so that a year's value is a real published month and not an average we made up.

- Rate ``tyottomat_tyonhakijat_osuus``: the published TYOTOSUUS of December (2007-2024) from
  the 2025-division save. In that division Mäntyharju (507) includes Pertunmaa (588), so for
  those two (and for 2006, before that save starts, and for the whole country, which it lacks)
  the rate is computed from the 2023-division counts as the register defines it, unemployed /
  labour force x 100, rounded half up to one decimal like the published figure; such rows say
  "laskettu". Where neither exists (507 and 588 after 2022) the figure is missing with status
  ``.`` and the reason.
- Count ``tyottomat_tyonhakijat``: TYOTTOMATLOPUSSA of December, 2006-2022 (the save ends in
  October 2023, so 2023 has no December).
- ``tyovoima``: TYOVOIMATK, the annual labour force of the employment statistics that 12r5 uses
  as the rate's denominator (repeated in every month of a year), 2006-2023.

Suppressed cells stay missing. The derived CSVs turned the publisher's symbols into empty
cells, so their status is unknown and left empty rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from uso_lib.errors import DataError
from uso_lib.snapshot import _statfin

F_COUNTS = "recent/tyonv_12r5.derived.csv"
F_RATE = "recent/statfin_tyonv_pxt_12r5_map.derived.csv"
RAW_FILES = [F_COUNTS, F_RATE]

V_COUNTS = "2023-12-05"
V_RATE = "2025-03-19"
NOT_PRESENTABLE = "."
SRC_RATE = "Tilastokeskus, StatFin 12r5 (työttömien työnhakijoiden osuus työvoimasta, joulukuu)"
SRC_RATE_CALC = ("Tilastokeskus, StatFin 12r5; laskettu: työttömät työnhakijat / työvoima "
                 "x 100, joulukuu (2023-aluejako)")
SRC_COUNT = "Tilastokeskus, StatFin 12r5 (työttömät työnhakijat kuun lopussa, joulukuu)"
SRC_LF = "Tilastokeskus, StatFin 12r5 (työvoima, työssäkäyntitilaston vuositieto)"
SPLIT_NOTE = ("; ei esitetä 2023-aluejaossa: julkaistu sarja on 2025-aluejaossa, jossa "
              "Pertunmaa (588) sisältyy Mäntyharjuun (507)")


def _counts(raw: Path) -> pd.DataFrame:
    """Municipality and country rows of the 12r5 save: kunta, year, month, item, value."""
    df = pd.read_csv(raw / F_COUNTS, dtype={"alue": str, "tiedot": str, "time": str})
    df["kunta"] = _statfin.area_codes(df["alue"])
    df = df[df["kunta"].notna()]  # sub-regions, regions and ELY areas are not stored
    _statfin.require_division(df["kunta"], _statfin.TARGET, file=F_COUNTS)
    df["year"] = df["time"].str[:4].astype(int)
    df["month"] = df["time"].str[5:7].astype(int)
    return df[["kunta", "year", "month", "tiedot", "value"]]


def _round_half_up(x: pd.Series, decimals: int = 1) -> pd.Series:
    f = 10 ** decimals
    return np.floor(x * f + 0.5) / f


def _december(counts: pd.DataFrame) -> pd.DataFrame:
    dec = counts[counts["month"] == 12]
    wide = dec.pivot_table(index=["kunta", "year"], columns="tiedot", values="value",
                           aggfunc="first", dropna=False)
    return wide.reset_index()


def labour_force(counts: pd.DataFrame) -> pd.DataFrame:
    lf = counts[counts["tiedot"] == "TYOVOIMATK"]
    g = lf.groupby(["kunta", "year"])["value"]
    varying = g.nunique() > 1
    if varying.any():
        raise DataError(f"{F_COUNTS}: TYOVOIMATK changes within a year for "
                        f"{varying[varying].index[:3].tolist()}; expected an annual figure")
    out = g.first().to_frame("value").reset_index()
    return out.assign(status="", source=SRC_LF, table="12r5", vintage=V_COUNTS)


def jobseekers(dec: pd.DataFrame) -> pd.DataFrame:
    out = dec[["kunta", "year", "TYOTTOMATLOPUSSA"]].rename(columns={"TYOTTOMATLOPUSSA": "value"})
    return out.assign(status="", source=SRC_COUNT, table="12r5", vintage=V_COUNTS)


def rate(raw: Path, dec: pd.DataFrame) -> pd.DataFrame:
    pub = pd.read_csv(raw / F_RATE, dtype={"Alue": str, "Kuukausi": str})
    pub = pub[pub["Kuukausi"].str.endswith("M12")]
    pub = pd.DataFrame({"kunta": _statfin.area_codes(pub["Alue"]),
                        "year": pub["Kuukausi"].str[:4].astype(int),
                        "value": pub["TYOTOSUUS"]})
    if pub["kunta"].isna().any():
        raise DataError(f"{F_RATE}: unexpected area codes")
    _statfin.require_division(pub["kunta"], 2025, file=F_RATE)
    split = _statfin.split_since(_statfin.TARGET, 2025)
    pub = pub[~pub["kunta"].isin(split)].assign(status="", source=SRC_RATE, table="12r5",
                                                vintage=V_RATE)

    calc = dec.assign(value=_round_half_up(100 * dec["TYOTTOMATLOPUSSA"] / dec["TYOVOIMATK"]))
    calc = calc[["kunta", "year", "value"]].assign(status="", source=SRC_RATE_CALC,
                                                   table="12r5", vintage=V_COUNTS)
    have = set(zip(pub["kunta"], pub["year"], strict=True))
    calc = calc[[k not in have for k in zip(calc["kunta"], calc["year"], strict=True)]]

    years = sorted(set(pub["year"]) - set(calc.loc[calc["kunta"].isin(split), "year"]))
    gone = pd.DataFrame([(k, y) for k in sorted(split) for y in years], columns=["kunta", "year"])
    gone = gone.assign(value=np.nan, status=NOT_PRESENTABLE, source=SRC_RATE + SPLIT_NOTE,
                       table="12r5", vintage=V_RATE)
    return pd.concat([pub, calc, gone], ignore_index=True)


def build(raw: Path) -> pd.DataFrame:
    counts = _counts(raw)
    dec = _december(counts)
    return pd.concat([
        _statfin.provenance_rows("tyottomat_tyonhakijat_osuus", rate(raw, dec)),
        _statfin.provenance_rows("tyottomat_tyonhakijat", jobseekers(dec)),
        _statfin.provenance_rows("tyovoima", labour_force(counts)),
    ], ignore_index=True)
