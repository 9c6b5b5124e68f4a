"""Voter turnout: municipal elections 2021 and parliamentary elections 1983-2019.

Municipal elections 2021 (StatFin kvaa 12x4, PxWeb CSV downloads in olliKolli1/CSS):
``äänestys_data.csv`` has voters and turnout by sex, ``väkiluku.csv`` -- despite its name --
the eligible voters. The total turnout is not in the files: it is computed as voters (men +
women) / eligible voters x 100 (Juva: 2492 / 5057 = 49.3 %); the turnout by sex is the
published one. The files cover the 293 mainland municipalities: Åland holds its own municipal
elections, so its 16 municipalities get an explicit missing row saying so. Pertunmaa's eligible
voters are absent from ``väkiluku.csv`` (which lists a leftover "099 Honkajoki -21" with 0
instead), so Pertunmaa's total stays missing; its turnout by sex is published and kept.

Parliamentary elections (StatFin evaa via kjoonas1/Vaalikartta ``aanestystiedot.json``) list the
municipalities of each election year. A municipality merged in 2015-2021 (the registry's merger
list) is added into its 2023 municipality by summing eligible voters and voters, so the turnout
is that of the 2023 area. Municipalities abolished before 2013 (merger year shown in the name,
e.g. "Liljendal -10") are not in the merger list: they are left out (``DROPPED_PRE2013`` counts
them), so before its merger the figure of a municipality that absorbed them covers its own
area of the time only. The whole country is the published figure of Finnish citizens resident
in Finland.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from uso_lib import regions
from uso_lib.errors import DataError
from uso_lib.snapshot import _to2023, rows

VOTERS = "statfin/äänestys_data.csv"
ELIGIBLE = "statfin/väkiluku.csv"
PARLIAMENT = "statfin/aanestystiedot.json"
RAW_FILES = [VOTERS, ELIGIBLE, PARLIAMENT]

MUNICIPAL = "aanestysaktiivisuus_kuntavaalit"
PARLIAMENTARY = "aanestysaktiivisuus_eduskuntavaalit"
KVAA_SOURCE = "Tilastokeskus, kuntavaalit 2021 (StatFin kvaa 12x4)"
KVAA_TABLE = "kvaa 12x4"
KVAA_VINTAGE = "2025-05-11"  # olliKolli1/CSS commit holding the downloads (retrieval not recorded)
EVAA_SOURCE = "Tilastokeskus, eduskuntavaalit (StatFin evaa, äänestystiedot alueittain)"
EVAA_TABLE = "evaa"
EVAA_VINTAGE = "2019"  # kjoonas1/Vaalikartta, 2019 project; the retrieval date is not recorded
COMPUTED = "kokonaisprosentti laskettu julkaistuista luvuista: äänestäneet / äänioikeutetut × 100"
ALAND = "Ahvenanmaalla on omat kunnallisvaalit: ei Tilastokeskuksen kuntavaalitilastossa"

_AREA = re.compile(r"^(\d{3}) (.+)$")
_PRE2013 = re.compile(r" -(\d{2})$")  # "Liljendal -10": abolished at the start of 2010


def _area(text: str, where: str) -> tuple[str, str]:
    m = _AREA.match(str(text).strip())
    if not m:
        raise DataError(f"{where}: area {text!r} is not of the form '178 Juva'")
    return m.group(1), m.group(2)


def _read_csv(raw: Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_csv(raw / name, sep=";", encoding="latin-1", dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read {name}: {exc}") from exc


def municipal(raw: Path) -> pd.DataFrame:
    votes = _read_csv(raw, VOTERS)
    elig = _read_csv(raw, ELIGIBLE)
    need = {"Tiedot", "Alue", "Äänestäneitä miehiä", "Äänestäneitä naisia"}
    if not need <= set(votes.columns) or "Äänioikeutetut" not in elig.columns:
        raise DataError(f"{VOTERS}/{ELIGIBLE}: unexpected columns {list(votes.columns)} / "
                        f"{list(elig.columns)}")
    for name, frame in ((VOTERS, votes), (ELIGIBLE, elig)):
        if set(frame["Vuosi"]) != {"2021"}:
            raise DataError(f"{name}: expected the 2021 elections only, found years "
                            f"{sorted(set(frame['Vuosi']))}")
    votes[["kunta", "nimi"]] = [_area(a, VOTERS) for a in votes["Alue"]]
    elig[["kunta", "nimi"]] = [_area(a, ELIGIBLE) for a in elig["Alue"]]
    men, women = "Äänestäneitä miehiä", "Äänestäneitä naisia"
    for col in (men, women):
        votes[col] = pd.to_numeric(votes[col], errors="raise")
    elig["n"] = pd.to_numeric(elig["Äänioikeutetut"], errors="raise")
    reg = regions.registry(_to2023.DIVISION)
    # the eligible-voter download lists the abolished Honkajoki with 0: not a 2021 municipality
    stale = elig[~elig["kunta"].isin(reg.codes())]
    if not (stale["n"] == 0).all():
        raise DataError(f"{ELIGIBLE}: eligible voters for codes outside the 2023 division: "
                        f"{stale[['Alue', 'n']].to_dict('records')}")
    elig = elig[elig["kunta"].isin(reg.codes())].set_index("kunta")["n"]
    cnt = votes[votes["Tiedot"] == "Äänestäneet"].set_index("kunta")
    pct = votes[votes["Tiedot"] == "Äänestysprosentti"].set_index("kunta")
    unknown = sorted(set(cnt.index) - set(reg.codes()))
    if unknown or len(cnt) != 293:
        raise DataError(f"{VOTERS}: expected the 293 mainland municipalities of 2021, got "
                        f"{len(cnt)} (not in the 2023 division: {unknown})")
    total = pd.DataFrame({"kunta": cnt.index, "year": 2021, "category": ""})
    total["value"] = ((cnt[men] + cnt[women]) / elig.reindex(cnt.index) * 100).to_numpy()
    total["source"] = [f"{KVAA_SOURCE}; {COMPUTED}" if k in elig.index else
                       f"{KVAA_SOURCE}; äänioikeutettujen määrä puuttuu aineistosta, joten "
                       "kokonaisprosenttia ei voi laskea (sukupuolittaiset julkaistu)"
                       for k in cnt.index]
    by_sex = [pd.DataFrame({"kunta": pct.index, "year": 2021, "category": sx,
                            "value": pct[col].to_numpy(), "source": KVAA_SOURCE})
              for sx, col in (("m", men), ("n", women))]
    aland = [m.code for m in reg if m.code not in cnt.index]
    if len(aland) != 16 or any(reg.get(c).maakunta_code != "21" for c in aland):
        raise DataError(f"{VOTERS}: the municipalities missing from the file should be the 16 "
                        f"of Åland, found {aland}")
    missing = pd.DataFrame([{"kunta": c, "year": 2021, "category": cat, "value": np.nan,
                             "source": f"{KVAA_SOURCE}; {ALAND}"}
                            for c in aland for cat in ("", "m", "n")])
    frame = pd.concat([total, *by_sex, missing], ignore_index=True)
    out = rows(MUNICIPAL, frame, category="category", source=KVAA_SOURCE, table=KVAA_TABLE,
               vintage=KVAA_VINTAGE)
    out["source"] = frame["source"].to_numpy()
    return out


# parliamentary -------------------------------------------------------------------------------
_COLS = {
    "": ("Äänioikeutetut Sukupuolet yhteensä", "Äänestäneet Sukupuolet yhteensä",
         "Äänestysprosentti Sukupuolet yhteensä"),
    "m": ("Äänioikeutetut Miehet", "Äänestäneet Miehet", "Äänestysprosentti Miehet"),
    "n": ("Äänioikeutetut Naiset", "Äänestäneet Naiset", "Äänestysprosentti Naiset"),
}
RESIDENTS = "Suomessa asuvat Suomen kansalaiset"


def read_parliamentary(raw: Path) -> pd.DataFrame:
    try:
        data = json.loads((raw / PARLIAMENT).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {PARLIAMENT}: {exc}") from exc
    df = pd.DataFrame(data)
    need = {"Alue", "Vuosi", *(c for cols in _COLS.values() for c in cols)}
    if not need <= set(df.columns):
        raise DataError(f"{PARLIAMENT}: columns {sorted(need - set(df.columns))} not found")
    return df


def parliamentary(raw: Path) -> tuple[pd.DataFrame, list[str]]:
    """Store rows and the names of the pre-2013 municipalities left out."""
    df = read_parliamentary(raw)
    muni = df[df["Alue"].str.match(_AREA)].copy()
    muni[["kunta", "nimi"]] = [_area(a, PARLIAMENT) for a in muni["Alue"]]
    # a municipality's row in the years it did not exist is empty: not a figure
    muni = muni[muni[_COLS[""][0]].notna()]
    reg = regions.registry(_to2023.DIVISION)
    first = regions.registry(2013)
    target = {}
    dropped: list[str] = []
    for (code, name), grp in muni.groupby(["kunta", "nimi"]):
        years = grp["Vuosi"].astype(int)
        mapped = reg.map_code(code, int(years.max()))
        if mapped is not None:
            target[code] = mapped
            continue
        # not in the 2013-2026 merger list: allowed only for municipalities gone before 2013
        if code in first or not _PRE2013.search(name):
            raise DataError(f"{PARLIAMENT}: municipality {code} {name!r} cannot be mapped to "
                            "the 2023 division and is not one abolished before 2013")
        dropped.append(f"{code} {name}")
    muni = muni[muni["kunta"].isin(target)].copy()
    muni["old"] = muni["kunta"]
    muni["kunta"] = muni["kunta"].map(target)
    muni["year"] = muni["Vuosi"].astype(int)
    size = muni.groupby(["kunta", "year"])["old"].transform("size")
    single, multi = muni[size == 1], muni[size > 1]
    # a municipality as it was: the published percentage
    parts = [pd.DataFrame({"kunta": single["kunta"], "year": single["year"], "category": cat,
                           "value": single[pct], "source": EVAA_SOURCE})
             for cat, (_e, _v, pct) in _COLS.items()]
    # municipalities merged later: recomputed from the summed counts
    recomputed = []
    for (kunta, year), grp in multi.groupby(["kunta", "year"], sort=True):
        src = (f"{EVAA_SOURCE}; laskettu yhteen 2023 aluejaolle, sisältää alueen "
               f"{_to2023.merger_note(sorted(set(grp['old']) - {kunta}), kunta)}: "
               "äänestäneet / äänioikeutetut × 100")
        for cat, (elig, voted, _p) in _COLS.items():
            complete = grp[voted].notna().all() and grp[elig].notna().all()
            recomputed.append({"kunta": kunta, "year": year, "category": cat, "source": src,
                               "value": grp[voted].sum() / grp[elig].sum() * 100
                               if complete else np.nan})
    parts.append(pd.DataFrame(recomputed))
    country = df[df["Alue"] == RESIDENTS]
    for cat, (_e, _v, pct) in _COLS.items():
        parts.append(pd.DataFrame({"kunta": regions.COUNTRY, "year": country["Vuosi"].astype(int),
                                   "category": cat, "value": country[pct],
                                   "source": f"{EVAA_SOURCE}; koko maa: {RESIDENTS}"}))
    frame = pd.concat(parts, ignore_index=True)
    out = rows(PARLIAMENTARY, frame, category="category", source=EVAA_SOURCE, table=EVAA_TABLE,
               vintage=EVAA_VINTAGE)
    out["source"] = frame["source"].to_numpy()
    return out, sorted(dropped)


def build(raw: Path) -> pd.DataFrame:
    parl, _dropped = parliamentary(raw)
    return pd.concat([municipal(raw), parl], ignore_index=True)
