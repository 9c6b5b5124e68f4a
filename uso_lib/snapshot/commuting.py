"""Commuting 1987-2016 (in-commuters, out-commuters, working in the home municipality).

``statfin/dat_pendelointi.rda`` (pttry/KT162R) holds Statistics Finland's employment-statistics
commuting tables (tyokay 115n/115p, 013/014) for the 2017 division (311 municipalities, by
name), split by education level and age band without totals: the totals are their sums
(Juva 2016: 1624 working in Juva, 477 in-commuters, 727 out-commuters).

One source per series-year: this file gives 1987-2016, the Alueaikasarjat workbook
(``regional_series``) only 2019, although it also has 2015 (the two agree for Juva 2015).
Valtimo (2020) and Honkajoki (2021) merged later: their commuters are summed into Nurmes and
Kankaanpää, and the source text says that commuting between the two is then counted as
intermunicipal (the published 2023-area figure would count it as internal).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib.errors import DataError
from uso_lib.extras import require
from uso_lib.snapshot import _to2023, rows

RAW = "statfin/dat_pendelointi.rda"
RAW_FILES = [RAW]
FROM_DIVISION = 2017
SOURCE = ("Tilastokeskus, työssäkäyntitilasto (StatFin tyokay 115n, 115p, 013/014; "
          "aluejako 2017; koulutusasteiden ja ikäryhmien summa)")
TABLE = "tyokay"
VINTAGE = "2019-01-18"  # pttry/KT162R commit of the file (retrieval date not recorded)

MEASURES = {  # column in the file -> indicator id
    "tulopendelointi": "tulopendelointi",
    "lahtopendelointi": "lahtopendelointi",
    "asuinkunnassaan_tyossakayvat": "asuinkunnassa_tyossakayvat",
}
YEARS = (1987, 2016)


def read(raw: Path) -> pd.DataFrame:
    """Totals per municipality name and year (sums over education level and age)."""
    pyreadr = require("pyreadr", "snapshot")
    try:
        obj = pyreadr.read_r(raw / RAW, encoding="latin1")
    except Exception as exc:  # pyreadr raises several types on a corrupt file
        raise DataError(f"Cannot read {RAW}: {exc}") from exc
    df = obj.get("dat_pendelointi")
    if df is None:
        raise DataError(f"{RAW}: object 'dat_pendelointi' not found (has {list(obj)})")
    missing = [c for c in ["alue", "vuosi", *MEASURES] if c not in df.columns]
    if missing:
        raise DataError(f"{RAW}: columns {missing} not found")
    df = df.assign(alue=df["alue"].astype(str), vuosi=df["vuosi"].astype(int))
    # a missing cell would make the sum a guess: keep the total missing then
    grouped = df.groupby(["alue", "vuosi"], sort=True, observed=True)[list(MEASURES)]
    complete = grouped.count().eq(grouped.size(), axis=0)
    return grouped.sum().where(complete).reset_index()


def build(raw: Path) -> pd.DataFrame:
    agg = read(raw)
    codes = _to2023.names_to_codes(agg["alue"], FROM_DIVISION, where=RAW)
    agg = agg.assign(kunta=agg["alue"].map(codes)).rename(columns={"vuosi": "year"})
    agg = agg[agg["year"].between(*YEARS)]
    mapped = _to2023.to_2023(agg[["kunta", "year", *MEASURES]], from_division=FROM_DIVISION,
                             where=RAW, values=dict.fromkeys(MEASURES, True))
    out = []
    for col, indicator in MEASURES.items():
        frame = mapped[["kunta", "year", col]].rename(columns={col: "value"})
        part = rows(indicator, frame, source=SOURCE, table=TABLE, vintage=VINTAGE)
        notes = [_to2023.note(h, m, k, flow=True) for h, m, k in zip(
            mapped[f"{col}@how"], mapped["merged"], mapped["kunta"], strict=True)]
        part["source"] = [f"{SOURCE}; {n}" if n else SOURCE for n in notes]
        out.append(part)
    return pd.concat(out, ignore_index=True)
