"""The crisis-municipality assessment (kriisikuntamenettely, kuntalaki 118 §), criterion by
criterion, from the figures the store has.

The statutory criteria are data (``data/kriisikunta.yaml``, with where their text comes from
in ``docs/kriisikunta.md``), so that an amendment is a YAML edit. Most of the statutory figures
are group-level accounts (konsernitilinpäätös) that no open statistics table in the catalogue
carries; those criteria say so and what would supply them, instead of being guessed from a
near figure. A criterion that needs two consecutive years is *not met* as soon as one
available year fails it (it cannot be met then), *met* only when both years have figures that
meet it, and otherwise *no data*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from uso_lib import catalog as catalog_mod
from uso_lib.errors import DataError, NoData
from uso_lib.regions import COUNTRY
from uso_lib.store import Store, StoreLike, get_store

RULES_FILE = Path(__file__).resolve().parent / "data" / "kriisikunta.yaml"

Status = Literal["met", "not_met", "no_data"]
STATUS_FI = {"met": "täyttyy", "not_met": "ei täyty", "no_data": "ei tietoa"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Model):
    """A limit derived from the country's figure of an indicator: factor * SSS + offset."""

    indicator: str
    factor: float = 1.0
    offset: float = 0.0
    label: str


class Criterion(_Model):
    id: str
    route: Literal["alijaama", "tunnusluvut"]
    label: str
    comparison: Literal[">=", "<"] | None
    threshold: float | None = None
    thresholds: list[float] | None = None  # one per year, oldest first
    reference: Reference | None = None
    unit: str
    years: int
    indicators: list[str]
    approximation: str | None = None
    missing: str


class Version(_Model):
    id: str
    label: str
    rule_year: int
    in_force: str
    accounts_from: int | None
    accounts_until: int | None
    sources: list[str]
    criteria: list[Criterion]

    def applies_to(self, year: int) -> bool:
        return ((self.accounts_from is None or year >= self.accounts_from)
                and (self.accounts_until is None or year <= self.accounts_until))


class Rules(_Model):
    law: str
    title: str
    versions: list[Version]

    def current(self) -> Version:
        return max(self.versions, key=lambda v: v.rule_year)

    def for_year(self, year: int) -> Version:
        for v in self.versions:
            if v.applies_to(year):
                return v
        raise DataError(f"{RULES_FILE.name}: no version of {self.law} covers the accounts "
                        f"year {year}.")


@cache
def rules(path: Path = RULES_FILE) -> Rules:
    """The criteria file, validated; every indicator it names must be in the catalogue."""
    with open(path, encoding="utf-8") as f:
        out = Rules.model_validate(yaml.safe_load(f))
    ids = set(catalog_mod.catalog().ids())
    for v in out.versions:
        for c in v.criteria:
            named = [*c.indicators] + ([c.reference.indicator] if c.reference else [])
            unknown = [i for i in named if i not in ids]
            if unknown:
                raise DataError(f"{path.name}: criterion {c.id!r} of {v.id} names indicators "
                                f"not in the catalogue: {', '.join(unknown)}.")
    return out


@dataclass
class YearCheck:
    """One year of one criterion: the municipality's figure and the limit it is held to."""

    year: int
    value: float | None
    limit: float | None
    met: bool | None  # None: a figure is missing
    source: str = ""
    reference_value: float | None = None  # the country's figure behind the limit
    reference_source: str = ""
    missing: list[str] = field(default_factory=list)


@dataclass
class CriterionResult:
    criterion: Criterion
    status: Status
    checks: list[YearCheck]
    notes: list[str] = field(default_factory=list)

    @property
    def status_fi(self) -> str:
        return STATUS_FI[self.status]


@dataclass
class Assessment:
    kunta: str
    version: Version
    law: str
    results: list[CriterionResult]

    def route_status(self, route: str) -> Status:
        """alijaama: met if either criterion is; tunnusluvut: met only if all four are."""
        sts = [r.status for r in self.results if r.criterion.route == route]
        if route == "alijaama":
            return "met" if "met" in sts else ("no_data" if "no_data" in sts else "not_met")
        return "not_met" if "not_met" in sts else ("no_data" if "no_data" in sts else "met")

    @property
    def citation(self) -> str:
        return f"{self.law}, {self.version.label}"


def _figure(st: Store, indicator: str, kunta: str, year: int) -> tuple[float | None, str]:
    try:
        obs = st.get(indicator, kunta, year)
    except NoData:
        return None, ""
    source = obs.source if not obs.table or obs.table in obs.source else \
        f"{obs.source}, {obs.table}"
    return (None if obs.missing else obs.value), source


def _latest_year(st: Store, indicators: list[str], kunta: str) -> int | None:
    years = []
    for ind in indicators:
        rows = st.rows(ind)
        rows = rows[(rows["kunta"] == kunta) & (rows["category"] == "") & rows["value"].notna()]
        if len(rows):
            years.append(int(rows["year"].max()))
    return max(years) if years else None


def assess_criterion(c: Criterion, kunta: str, st: Store,
                     year: int | None = None) -> CriterionResult:
    """One criterion for the accounts years ending in ``year`` (default: the municipality's
    latest year with a figure)."""
    if c.comparison is None or not c.indicators:
        return CriterionResult(c, "no_data", [], [c.missing])
    last = year if year is not None else _latest_year(st, c.indicators, kunta)
    if last is None:
        return CriterionResult(c, "no_data", [], [c.missing])
    checks = []
    for i, y in enumerate(range(last - c.years + 1, last + 1)):
        value, source = _figure(st, c.indicators[0], kunta, y)
        check = YearCheck(year=y, value=value, limit=None, met=None, source=source)
        if value is None:
            check.missing.append(f"kunnan luku {y}")
        if c.reference is not None:
            ref, ref_source = _figure(st, c.reference.indicator, COUNTRY, y)
            check.reference_value, check.reference_source = ref, ref_source
            if ref is None:
                check.missing.append(f"koko maan luku {y}")
            else:
                check.limit = c.reference.factor * ref + c.reference.offset
        elif c.thresholds is not None:
            check.limit = c.thresholds[i]
        else:
            check.limit = c.threshold
        if value is not None and check.limit is not None:
            check.met = value >= check.limit if c.comparison == ">=" else value < check.limit
        checks.append(check)
    if any(ch.met is False for ch in checks):
        status: Status = "not_met"
    elif all(ch.met for ch in checks):
        status = "met"
    else:
        status = "no_data"
    notes = []
    if status == "no_data":
        gaps = [m for ch in checks for m in ch.missing]
        notes.append(f"Puuttuu: {', '.join(gaps)}. {c.missing}")
    if c.approximation:
        notes.append(c.approximation)
    return CriterionResult(c, status, checks, notes)


def assess(kunta: str, *, store: StoreLike = None, accounts_year: int | None = None,
           path: Path = RULES_FILE) -> Assessment:
    """Every criterion of the rule in force for ``accounts_year`` (default: the current rule,
    each criterion at its latest year with data)."""
    rs = rules(path)
    st = get_store(store)
    version = rs.for_year(accounts_year) if accounts_year is not None else rs.current()
    results = []
    for c in version.criteria:
        res = assess_criterion(c, kunta, st, accounts_year)
        last = max((ch.year for ch in res.checks), default=None)
        if accounts_year is None and last is not None and not version.applies_to(last):
            earlier = rs.for_year(last)
            res.notes.append(f"Vuoden {last} tilinpäätöksiin sovellettiin sääntöä "
                             f"{earlier.label}; tässä luku on verrattu voimassa olevaan "
                             "raja-arvoon.")
        results.append(res)
    return Assessment(kunta=kunta, version=version, law=rs.law, results=results)
