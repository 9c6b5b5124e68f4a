"""The municipality registry of a regional division (default 2023: 309 municipalities).

Codes are three-digit strings everywhere in uso (``"178"``, never ``178``). Look-ups accept a
code (``"178"``, ``"KU178"``, ``178``) or a Finnish, Swedish or English name, case- and
accent-insensitively (``"jamsa"`` finds Jämsä, ``"Jakobstad"`` finds Pietarsaari). The registry
knows the mergers between divisions, so data published in an older or newer division is mapped
to this one instead of being dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import pandas as pd
import yaml
from rapidfuzz import fuzz, process

from uso_lib.config import PACKAGE_DATA
from uso_lib.errors import InvalidCode, MergedMunicipality, UnknownMunicipality
from uso_lib.provenance import year_span

DEFAULT_DIVISION = 2023
COUNTRY = "SSS"
_CODE = re.compile(r"^(?:KU)?(\d{3})$", re.IGNORECASE)
_CODE_LIKE = re.compile(r"^(?:KU)?\d+$|^KU$|^KU\d", re.IGNORECASE)  # not "Kuhmo"


@dataclass(frozen=True)
class Municipality:
    code: str
    name_fi: str
    name_sv: str
    name_en: str
    maakunta_code: str
    maakunta: str
    seutukunta_code: str
    seutukunta: str
    hyvinvointialue_code: str
    hyvinvointialue: str
    kuntaryhmitys_code: str
    kuntaryhmitys: str
    kielisuhde_code: str
    kielisuhde: str

    @property
    def name(self) -> str:
        return self.name_fi

    @property
    def slug(self) -> str:
        """A file-name-safe ASCII slug of the Finnish name (``mantta-vilppula``)."""
        return slugify(self.name_fi)

    @property
    def file_stem(self) -> str:
        """Report file stem: the code and the slug, nothing taken verbatim from user input."""
        return f"{self.code}-{self.slug}"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Merger:
    year: int
    code: str
    name: str
    into: str


def fold(text: str) -> str:
    """Case- and accent-insensitive key: ``"Jämsä"`` -> ``"jamsa"``."""
    text = unicodedata.normalize("NFKD", str(text)).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s\-_.]+", " ", text).strip()


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return s or "kunta"


@cache
def _history() -> pd.DataFrame:
    path = PACKAGE_DATA / "municipalities.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@cache
def mergers() -> tuple[Merger, ...]:
    with open(PACKAGE_DATA / "mergers.yaml", encoding="utf-8") as fh:
        rows = yaml.safe_load(fh)
    return tuple(Merger(int(r["year"]), str(r["code"]), str(r["name"]), str(r["into"]))
                 for r in rows)


class Registry:
    """The municipalities of one division year, with look-up by code or name."""

    def __init__(self, division: int = DEFAULT_DIVISION) -> None:
        hist = _history()
        years = sorted({int(y) for y in hist["year"]})
        if division not in years:
            raise ValueError(f"No classification for the {division} division "
                             f"(available {year_span(years)})")
        self.division = division
        rows = hist[hist["year"] == str(division)].drop(columns=["year", "maakunta_sv"])
        self._by_code: dict[str, Municipality] = {
            r["code"]: Municipality(**r) for r in rows.to_dict("records")
        }
        self._names: dict[str, str] = {}
        for m in self._by_code.values():
            for n in (m.name_fi, m.name_sv, m.name_en):
                if n:
                    self._names.setdefault(fold(n), m.code)
        # every name a code ever had, for "merged into" messages
        self._old_names: dict[str, tuple[str, str]] = {}
        for r in hist[["code", "name_fi", "name_sv"]].drop_duplicates().itertuples():
            for n in (r.name_fi, r.name_sv):
                if n:
                    self._old_names.setdefault(fold(n), (r.code, r.name_fi))

    # -- collection ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self):
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return str(code) in self._by_code

    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([m.to_dict() for m in self]).sort_values("code").reset_index(
            drop=True)

    def in_group(self, level: str, code: str) -> list[Municipality]:
        """Members of a maakunta / seutukunta / hyvinvointialue / kuntaryhmitys."""
        attr = f"{level}_code"
        return [m for m in self if getattr(m, attr) == code]

    # -- look-up ------------------------------------------------------------------------
    def get(self, query: object) -> Municipality:
        """Find one municipality or raise an error that says what to type instead."""
        if isinstance(query, Municipality):
            query = query.code
        if isinstance(query, int) and not isinstance(query, bool):
            if 0 <= query <= 999:
                query = f"{query:03d}"
            else:
                raise InvalidCode(query)
        text = str(query).strip()
        if not text:
            raise UnknownMunicipality(query, message="No municipality given (empty name).")
        m = _CODE.match(text)
        if m:
            code = m.group(1)
            if code in self._by_code:
                return self._by_code[code]
            self._raise_merged(query, code)
            raise UnknownMunicipality(query, message=(
                f"No municipality has the code {code!r} in the {self.division} division. "
                "Run `uso municipalities` for the list."))
        if _CODE_LIKE.match(text) or text.isdigit():
            raise InvalidCode(query)
        key = fold(text)
        if key in self._names:
            return self._by_code[self._names[key]]
        if key in self._old_names:
            self._raise_merged(query, self._old_names[key][0])
        raise UnknownMunicipality(query, self.suggest(text))

    def _raise_merged(self, query: object, code: str) -> None:
        chain = {mg.code: mg for mg in mergers()}
        target, merged = code, None
        while target in chain and target not in self._by_code:
            merged = merged or chain[target]
            if chain[target].year > self.division:
                break
            target = chain[target].into
        if merged and merged.year <= self.division and target in self._by_code:
            new = self._by_code[target]
            raise MergedMunicipality(query, old_code=merged.code, old_name=merged.name,
                                     new_code=new.code, new_name=new.name_fi,
                                     year=merged.year, division=self.division)

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        """The closest Finnish names to a misspelt one."""
        choices = {k: self._by_code[c].name_fi for k, c in self._names.items()}
        hits = process.extract(fold(text), list(choices), scorer=fuzz.WRatio, limit=limit * 3)
        out: list[str] = []
        for key, score, _ in hits:
            name = choices[key]
            if score >= 60 and name not in out:
                out.append(name)
        return out[:limit]

    def map_code(self, code: str, from_division: int) -> str | None:
        """The code in this division of a municipality code of another division: follows
        mergers forward (099 -> 214 for 2021 onwards). Returns None for a code that is not a
        municipality of this division and was not merged into one (a later merger cannot be
        undone: 507's data after 2025 contains Pertunmaa and is kept under 507)."""
        code = str(code).zfill(3)
        chain = {mg.code: mg for mg in mergers()}
        seen = set()
        while code not in self._by_code and code in chain and code not in seen:
            seen.add(code)
            mg = chain[code]
            if not (from_division < mg.year <= self.division):
                break
            code = mg.into
        return code if code in self._by_code else None


@cache
def registry(division: int = DEFAULT_DIVISION) -> Registry:
    return Registry(division)


def lookup(query: object, division: int = DEFAULT_DIVISION) -> Municipality:
    return registry(division).get(query)


def data_path() -> Path:
    return PACKAGE_DATA / "municipalities.csv"
