"""Municipal key figures (Kuntien avainluvut): labour market, education, age structure, jobs
by sector, municipal finance per resident.

- Municipalities 2000-2020 (population items 2021): the time-series table of the 2022 release
  (``Alue 2021``, which equals the 2023 division). The file keys areas by name and mixes in
  regions and sub-regions: names are joined through the registry, the region rows are
  recognised by name and left out, and any other unmatched name fails the build.
- The whole country (``SSS``): the "latest values" table of the same release, which has a
  WHOLE COUNTRY row for one year per item (2020, or 2021 for population items).

A missing cell (``..``) stays missing with status ``..``; a year that an item has not been
published for at all (the empty 2021 column of the employment and finance items) is left out
rather than stored as 309 missing figures.

Not used: ``statfin/kuntien_avainluvut.rds`` (2006-2016, 2019 division). Its finance items
start in 2008 too, so it adds no year to these series, only an older division to reconcile.
Population (``vaesto``) is not taken from here: population.py owns it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib import regions
from uso_lib.errors import DataError
from uso_lib.snapshot import _statfin

F_SERIES = "recent/Kuntien_avainluvut_20221108-aikasarja.csv"
F_LATEST = "statfin/key_figures_municipalities.csv"
RAW_FILES = [F_SERIES, F_LATEST]
DIVISION = 2021  # the file's "Alue 2021"

V_SERIES = "2022-11-08"
V_LATEST = "2022-11-05"
SRC = "Tilastokeskus, Kuntien avainluvut"
TABLE = "Kuntien avainluvut"

# indicator id -> (Finnish item in the time series, English item in the latest-values table)
ITEMS: dict[str, tuple[str, str]] = {
    "tyottomyysaste": ("Työttömien osuus työvoimasta, %",
                       "Proportion of the unemployed among the labour force, %"),
    "tyollisyysaste": ("Työllisyysaste, %", "Employment rate, %"),
    "tyollinen_tyovoima": ("Alueella asuvan työllisen työvoiman määrä",
                           "Employed labour force resident in the area"),
    "tyopaikat": ("Alueella olevien työpaikkojen lukumäärä", "Number of workplaces in the area"),
    "tyopaikkaomavaraisuus": ("Työpaikkaomavaraisuus", "Workplace self-sufficiency"),
    "alkutuotanto_osuus": ("Alkutuotannon työpaikkojen osuus, %",
                           "Share of workplaces in primary production, %"),
    "jalostus_osuus": ("Jalostuksen työpaikkojen osuus, %",
                       "Share of workplaces in secondary production, %"),
    "palvelut_osuus": ("Palvelujen työpaikkojen osuus, %", "Share of workplaces in services, %"),
    "omassa_kunnassa_tyossakayvat_osuus": (
        "Asuinkunnassaan työssäkäyvien osuus, %",
        "Share of persons working in their municipality of residence, %"),
    "tutkinto_osuus": (
        "Vähintään toisen asteen tutkinnon suorittaneiden osuus 15 vuotta täyttäneistä, %",
        "Share of persons aged 15 or over with at least upper secondary qualifications, %"),
    "korkea_aste_osuus": (
        "Korkea-asteen tutkinnon suorittaneiden osuus 15 vuotta täyttäneistä, %",
        "Share of persons aged 15 or over with tertiary level qualifications, %"),
    "alle15_osuus": ("Alle 15-vuotiaiden osuus väestöstä, %",
                     "Share of persons aged under 15 of the population, %"),
    "ika15_64_osuus": ("15-64 -vuotiaiden osuus väestöstä, %",
                       "Share of persons aged 15 to 64 of the population, %"),
    "yli64_osuus": ("Yli 64-vuotiaiden osuus väestöstä, %",
                    "Share of persons aged over 64 of the population, %"),
    "ruotsinkielisten_osuus": ("Ruotsinkielisten osuus väestöstä, %",
                               "Share of Swedish-speakers of the population, %"),
    "ulkomaan_kansalaisten_osuus": ("Ulkomaan kansalaisten osuus väestöstä, %",
                                    "Share of foreign citizens of the population, %"),
    "elakelaisten_osuus": ("Eläkeläisten osuus väestöstä, %",
                           "Proportion of pensioners of the population, %"),
    "taloudellinen_huoltosuhde": ("Taloudellinen huoltosuhde", "Economic dependency ratio"),
    "vuosikate_eur_as": ("Vuosikate, euroa/asukas",
                         "Annual contribution margin, EUR per capita"),
    "lainakanta_eur_as": ("Lainakanta, euroa/asukas", "Loan stock, EUR per capita"),
    "konsernin_lainakanta_eur_as": ("Konsernin lainakanta, euroa/asukas",
                                    "Group loan stock, EUR per capita"),
    "opetus_kulttuuri_nettokustannukset_eur_as": (
        "Opetus- ja kulttuuritoiminta yhteensä, nettokäyttökustannukset, euroa/asukas",
        "Educational and cultural activities, total, operating net costs, EUR per capita"),
    "sosiaali_terveys_nettokustannukset_eur_as": (
        "Sosiaali- ja terveystoiminta yhteensä, nettokäyttökustannukset, euroa/asukas",
        "Social and health care activities, total, operating net costs, EUR per capita"),
}


def _region_names() -> set[str]:
    """Names of the regions and sub-regions the series file mixes in: "<maakunta> maakunta",
    "<seutukunta> seutukunta" in Finnish, and the Åland and Swedish-named ones as they are."""
    f = regions.registry(DIVISION).frame()
    names: set[str] = set()
    for col in ("maakunta", "seutukunta"):
        for n in f[col].dropna().unique():
            names.add(n)
    return names


def _is_region(name: str, region_names: set[str]) -> bool:
    if name in region_names:
        return True
    for suffix in (" maakunta", " seutukunta"):
        if name.endswith(suffix):
            return True
    return False


def _series(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_SERIES, sep="\t", dtype=str, keep_default_na=False)
    area = "Alue 2021"
    wanted = {fi: ind for ind, (fi, _en) in ITEMS.items()}
    missing = sorted(set(wanted) - set(df["Tiedot"]))
    if missing:
        raise DataError(f"{F_SERIES}: items not found: {missing}")
    # a name that is a municipality's is one (the Helsinki sub-region is "Helsingin
    # seutukunta"); any other name must be a region or sub-region, or the build fails
    region_names = _region_names()
    regions_here = [n for n in df[area].unique() if _is_region(n, region_names)]
    codes = _statfin.codes_for_names(df[area], DIVISION, file=F_SERIES,
                                     allow_unmatched=regions_here)
    muni = df[df[area].isin(codes)]
    _statfin.require_division(codes.values(), DIVISION, file=F_SERIES)
    mapping = _statfin.forward_map(codes.values(), DIVISION, file=F_SERIES)
    if any(k != v for k, v in mapping.items()):
        raise DataError(f"{F_SERIES}: the 2021 division differs from 2023; add a merger rule")
    muni = muni[muni["Tiedot"].isin(wanted)]
    long = muni.melt(id_vars=[area, "Tiedot"], var_name="year", value_name="text")
    long["value"] = pd.to_numeric(long["text"], errors="coerce")
    odd = long[long["value"].isna() & (long["text"] != "..")]
    if not odd.empty:
        raise DataError(f"{F_SERIES}: values that are neither numbers nor '..': "
                        f"{odd[['Tiedot', 'year', 'text']].head(3).to_dict('records')}")
    long["status"] = long["text"].where(long["value"].isna(), "")
    long["indicator"] = long["Tiedot"].map(wanted)
    long["kunta"] = long[area].map(codes)
    long["year"] = long["year"].astype(int)
    published = long.groupby(["indicator", "year"])["value"].transform(lambda s: s.notna().any())
    long = long[published]
    return long[["indicator", "kunta", "year", "value", "status"]].assign(
        source=SRC, table=TABLE, vintage=V_SERIES)


def _country(raw: Path) -> pd.DataFrame:
    df = pd.read_csv(raw / F_LATEST, encoding="cp1252")
    row = df[df.iloc[:, 0].astype(str).str.upper() == "WHOLE COUNTRY"]
    if len(row) != 1:
        raise DataError(f"{F_LATEST}: expected one WHOLE COUNTRY row, found {len(row)}")
    by_item = {}
    for col in df.columns[1:]:
        item, _, year = col.rpartition(", ")
        if not year.isdigit():
            raise DataError(f"{F_LATEST}: column {col!r} does not end with a year")
        by_item[item] = (col, int(year))
    out = []
    for ind, (_fi, en) in ITEMS.items():
        if en not in by_item:
            raise DataError(f"{F_LATEST}: item {en!r} not found")
        col, year = by_item[en]
        value = pd.to_numeric(row[col], errors="coerce").iloc[0]
        out.append({"indicator": ind, "kunta": _statfin.COUNTRY, "year": year, "value": value,
                    "status": "" if pd.notna(value) else ".."})
    return pd.DataFrame(out).assign(source=SRC + " (uusimmat tiedot, koko maa)", table=TABLE,
                                    vintage=V_LATEST)


def build(raw: Path) -> pd.DataFrame:
    df = pd.concat([_series(raw), _country(raw)], ignore_index=True)
    parts = [_statfin.provenance_rows(ind, grp) for ind, grp in df.groupby("indicator")]
    return pd.concat(parts, ignore_index=True)
