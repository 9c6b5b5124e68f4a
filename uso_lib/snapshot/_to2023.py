"""Put figures published in an older (or newer) regional division onto the store's 2023 one.

Several raw files name municipalities of their own division (the 2017 division with 311
municipalities, the 2020 one with 310, the 2025 one with 308). A figure under a code that
later merged must neither vanish nor be passed off as the bigger municipality's figure, so the
builders of the regional series, commuting, election and finance data share these rules:

- a *count* (people, jobs, enterprises, tonnes) of merged municipalities is summed into the
  2023 municipality, and the source text says which old municipality was added;
- a *rate, mean or median* cannot be summed: the 2023 municipality's figure stays missing for
  those years, with the reason in the source text (never the old part's figure alone).

Names are resolved through :mod:`uso_lib.regions` with the file's own division, and a name or
code that resolves to nothing is an error, not a silent drop.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from uso_lib import regions
from uso_lib.errors import DataError, UnknownMunicipality

DIVISION = regions.DEFAULT_DIVISION


def names_to_codes(names: Iterable[str], division: int, *, where: str) -> dict[str, str]:
    """Finnish (or Swedish) municipality names of ``division`` -> their codes.

    Exact Finnish names first, then the registry's accent-insensitive look-up; two names that
    land on one code, or a name that lands on none, stop the build with the file named."""
    reg = regions.registry(division)
    by_name = {m.name_fi: m.code for m in reg}
    out: dict[str, str] = {}
    for name in dict.fromkeys(str(n).strip() for n in names):
        if name in by_name:
            out[name] = by_name[name]
            continue
        try:
            out[name] = reg.get(name).code
        except UnknownMunicipality as exc:
            raise DataError(f"{where}: municipality name {name!r} is not a municipality of the "
                            f"{division} division ({exc.message})") from exc
    codes = pd.Series(out)
    dup = codes[codes.duplicated(keep=False)]
    if not dup.empty:
        raise DataError(f"{where}: several names map to one code: {dup.to_dict()}")
    return out


def merger_note(old_codes: list[str], target: str) -> str:
    """'Honkajoki (099, yhdistetty 1.1.2021)' for every old code other than the target."""
    parts = []
    for mg in regions.mergers():
        if mg.code in old_codes and mg.code != target:
            parts.append(f"{mg.name} ({mg.code}, yhdistetty 1.1.{mg.year})")
    return ", ".join(parts)


# how a 2023 figure was obtained from the file's codes (companion column "<value>@how")
SUMMED = "summed"  # counts of the merged municipalities added up
INCLUDED = "included"  # the file already gave the merged area (merged-away part left empty)
NOT_SUMMABLE = "not_summable"  # a mean/median/rate of merged parts: left missing
PART_MISSING = "part_missing"  # a part is missing, so the sum is too


def to_2023(df: pd.DataFrame, *, from_division: int, values: dict[str, bool],
            where: str, by: tuple[str, ...] = ("year",),
            empty_part_means_included: bool = False) -> pd.DataFrame:
    """Map ``df`` (columns ``kunta`` in ``from_division``, ``by`` and the value columns) onto
    the 2023 division.

    ``values`` maps each value column to whether it is additive. The result has the same
    columns, ``merged`` (the old codes folded into the row, comma-separated, "" when none) and
    for every value column ``<col>@how`` ("" or one of SUMMED, INCLUDED, NOT_SUMMABLE,
    PART_MISSING) so that the source text can say what was done.

    ``empty_part_means_included``: some compilations mix columns downloaded in an older and a
    newer division; in the newer ones the merged-away municipality is empty and the surviving
    one already covers it (verified for the Alueaikasarjat workbook: Kankaanpää's 2019 jobs
    equal the 2021-division key figures). Then the surviving value is taken as it is."""
    reg = regions.registry(DIVISION)
    df = df.copy()
    df["kunta"] = df["kunta"].astype(str).str.zfill(3)
    target = {c: reg.map_code(c, from_division) for c in df["kunta"].unique()}
    lost = sorted(c for c, t in target.items() if t is None)
    if lost:
        raise DataError(f"{where}: codes {lost} of the {from_division} division have no "
                        f"municipality in the {DIVISION} division")
    df["old"] = df["kunta"]
    df["kunta"] = df["kunta"].map(target)
    keys = ["kunta", *by]
    size = df.groupby(keys, sort=False)["old"].transform("size")
    single = df[size == 1].drop(columns="old").assign(merged="")
    for col in values:
        single[f"{col}@how"] = ""
    parts = [single]
    for key, grp in df[size > 1].groupby(keys, sort=True):
        rec = dict(zip(keys, key, strict=True))
        own = grp[grp["old"] == rec["kunta"]]
        rest = grp[grp["old"] != rec["kunta"]]
        rec["merged"] = ",".join(sorted(rest["old"]))
        for col, additive in values.items():
            vals = grp[col].astype("float64")
            own_val = own[col].astype("float64")
            if (empty_part_means_included and len(own) == 1 and own_val.notna().all()
                    and rest[col].isna().all()):
                rec[col], how = float(own_val.iloc[0]), INCLUDED
            elif not additive:
                rec[col], how = np.nan, NOT_SUMMABLE
            elif vals.notna().all():
                rec[col], how = float(vals.sum()), SUMMED
            else:
                rec[col], how = np.nan, PART_MISSING
            rec[f"{col}@how"] = how
        parts.append(pd.DataFrame([rec]))
    cols = [*keys, "merged", *values, *(f"{c}@how" for c in values)]
    out = pd.concat(parts, ignore_index=True)[cols]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def note(how: str, merged: str, kunta: str, *, flow: bool = False) -> str:
    """The clause a builder appends to the source text of a row that met a merger."""
    if not merged or not how:
        return ""
    what = merger_note(merged.split(","), kunta)
    if how == INCLUDED:
        return f"julkaistu myöhemmällä aluejaolla, sisältää jo alueen {what}"
    if how == NOT_SUMMABLE:
        return (f"ei laskettavissa 2023 aluejaolle: mukaan kuuluisi {what}, eikä osuuksia tai "
                "keskilukuja voi laskea yhteen")
    if how == PART_MISSING:
        return f"ei laskettavissa 2023 aluejaolle: alueen {what} luku puuttuu"
    text = f"laskettu yhteen 2023 aluejaolle, sisältää alueen {what}"
    if flow:
        text += " (niiden väliset muutot ja työmatkat lasketaan kuntien välisiksi)"
    return text
