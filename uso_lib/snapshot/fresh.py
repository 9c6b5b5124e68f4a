"""The two small files of the 2026-12 scout run (``recent/fresh/``, SOURCES.md §5): the 2023
parliamentary turnout and the 2026 municipal income-tax rates.

Both were transcribed from indexed text, not copied byte for byte, and neither is a
Statistics Finland download in the sense of the other recent files, so each row's source says
what it is:

- ``election_municipal.turnout.derived.csv``: turnout in the 2023 parliamentary elections from
  StatFin evaa 13sx (content evaa_aanpros, the KU### roll-ups), 309 municipalities of the 2023
  division. Its municipal figures count the eligible voters living abroad who are registered
  to the municipality; the 1983-2019 figures of :mod:`.elections` count residents of Finland
  only (up to 28 points apart where many live abroad). The catalogue marks 2023 as a series
  break, so no change is drawn between 2019 and 2023. No whole-country figure is in the file,
  and none is computed (a mean of municipal rates is not the country's turnout).
- ``vero_tulovero.csv``: the municipal income-tax rates 2026 from Verohallinto's decision page,
  308 municipalities of the 2026 division. In the store's 2023 division Mäntyharju (507) and
  Pertunmaa (588) are one municipality since 2025: a 2026 rate belongs to the merged one, so
  both stay missing (status ``.``) with the reason, as the population does for 2024-2025.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib.errors import DataError
from uso_lib.snapshot import _statfin, rows

F_TURNOUT = "recent/fresh/election_municipal.turnout.derived.csv"
F_TAX = "recent/fresh/vero_tulovero.csv"
RAW_FILES = [F_TURNOUT, F_TAX]

TURNOUT = "aanestysaktiivisuus_eduskuntavaalit"
TURNOUT_YEAR = 2023
TURNOUT_SOURCE = ("Tilastokeskus, eduskuntavaalit 2023 (StatFin evaa 13sx, kunnittain; mukana "
                  "kuntaan rekisteröidyt ulkomailla asuvat äänioikeutetut, eri määritelmä kuin "
                  "vuosien 1983-2019 luvuissa)")
TURNOUT_TABLE = "evaa 13sx"
# the election's own year: the scout transcribed a 2026 commit of jvmarten/naapurustot whose
# retrieval date is not recorded (as for the older evaa file, vintage "2019")
TURNOUT_VINTAGE = "2023"

TAX = "tuloveroprosentti"
TAX_SOURCE = "Verohallinto, kuntien ja seurakuntien tuloveroprosentit vuonna 2026"
TAX_TABLE = "Verohallinto 2026 (kunnallisveroprosentti)"
TAX_VINTAGE = "2026-09-24"  # fetched from vero.fi by real-estate-war-lord/am-dashboard-fi
TAX_DIVISION = 2026
NOT_PRESENTABLE = "."
SPLIT_NOTE = ("; ei esitetä 2023-aluejaossa: vuoden 2026 veroprosentti on yhdistyneen "
              "Mäntyharjun, johon Pertunmaa (588) kuuluu vuodesta 2025")


def _number(frame: pd.DataFrame, column: str, file: str, low: float, high: float) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = frame.loc[values.isna() | (values < low) | (values > high), "kunta"].tolist()
    if bad:
        raise DataError(f"{file}: {column} is not a number in {low}-{high} for codes {bad[:10]}")
    return values


def turnout(raw: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(raw / F_TURNOUT, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read {F_TURNOUT}: {exc}") from exc
    if list(df.columns) != ["kunta", "turnout_pct"]:
        raise DataError(f"{F_TURNOUT}: expected columns kunta, turnout_pct; found "
                        f"{list(df.columns)}")
    _statfin.require_division(df["kunta"], _statfin.TARGET, file=F_TURNOUT)
    df["value"] = _number(df, "turnout_pct", F_TURNOUT, 0, 100)
    df["year"] = TURNOUT_YEAR
    return rows(TURNOUT, df, source=TURNOUT_SOURCE, table=TURNOUT_TABLE, vintage=TURNOUT_VINTAGE)


def tax_rate(raw: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(raw / F_TAX, sep=";", dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read {F_TAX}: {exc}") from exc
    if not {"year", "kunta", "pct"} <= set(df.columns):
        raise DataError(f"{F_TAX}: expected columns year;kunta;name;pct, found {list(df.columns)}")
    if set(df["year"]) != {str(TAX_DIVISION)}:
        raise DataError(f"{F_TAX}: expected the {TAX_DIVISION} rates only, found years "
                        f"{sorted(set(df['year']))}")
    _statfin.require_division(df["kunta"], TAX_DIVISION, file=F_TAX)
    df["value"] = _number(df, "pct", F_TAX, 0, 30)
    df["year"] = TAX_DIVISION
    split = _statfin.split_since(_statfin.TARGET, TAX_DIVISION)
    keep = df[~df["kunta"].isin(split)].assign(status="", source=TAX_SOURCE)
    gone = pd.DataFrame({"kunta": sorted(split), "year": TAX_DIVISION, "value": float("nan"),
                         "status": NOT_PRESENTABLE, "source": TAX_SOURCE + SPLIT_NOTE})
    frame = pd.concat([keep, gone], ignore_index=True)
    out = rows(TAX, frame, status="status", source=TAX_SOURCE, table=TAX_TABLE,
               vintage=TAX_VINTAGE)
    out["source"] = frame["source"].to_numpy()
    return out


def build(raw: Path) -> pd.DataFrame:
    return pd.concat([turnout(raw), tax_rate(raw)], ignore_index=True)
