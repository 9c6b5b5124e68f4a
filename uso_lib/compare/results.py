"""What a comparison returns: one group's statistics, a change over a period, the comparison of
one indicator, and the source line of a figure. Judgements, groups and notes are codes and
values (``better``; ``maakunta`` named "Etelä-Savo"; ``year_fallback`` of 2023 to 2020); their
Finnish wording is :mod:`uso_lib.text`'s."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from uso_lib.provenance import source_text


@dataclass(frozen=True)
class Note:
    """Something the reader of a comparison must be told, as a code and its values
    (:func:`uso_lib.text.note_text` words it):

    - ``year_fallback`` (asked, used): no figures for the year asked; an earlier year is used;
    - ``no_value`` (name, year, status): the municipality has no value that year;
    - ``change_break`` (start, end, why): no change across a break in the series;
    - ``categories_only`` (): the store has the indicator by category only (no total);
    - ``no_data`` (how_to_get,): no figures at all; the catalogue's how-to-get text or "".
    """

    code: str
    values: tuple = ()


@dataclass
class GroupStats:
    key: str
    name: str  # the group's own name (a maakunta's, a kuntaryhmä's) or ""
    members: list[str]
    n_members: int
    n_with_data: int
    missing: list[str]  # members without a value that year
    mean: float | None
    median: float | None
    weighted_mean: float | None = None  # population-weighted, rates only
    weighted_by: str | None = None  # e.g. "vaesto 2021"
    includes_self: bool = False
    rank: int | None = None  # of the municipality among members + itself
    rank_text: str = "–"
    n_ranked: int = 0
    difference: float | None = None  # value - mean
    difference_sd: float | None = None  # (value - mean) / country SD
    assessment: str | None = None  # better/same/worse, higher/same/lower

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GroupChange:
    n: int  # members with data at both ends
    mean_absolute: float | None
    mean_pct: float | None


@dataclass
class Change:
    start: int
    end: int
    start_value: float | None
    end_value: float | None
    absolute: float | None
    pct: float | None
    groups: dict[str, GroupChange] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    indicator: str
    label: str
    unit: str
    decimals: int
    polarity: str
    kind: str
    relative_index: bool
    kunta: str
    name: str
    year: int | None
    category: str
    value: float | None
    status: str
    source: str
    table: str
    vintage: str
    origin: str
    country_value: float | None  # the publisher's whole-country figure (SSS), if any
    country_sd: float | None
    percentile: float | None
    quintile: int | None
    groups: dict[str, GroupStats]
    change: Change | None = None
    notes: list[Note] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return self.value is None

    @property
    def assessment(self) -> str | None:
        """Against the peers (else the network, else the country)."""
        for key in ("peers", "network", "country"):
            if key in self.groups:
                return self.groups[key].assessment
        return None

    @property
    def source_text(self) -> str:
        return source_text(self.source, self.table, self.year)

    def group(self, key: str) -> GroupStats | None:
        return self.groups.get(key)

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("groups", "change")}
        d["groups"] = {k: g.to_dict() for k, g in self.groups.items()}
        d["change"] = self.change.to_dict() if self.change else None
        d["assessment"] = self.assessment
        d["source_text"] = self.source_text
        return d
