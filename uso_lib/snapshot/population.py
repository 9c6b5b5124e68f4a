"""Population 31.12. (``vaesto``) and its yearly change (``vaesto_muutos_pct``).

One source per year, recorded in every row:

- 1972-2023: StatFin 11re (final figures, published in the 2024 division, which equals 2023's).
- 2024: StatFin 11lj month 2024M12, a *preliminary* figure (ennakkotieto).
- 2025: Kuntien avainluvut item M411 (population 2025, table updated 2026-04-13).

The 2024 and 2025 files use the 2025 division, in which Pertunmaa (588) is part of Mäntyharju
(507). A 2025-division Mäntyharju is not the 2023-division one, and Pertunmaa alone is not
published, so both stay missing in those years (status ``.``, "cannot be presented") with the
reason in ``source``, rather than a figure that silently changes its area. The whole country
is unaffected.

``vaesto_muutos_pct`` is derived here from consecutive published populations (so it follows the
same sources); the row's source says so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib.errors import DataError
from uso_lib.snapshot import _statfin

F_11RE = "recent/statfin_vaerak_pxt_11re_all.derived.csv"
F_11LJ = "recent/statfin_vamuu_pxt_11lj_all.derived.csv"
F_2025 = "recent/kuntien-vakiluku-linkkitausta.csv"
RAW_FILES = [F_11RE, F_11LJ, F_2025]

V_11RE = "2025-03-19"  # retrieval date of the 11re and 11lj saves (Kangasala's repository)
V_2025 = "2026-04-13"  # update date of the Kuntien avainluvut table behind the 2025 file
MONTH_2024 = "2024M12"
NOT_PRESENTABLE = "."  # Statistics Finland: "loogisesti mahdoton esittää"

SRC_11RE = "Tilastokeskus, StatFin 11re (väestö 31.12.)"
SRC_11LJ = f"Tilastokeskus, StatFin 11lj (ennakkotieto {MONTH_2024})"
SRC_2025 = "Tilastokeskus, Kuntien avainluvut (väkiluku 2025, M411)"
SPLIT_NOTE = ("; ei esitetä 2023-aluejaossa: taulukko on 2025-aluejaossa, jossa Pertunmaa (588) "
              "sisältyy Mäntyharjuun (507)")


def _final(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_11RE, dtype={"Alue": str})
    df = df[(df["Ikä"] == "SSS") & (df["Sukupuoli"] == "SSS")]
    df["kunta"] = _statfin.area_codes(df["Alue"])
    if df["kunta"].isna().any():
        raise _unknown(F_11RE, df.loc[df["kunta"].isna(), "Alue"])
    _statfin.require_division(df["kunta"], _statfin.TARGET, file=F_11RE)
    out = df.rename(columns={"Vuosi": "year", "vaesto": "value"})[["kunta", "year", "value"]]
    return out.assign(status="", source=SRC_11RE, table="11re", vintage=V_11RE)


def _later_division(frame: pd.DataFrame, year: int, *, file: str, source: str, table: str,
                    vintage: str) -> pd.DataFrame:
    """Figures of the 2025 division -> 2023 division rows: unchanged municipalities as
    published, the merged pair missing with a reason."""
    _statfin.require_division(frame["kunta"], 2025, file=file)
    split = _statfin.split_since(_statfin.TARGET, 2025)
    keep = frame[~frame["kunta"].isin(split)]
    out = keep.assign(year=year, status="", source=source, table=table, vintage=vintage)
    gone = pd.DataFrame({"kunta": sorted(split), "value": float("nan"), "year": year,
                         "status": NOT_PRESENTABLE, "source": source + SPLIT_NOTE,
                         "table": table, "vintage": vintage})
    return pd.concat([out, gone], ignore_index=True)


def _prelim_2024(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_11LJ, dtype=str)
    df = df[(df["Kuukausi"] == MONTH_2024) & (df["Ikä"] == "SSS") & (df["Sukupuoli"] == "SSS")]
    df = df.assign(kunta=_statfin.area_codes(df["Alue"]),
                   value=pd.to_numeric(df["vaesto"]))
    if df["kunta"].isna().any():
        raise _unknown(F_11LJ, df.loc[df["kunta"].isna(), "Alue"])
    return _later_division(df[["kunta", "value"]], 2024, file=F_11LJ, source=SRC_11LJ,
                           table="11lj", vintage=V_11RE)


def _key_figures_2025(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_2025, dtype=str, keep_default_na=False)
    df = df.assign(kunta=df["code"].str.zfill(3),
                   value=pd.to_numeric(df["population2025"], errors="coerce"))
    if df["value"].isna().any():
        bad = df.loc[df["value"].isna(), "code"].tolist()
        raise DataError(f"{F_2025}: population2025 is not a number for codes {bad}")
    out = _later_division(df[["kunta", "value"]], 2025, file=F_2025, source=SRC_2025,
                          table="Kuntien avainluvut M411", vintage=V_2025)
    # the country = every resident of the 308 municipalities (the file has no country row)
    country = pd.DataFrame({"kunta": ["SSS"], "value": [df["value"].sum()], "year": [2025],
                            "status": [""], "source": [SRC_2025 + "; koko maa = kuntien summa"],
                            "table": ["Kuntien avainluvut M411"], "vintage": [V_2025]})
    return pd.concat([out, country], ignore_index=True)


def population(raw: Path) -> pd.DataFrame:
    """The ``vaesto`` series in a plain frame (kunta, year, value, status, source, table,
    vintage), one source per year."""
    df = pd.concat([_final(raw), _prelim_2024(raw), _key_figures_2025(raw)], ignore_index=True)
    return df.sort_values(["kunta", "year"]).reset_index(drop=True)


def change_pct(pop: pd.DataFrame) -> pd.DataFrame:
    """Change from the previous year, %, from consecutive published populations."""
    df = pop.sort_values(["kunta", "year"]).copy()
    g = df.groupby("kunta", sort=False)
    df = df.assign(prev=g["value"].shift(1), prev_year=g["year"].shift(1),
                   prev_table=g["table"].shift(1), prev_status=g["status"].shift(1))
    df = df[df["prev_year"] == df["year"] - 1].copy()
    df["change"] = ((df["value"] / df["prev"] - 1.0) * 100.0).round(4)
    df["status"] = df["status"].where(df["status"] != "", df["prev_status"]).fillna("")
    df["status"] = df["status"].where(df["change"].isna(), "")
    same = df["table"] == df["prev_table"]
    df["table"] = df["table"].where(same, df["prev_table"] + " + " + df["table"])
    cur = df["table"].str.split(" + ", regex=False).str[-1].map(_DESCRIBE)
    span = cur.where(same, df["prev_table"].map(_DESCRIBE) + " -> " + cur)
    df["source"] = ("Tilastokeskus, muutos-% edellisestä vuodesta laskettu väkiluvuista ("
                    + span + ")")
    df.loc[df["status"] == NOT_PRESENTABLE, "source"] += SPLIT_NOTE
    return df[["kunta", "year", "change", "status", "source", "table", "vintage"]]


_DESCRIBE = {"11re": "StatFin 11re", "11lj": f"StatFin 11lj, ennakkotieto {MONTH_2024}",
             "Kuntien avainluvut M411": "Kuntien avainluvut, väkiluku 2025"}


def _unknown(file: str, areas: pd.Series) -> Exception:
    return DataError(f"{file}: unexpected area codes {sorted(set(areas))[:10]}")


def build(raw: Path) -> pd.DataFrame:
    pop = population(raw)
    return pd.concat([
        _statfin.provenance_rows("vaesto", pop),
        _statfin.provenance_rows("vaesto_muutos_pct", change_pct(pop), value="change"),
    ], ignore_index=True)
