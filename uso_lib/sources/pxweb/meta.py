"""What a PxWeb table's metadata means, whatever its variables are called.

Statistics Finland renames variables (``Alue`` became ``alue_23_20260101``, ``Vuosi``
``timeperiod_y``) and mixes region classes in one variable, so the loader never trusts a code:

- **region**: the variable with the most municipality values -- ``KU###``, or bare three-digit
  codes that are (nearly all) real municipality codes, as older releases had them under
  "Alue 2020". Their share among the values does not matter: the real Kuntien avainluvut table
  has 575 region values in 15 classes (``SSS``, ``KU###``, ``MA``, ``SA``, ``MK``, ``HVA``,
  ``SK``, ``ELY``, ``AVI``, ``TA``, ...), of which 308 are municipalities. Ages ``000``-``099``
  are not taken for municipalities: a third of them only happen to be municipality codes.
- **time**: the variable flagged ``time: true``; else one named as a time variable in any of
  the languages (``Vuosi``, ``Year``, ``timeperiod_m``, ``Kuukausi``, ``Vuosineljännes``);
  else the only variable whose values all read as periods. Periods are annual (``2024``),
  monthly (``2024M12``) or quarterly (``2024Q4``).
- **content**: ``contentscode`` / ``Tiedot`` / ``Information`` / ``Uppgifter``.

Region values are kept in the store as: ``SSS`` (the whole country), the three-digit
municipality code (``178``), and the publisher's code for the regional aggregates a report
compares against -- maakunta ``MK10``, wellbeing services county ``HVA12`` (``HVA90`` is
Helsinki, ``HVA91`` Åland), seutukunta ``SK105``. The store's municipal statistics only count
registry codes, so these rows never mix with the municipalities. Other classes (ELY, AVI,
employment areas, constituencies, courts, NUTS) are not asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pandas as pd

from uso_lib import regions
from uso_lib.errors import SourceError
from uso_lib.regions import fold

COUNTRY = regions.COUNTRY
TOTAL = "SSS"  # the total of any variable in Statistics Finland's tables
_KU = re.compile(r"^KU(\d{3})$")
_BARE = re.compile(r"^\d{3}$")
_REGIONAL = re.compile(r"^(MK\d{2}|HVA\d{2}|SK\d{3})$")
_DIVISION = re.compile(r"_(\d{4})\d{4}$")
_CONTENT_NAMES = {"contentscode", "tiedot", "information", "uppgifter"}
_TIME_NAMES = {"vuosi", "year", "ar", "timeperiod y", "timeperiod m", "timeperiod q",
               "kuukausi", "month", "manad", "vuosineljannes", "neljannes", "quarter",
               "kvartal"}
_REGION_WORDS = {"alue", "kunta", "region", "area", "municipality", "omrade", "kommun"}
_PERIOD = re.compile(r"^(?P<year>\d{4})(?:(?P<kind>[MQ])(?P<sub>\d{1,2}))?$")
KNOWN_SHARE = 0.9  # of bare three-digit values that must be real municipality codes
MIN_BARE = 10  # bare codes needed when the variable's name does not say "region"


@dataclass(frozen=True)
class Period:
    """One time value: ``2024`` (year), ``2024M12`` (month 12), ``2024Q4`` (quarter 4)."""

    code: str
    year: int
    kind: str  # "year", "month" or "quarter"
    sub: int = 0  # the month or quarter; 0 for a year


def parse_period(code: str) -> Period | None:
    m = _PERIOD.match(str(code).strip())
    if not m:
        return None
    year, kind, sub = int(m["year"]), m["kind"], int(m["sub"] or 0)
    if kind is None:
        return Period(code, year, "year")
    if kind == "M" and 1 <= sub <= 12:
        return Period(code, year, "month", sub)
    if kind == "Q" and 1 <= sub <= 4:
        return Period(code, year, "quarter", sub)
    return None


@dataclass(frozen=True)
class Variable:
    code: str
    text: str
    values: tuple[str, ...]
    value_texts: tuple[str, ...]
    elimination: bool = False
    time: bool = False

    def label(self, value: str) -> str:
        try:
            return self.value_texts[self.values.index(value)]
        except (ValueError, IndexError):
            return value


@cache
def municipality_codes() -> frozenset[str]:
    """Every municipality code of any division the registry knows (2013 onwards) and every
    code merged away: what a bare three-digit region value may be."""
    codes = pd.read_csv(regions.data_path(), dtype=str, usecols=["code"])["code"]
    merged = {m.code for m in regions.mergers()} | {m.into for m in regions.mergers()}
    return frozenset(set(codes.str.zfill(3)) | merged)


def store_code(value: str) -> str | None:
    """The store's key of a region value: ``SSS``, ``"178"`` (from ``KU178`` or a bare
    ``178``), ``MK10`` / ``HVA12`` / ``SK105``; None for the classes the store does not keep."""
    value = str(value)
    if value == TOTAL:
        return COUNTRY
    m = _KU.match(value)
    if m:
        return m.group(1)
    if _BARE.match(value):
        return value
    if _REGIONAL.match(value):
        return value
    return None


def is_municipal(code: str) -> bool:
    """A store key of a municipality (not the country, not a regional aggregate)."""
    return bool(_BARE.match(str(code)))


def municipal_values(var: Variable) -> int:
    """How many of the variable's values are municipalities (0: it is not a region variable)."""
    ku = sum(1 for x in var.values if _KU.match(x))
    if ku:
        return ku
    bare = [x for x in var.values if _BARE.match(x)]
    if not bare:
        return 0
    known = sum(1 for x in bare if x in municipality_codes())
    named = bool(_REGION_WORDS & set(fold(var.code).split() + fold(var.text).split()))
    if known >= KNOWN_SHARE * len(bare) and (named or known >= MIN_BARE):
        return known
    return 0


@dataclass(frozen=True)
class TableMeta:
    database: str
    table: str
    title: str
    variables: tuple[Variable, ...]

    @property
    def time(self) -> Variable | None:
        flagged = [v for v in self.variables if v.time]
        if flagged:
            return flagged[0]
        named = [v for v in self.variables
                 if fold(v.code) in _TIME_NAMES or fold(v.text) in _TIME_NAMES]
        if named:
            return named[0]
        periodic = [v for v in self.variables
                    if v.values and all(parse_period(x) for x in v.values)]
        return periodic[0] if len(periodic) == 1 else None

    @property
    def region(self) -> Variable | None:
        time = self.time
        best, score = None, 0
        for v in self.variables:
            if v is time or not v.values:
                continue
            n = municipal_values(v)
            if n > score:
                best, score = v, n
        return best

    @property
    def content(self) -> Variable | None:
        for v in self.variables:
            if fold(v.code) in _CONTENT_NAMES or fold(v.text) in _CONTENT_NAMES:
                return v
        return None

    @property
    def division(self) -> int | None:
        """The regional division year: encoded in the region variable's code since 2026
        (``alue_23_20260101``); for older tables None (unknown)."""
        reg = self.region
        m = _DIVISION.search(reg.code) if reg else None
        return int(m.group(1)) if m else None

    def find(self, name: str) -> Variable | None:
        """A variable by code, by text, or by code stem (``sukupuoli`` finds
        ``sukupuoli_9_20180101``), case- and accent-insensitively."""
        key = fold(name)
        for test in (lambda v: v.code == name, lambda v: fold(v.code) == key,
                     lambda v: fold(v.text) == key,
                     lambda v: fold(v.code.split("_")[0]) == key):
            hits = [v for v in self.variables if test(v)]
            if hits:
                return hits[0]
        return None


def parse_metadata(doc: object, database: str, table: str, *, what: str) -> TableMeta:
    """A table metadata answer (``{"title", "variables": [...]}``) as :class:`TableMeta`."""
    if not isinstance(doc, dict) or not isinstance(doc.get("variables"), list):
        raise SourceError(f"{what}: expected {{'title', 'variables': [...]}}.",
                          hint="Is the table id right? Ids are short since June 2026 "
                               "(11re, not statfin_vaerak_pxt_11re).")
    try:
        variables = tuple(
            Variable(code=str(v["code"]), text=str(v.get("text", v["code"])),
                     values=tuple(map(str, v.get("values", []))),
                     value_texts=tuple(map(str, v.get("valueTexts", []))),
                     elimination=bool(v.get("elimination", False)),
                     time=bool(v.get("time", False)))
            for v in doc["variables"])
    except (KeyError, TypeError, AttributeError) as exc:
        raise SourceError(f"{what}: a variable lacks {exc}.") from exc
    return TableMeta(database, table, str(doc.get("title", "")), variables)


__all__ = ["COUNTRY", "TOTAL", "Period", "parse_period", "Variable", "TableMeta",
           "parse_metadata", "store_code", "is_municipal", "municipal_values",
           "municipality_codes"]
