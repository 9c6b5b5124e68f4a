"""Shared joins for the Statistics Finland builders (population, vital, projection, key
figures, unemployment): area codes and names to the 2023 division, and merged municipalities.

Why a module of its own: several raw files key municipalities by name only, and several use a
division other than 2023. Every builder must map them the same way and must fail loudly on a
name or code it cannot place, instead of dropping the row silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from uso_lib import regions
from uso_lib.errors import DataError

TARGET = regions.DEFAULT_DIVISION  # the store's division (2023)
COUNTRY = regions.COUNTRY
_KU = re.compile(r"^KU(\d{3})$")


def area_code(alue: str) -> str | None:
    """``"KU178"`` -> ``"178"``, ``"SSS"`` -> ``"SSS"``, a plain ``"178"`` stays; other areas
    (``"MK10"``, ``"SK105"``, ELY centres) -> None."""
    alue = str(alue).strip()
    if alue == COUNTRY:
        return COUNTRY
    m = _KU.match(alue)
    if m:
        return m.group(1)
    if alue.isdigit() and len(alue) <= 3:
        return alue.zfill(3)
    return None


def area_codes(areas: pd.Series) -> pd.Series:
    """:func:`area_code` over a column (mapped once per distinct value: files are long)."""
    uniq = pd.unique(areas.astype(str))
    return areas.astype(str).map({a: area_code(a) for a in uniq})


def _distinct(codes: Iterable[str]) -> list[str]:
    return [str(c) for c in pd.unique(pd.Series(codes, dtype=object))]


def name_index(division: int) -> dict[str, str]:
    """Folded Finnish and Swedish names of a division's municipalities -> code.

    Built from the registry's own rows, not through ``Registry.get``, so that a name lookup can
    never be mistaken for a code lookup."""
    out: dict[str, str] = {}
    for m in regions.registry(division):
        for n in (m.name_fi, m.name_sv):
            if n:
                out.setdefault(regions.fold(n), m.code)
    return out


def codes_for_names(names: Iterable[str], division: int, *, file: str,
                    allow_unmatched: Iterable[str] = ()) -> dict[str, str]:
    """Map every municipality name of a file to its code in ``division``.

    Raises DataError naming the unmatched names (and the file) unless they are listed in
    ``allow_unmatched`` (regions and sub-regions in a mixed file), and when two names land on
    the same code."""
    index = name_index(division)
    allowed = {regions.fold(n) for n in allow_unmatched}
    out: dict[str, str] = {}
    unmatched = []
    for name in dict.fromkeys(str(n) for n in names):
        code = index.get(regions.fold(name))
        if code is None:
            if regions.fold(name) not in allowed:
                unmatched.append(name)
            continue
        out[name] = code
    if unmatched:
        raise DataError(f"{file}: {len(unmatched)} municipality names do not match the "
                        f"{division} division: {unmatched[:10]}. Check the file's division "
                        "or add the spelling to the registry.")
    dup = pd.Series(out).duplicated(keep=False)
    if dup.any():
        raise DataError(f"{file}: several names map to the same municipality: "
                        f"{sorted(pd.Series(out)[dup].items())}")
    return out


def require_division(codes: Iterable[str], division: int, *, file: str) -> None:
    """Fail if the municipality codes of a file are not exactly those of ``division``."""
    have = {c for c in _distinct(codes) if c != COUNTRY}
    want = set(regions.registry(division).codes())
    if have != want:
        raise DataError(f"{file}: its municipalities are not those of the {division} division "
                        f"(extra {sorted(have - want)[:10]}, missing {sorted(want - have)[:10]})")


def forward_map(codes: Iterable[str], from_division: int, *, file: str) -> dict[str, str]:
    """Code in ``from_division`` -> code in the 2023 division, following mergers (099 -> 214).

    A code that maps nowhere is an error, never a silent drop."""
    reg = regions.registry(TARGET)
    out: dict[str, str] = {}
    bad = []
    for c in _distinct(codes):
        if c == COUNTRY:
            out[c] = c
            continue
        new = reg.map_code(c, from_division)
        if new is None:
            bad.append(c)
        else:
            out[c] = new
    if bad:
        raise DataError(f"{file}: municipality codes {bad[:10]} of the {from_division} division "
                        f"have no municipality in the {TARGET} division")
    return out


def merged_groups(mapping: dict[str, str]) -> dict[str, list[str]]:
    """2023 code -> the older codes summed into it, for the codes that are merger results."""
    groups: dict[str, list[str]] = {}
    for old, new in mapping.items():
        groups.setdefault(new, []).append(old)
    return {k: sorted(v) for k, v in groups.items() if len(v) > 1}


def sum_forward(frame: pd.DataFrame, mapping: dict[str, str], *, kunta: str = "kunta",
                by: list[str], value: str = "value") -> pd.DataFrame:
    """Re-key counts to the 2023 division by summing the merged municipalities.

    Counts only (people, moves): a sum of rates would be wrong. If any part is missing the
    merged figure is missing too (min_count), never a partial sum."""
    df = frame.copy()
    df[kunta] = df[kunta].map(mapping)
    parts = df.groupby([kunta, *by], observed=True)[value]
    out = parts.sum(min_count=1).to_frame(value)
    out["_n"] = parts.size()
    out["_nn"] = parts.count()
    out.loc[out["_nn"] < out["_n"], value] = float("nan")
    return out.drop(columns=["_n", "_nn"]).reset_index()


def split_since(division_from: int, division_to: int) -> set[str]:
    """Codes of ``division_from`` whose area differs in ``division_to`` (the merged code and
    the one it joined): their later-division figures cannot stand for the earlier division."""
    out: set[str] = set()
    for mg in regions.mergers():
        if division_from < mg.year <= division_to:
            out.update({mg.code, mg.into})
    return out


def provenance_rows(indicator: str, frame: pd.DataFrame, *, value: str = "value",
                    category: str | None = None) -> pd.DataFrame:
    """Store rows from a frame that carries its own per-row ``status``, ``source``, ``table``
    and ``vintage`` columns (one indicator may mix sources by year). Every row must name a
    source and a table: a figure without provenance is a bug."""
    from uso_lib.snapshot import rows

    for col in ("source", "table", "vintage"):
        bad = frame[col].isna() | (frame[col].astype(str) == "")
        if bad.any():
            raise DataError(f"{indicator}: {int(bad.sum())} rows lack {col}")
    out = rows(indicator, frame, value=value, category=category, status="status",
               source="", table="", vintage="")
    for col in ("source", "table", "vintage"):
        out[col] = frame[col].astype(str).to_numpy()
    out["retrieved"] = out["vintage"]
    return out
