"""Welfare indicators: Diak's relative indices, THL/Kela morbidity and Kela shares, Sotkanet's
Gini coefficient and child poverty rate.

Three files (see ``welfare/SOURCES.md``):

- ``diak_karttasovellus/df_v20230224_aikasarja.derived.csv``: Diak's *relative* indices of
  Sotkanet indicators -- a 3-year mean divided by the median municipality's, x 100 -- for the
  windows 2010-2012 ... 2019-2021. A window is stored under its **last year** (2019-2021 ->
  2021: the newest statistics it contains), and every row's source text names the window.
  These are rankings, never rates (the catalogue flags them ``relative_index``).
- ``diak_kartta/df.e033f7be.csv`` (1.6.2024) and ``df.d39c2513.csv`` (14.3.2025): Diak's
  map-site data, one cross-section each with **no year**: the raw THL/Kela morbidity index
  (Sotkanet 5641, age-standardised, with its sub-indices as categories) and two Kela shares.
  The build checks that both releases hold the *same* values (they do, so it is one vintage);
  the 2025 release merely drops Pertunmaa (merged 1.1.2025), so the figures are read from the
  2024 release. Nothing in the sources dates the statistics: the rows carry the year of the
  first release that holds them, **2024**, and a source text saying that the statistics year
  is not stated (the vintage is the release date).
- ``sotkanet_child_welfare_export/sotkanet-data.derived.csv``: a Sotkanet export listing the
  308 municipalities of 2025. Pertunmaa (588, merged into Mäntyharju 1.1.2025) is simply
  absent, and Mäntyharju's (507) figures are Mäntyharju's own, not recomputed for the merged
  area: its Gini 2019 is 26.6, Statistics Finland's figure for Mäntyharju alone (Alueaikasarjat;
  Pertunmaa 28.6). So 507 is kept as it is and Pertunmaa gets explicit missing rows.

Diak covers the 293 mainland municipalities; Åland's 16 get explicit missing rows that say so.
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

DIAK_SERIES = "welfare/diak_karttasovellus/df_v20230224_aikasarja.derived.csv"
DIAK_MAP = "welfare/diak_kartta/df.e033f7be.csv"  # release of 1.6.2024 (2024 division)
DIAK_MAP_LATER = "welfare/diak_kartta/df.d39c2513.csv"  # release of 14.3.2025: same values
DIAK_MAP_META = "welfare/diak_kartta/df_muuttujakuvaukset.4b719856.json"
SOTKANET = "welfare/sotkanet_child_welfare_export/sotkanet-data.derived.csv"
RAW_FILES = [DIAK_SERIES, DIAK_MAP, DIAK_MAP_LATER, DIAK_MAP_META, SOTKANET]

# indicator id -> (Diak column, Sotkanet id of the underlying indicator)
DIAK_INDICES = {
    "syrjaytymisriski_nuoret_indeksi": ("Koulutuksen ulkopuolelle jääneet 17–24-vuotiaat", 3219),
    "toimeentulotuki_pitkaaikainen_25_64_indeksi": (
        "Toimeentulotukea pitkäaikaisesti saaneet 25–64-vuotiaat", 234),
    "toimeentulotuki_pitkaaikainen_18_24_indeksi": (
        "Toimeentulotukea pitkäaikaisesti saaneet 18–24-vuotiaat", 1275),
    "rikokset_henki_terveys_indeksi": (
        "Poliisin tietoon tulleet henkeen ja terveyteen kohdistuneet rikokset", 3113),
    "tyomarkkinatuki_kuntaosuus_indeksi": ("Kunnan osarahoittama työmarkkinatuki", 4223),
    "nuorisotyottomyys_indeksi": ("Nuorisotyöttömyys", 189),
}
DIAK_SERIES_VINTAGE = "2023-02-24"
DIAK_MAP_VINTAGE = "2024-06-01"
MAP_YEAR = 2024  # the first release holding the values: the files state no statistics year

MORBIDITY = "sairastavuusindeksi"
MORBIDITY_PARTS = {  # category -> Diak variable (age-standardised); ids come from the metadata
    "": "Sairastavuusindeksi, ikävakioitu",
    "syopa": "Syöpäindeksi, ikävakioitu",
    "sepelvaltimotauti": "Sepelvaltimotauti-indeksi, ikävakioitu",
    "aivoverisuonitauti": "Aivoverisuonitauti-indeksi, ikävakioitu",
    "tuki_ja_liikuntaelimet": "Tuki- ja liikuntaelinsairausindeksi, ikävakioitu",
    "mielenterveys": "Mielenterveysindeksi, ikävakioitu",
    "muistisairaudet": "Muistisairausindeksi, ikävakioitu",
    "keuhkosairaudet": "Keuhkosairausindeksi, ikävakioitu",
    "alkoholi": "Alkoholisairastavuusindeksi, ikävakioitu",
    "diabetes": "Diabetesindeksi, ikävakioitu",
    "tyokyvyttomyys": "Työkyvyttömyysindeksi, ikävakioitu",
}
KELA_SHARES = {
    "tmt_kuntaosuus_saajat_osuus":
        "Kunnan osarahoittaman työmarkkinatuen saajien osuus väestöstä (%)",
    "perustoimeentulotuki_saajat_osuus": "Perustoimeentulotuen saajien osuus väestöstä (%)",
}

SOTKANET_IDS = {3126: "gini", 228: "lasten_pienituloisuusaste"}
SOTKANET_VINTAGE = "2025-04-23"  # cjrwebb/pgrt-tidying-data commit of the export
MERGED_2025 = {"588": "507"}  # Pertunmaa -> Mäntyharju on 1.1.2025

ALAND_NOTE = "Ahvenanmaan kunnat eivät ole Diakin aineistossa"


def _read_csv(raw: Path, name: str, **kw) -> pd.DataFrame:
    try:
        return pd.read_csv(raw / name, **kw)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"Cannot read {name}: {exc}") from exc


def _mainland() -> list[str]:
    return [m.code for m in regions.registry(_to2023.DIVISION) if m.maakunta_code != "21"]


def _aland() -> list[str]:
    return [m.code for m in regions.registry(_to2023.DIVISION) if m.maakunta_code == "21"]


def _check_codes(codes: pd.Series, where: str) -> None:
    have = set(codes)
    if have != set(_mainland()):
        raise DataError(f"{where}: expected the 293 mainland municipalities of the 2023 "
                        f"division; extra {sorted(have - set(_mainland()))}, missing "
                        f"{sorted(set(_mainland()) - have)}")


def diak_series(raw: Path) -> pd.DataFrame:
    df = _read_csv(raw, DIAK_SERIES, dtype={"kunta_code": str})
    need = ["kunta_code", "window_mid_year", "window", *(c for c, _ in DIAK_INDICES.values())]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{DIAK_SERIES}: columns {missing} not found")
    df["kunta_code"] = df["kunta_code"].str.zfill(3)
    _check_codes(df["kunta_code"], DIAK_SERIES)
    mid = df["window_mid_year"].astype(int)
    expected = (mid - 1).astype(str) + "-" + (mid + 1).astype(str)
    if not (df["window"] == expected).all():
        raise DataError(f"{DIAK_SERIES}: a 'window' does not span window_mid_year ± 1")
    df["year"] = mid + 1  # stored under the window's last year
    windows = df[["year", "window"]].drop_duplicates().set_index("year")["window"]
    aland = pd.DataFrame([(k, y) for k in _aland() for y in windows.index],
                         columns=["kunta_code", "year"])
    aland_codes = set(_aland())
    out = []
    for ind, (col, sotka) in DIAK_INDICES.items():
        base = (f"Diak, Huono-osaisuus Suomessa (aineisto 24.2.2023), THL Sotkanet {sotka}: "
                "vuosien {w} keskiarvo suhteessa mediaanikuntaan (= 100)")
        frame = pd.concat([df[["kunta_code", "year", col]], aland], ignore_index=True)
        frame = frame.rename(columns={"kunta_code": "kunta", col: "value"})
        part = rows(ind, frame, source=base, table=f"Sotkanet {sotka} (Diak-indeksi)",
                    vintage=DIAK_SERIES_VINTAGE)
        part["source"] = [base.format(w=windows[y].replace("-", "–"))
                          + (f"; {ALAND_NOTE}" if k in aland_codes else "")
                          for k, y in zip(frame["kunta"], frame["year"], strict=True)]
        out.append(part)
    return pd.concat(out, ignore_index=True)


def _sotkanet_ids(raw: Path) -> dict[str, int]:
    """Diak variable name -> Sotkanet indicator id, read from the links in the metadata."""
    try:
        meta = json.loads((raw / DIAK_MAP_META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {DIAK_MAP_META}: {exc}") from exc
    out = {}
    for entry in meta:
        m = re.search(r"metadata/indicators/(\d+)", entry.get("link") or "")
        if m:
            out[entry["variable"]] = int(m.group(1))
    return out


def _map_values(raw: Path, name: str) -> pd.DataFrame:
    df = _read_csv(raw, name)
    need = {"regio_level", "aluekoodi", "variable", "value"}
    if not need <= set(df.columns):
        raise DataError(f"{name}: columns {sorted(need - set(df.columns))} not found")
    df = df[(df["regio_level"] == "Kunnat") & df["aluekoodi"].notna()].copy()
    df["kunta"] = df["aluekoodi"].astype(int).astype(str).str.zfill(3)
    return df


def diak_map(raw: Path) -> pd.DataFrame:
    df = _map_values(raw, DIAK_MAP)
    later = _map_values(raw, DIAK_MAP_LATER)
    ids = _sotkanet_ids(raw)
    if ids.get(MORBIDITY_PARTS[""]) != 5641:
        raise DataError(f"{DIAK_MAP_META}: expected the morbidity index to link Sotkanet 5641, "
                        f"found {ids.get(MORBIDITY_PARTS[''])}")
    released = ("Diak, Huono-osaisuus Suomessa -karttapalvelu (aineisto 1.6.2024, samat arvot "
                "14.3.2025)")
    undated = "tilastovuotta ei ilmoiteta: vuosi on ensimmäisen julkaisun vuosi"
    specs = [(MORBIDITY, cat, var, f"THL ja Kela, Sotkanet {ids.get(var, '?')}")
             for cat, var in MORBIDITY_PARTS.items()]
    specs += [(ind, "", var, "Kela, Kelasto") for ind, var in KELA_SHARES.items()]
    codes = set(regions.registry(_to2023.DIVISION).codes())
    aland = set(_aland())
    out = []
    for ind, cat, var, publisher in specs:
        sub = df[df["variable"] == var].set_index("kunta")["value"]
        if sub.empty:
            raise DataError(f"{DIAK_MAP}: variable {var!r} not found")
        if sub.index.duplicated().any() or not set(sub.index) <= codes:
            raise DataError(f"{DIAK_MAP}: {var!r}: duplicate codes or codes outside the 2023 "
                            "division")
        other = later[later["variable"] == var].set_index("kunta")["value"]
        both = sub.to_frame("a").join(other.to_frame("b"), how="inner").dropna()
        if both.empty or not np.allclose(both["a"], both["b"]):
            raise DataError(f"{DIAK_MAP} and {DIAK_MAP_LATER} disagree on {var!r}: they are "
                            "not one vintage, so the year convention here no longer holds")
        vals = sub.reindex(sorted(codes))
        frame = pd.DataFrame({"kunta": vals.index, "year": MAP_YEAR, "value": vals.to_numpy(),
                              "category": cat})
        src = f"{released}; {publisher}: {var}; {undated}"
        part = rows(ind, frame, category="category", source=src,
                    table=publisher.split(", ")[-1], vintage=DIAK_MAP_VINTAGE)
        no_data = part["kunta"].isin(aland) & part["value"].isna()
        part.loc[no_data, "source"] = f"{src}; {ALAND_NOTE}"
        out.append(part)
    return pd.concat(out, ignore_index=True)


def sotkanet(raw: Path) -> pd.DataFrame:
    df = _read_csv(raw, SOTKANET, dtype={"municipality_code": str})
    need = {"indicator_id", "municipality_code", "year", "value"}
    if not need <= set(df.columns):
        raise DataError(f"{SOTKANET}: columns {sorted(need - set(df.columns))} not found")
    df = df[df["indicator_id"].isin(SOTKANET_IDS)].copy()
    df["kunta"] = df["municipality_code"].str.zfill(3)
    codes = set(regions.registry(_to2023.DIVISION).codes())
    expected = codes - set(MERGED_2025)
    if set(df["kunta"]) != expected:
        raise DataError(f"{SOTKANET}: expected the 308 municipalities of the 2025 division; "
                        f"extra {sorted(set(df['kunta']) - expected)}, missing "
                        f"{sorted(expected - set(df['kunta']))}")
    reg = regions.registry(_to2023.DIVISION)
    out = []
    for sotka, ind in SOTKANET_IDS.items():
        sub = df[df["indicator_id"] == sotka][["kunta", "year", "value"]]
        base = f"THL Sotkanet {sotka} (verkkopalvelun taulukko, vuoden 2025 kunnat)"
        gone = [pd.DataFrame({"kunta": old, "year": sub.loc[sub["kunta"] == new, "year"]
                              .to_numpy(), "value": np.nan})
                for old, new in MERGED_2025.items()]
        frame = pd.concat([sub, *gone], ignore_index=True)
        part = rows(ind, frame, source=base, table=f"Sotkanet {sotka}",
                    vintage=SOTKANET_VINTAGE)
        for old, new in MERGED_2025.items():
            part.loc[part["kunta"] == old, "source"] = (
                f"{base}; {reg.get(old).name_fi} ({old}) puuttuu viennistä (yhdistyi kuntaan "
                f"{reg.get(new).name_fi} 1.1.2025)")
        out.append(part)
    return pd.concat(out, ignore_index=True)


def build(raw: Path) -> pd.DataFrame:
    return pd.concat([diak_series(raw), diak_map(raw), sotkanet(raw)], ignore_index=True)
