"""The indicator catalogue: every measure of the situation analysis, as data.

The definitions live in ``uso_lib/data/catalog/*.yaml`` (read in file-name order: the themes
first, then one file per family of sources), one entry per measure, covering every row of the
client's INDICATORS.md; this module only validates and serves them. Adding an indicator means
adding YAML, not code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rapidfuzz import process

from uso_lib.errors import DataError, UnknownIndicator

CATALOG_DIR = Path(__file__).resolve().parent / "data" / "catalog"

Polarity = Literal["higher_better", "lower_better", "neutral"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Theme(_Model):
    id: str
    title: str  # Finnish heading used in the report
    order: int


class LiveSource(_Model):
    """How ``uso data refresh`` fetches the indicator.

    For PxWeb the definition names the *meaning* of variables, not their codes: the loader
    resolves the region, time and content variables from the table's metadata, because the
    codes (``alue_23_20260101``) change with the classification date.
    """

    source: Literal["pxweb", "sotkanet", "file", "derived", "none"]
    database: str | None = None  # pxweb: StatFin, Kuntien_avainluvut, ...
    table: str | None = None  # pxweb: short table id, e.g. "11ra"
    content: str | None = None  # pxweb: content code (contentscode value), e.g. "vaerak-vaesto"
    # pxweb: the published Finnish label of the content value, used when the code is unknown
    # (``content`` absent): matched case- and space-insensitively against the metadata's
    # valueTexts, ignoring a trailing year (", 2021") that a table may append
    content_label: str | None = None
    # pxweb: a search text for a table whose id is unknown: unless ``confirmed``, the loader
    # searches the database (GET {base}/{database}?query=...) and uses the newest best match
    table_query: str | None = None
    # pxweb: fixed selections of other variables, by variable text or code -> value codes
    selections: dict[str, list[str]] = Field(default_factory=dict)
    category_variable: str | None = None  # pxweb: a variable whose values become categories
    indicator: int | None = None  # sotkanet id
    gender: str = "total"  # sotkanet
    # pxweb: how a monthly or quarterly time variable becomes a year's figure: "december" (the
    # last month), "q4" (the last quarter), "mean" (mean of the year's periods); "year" or None
    # for an annual time variable
    period: Literal["year", "december", "q4", "mean"] | None = None
    confirmed: bool = False  # False: table/content code not yet confirmed against the live API
    # what confirms the table and codes: a public repository and path holding a recorded answer
    # or metadata dump of the live service, or the publisher's page
    evidence: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> LiveSource:
        if self.confirmed and not self.evidence:
            raise ValueError("confirmed: true needs evidence (repository and path, or the "
                             "publisher's page, of a recorded answer or metadata)")
        if self.source == "none" and not self.note:
            raise ValueError("source: none needs a note saying why there is no live source")
        if self.source == "pxweb" and not (self.database and (self.table or self.table_query)):
            raise ValueError("a pxweb source needs database and table (or table_query)")
        if self.source == "sotkanet" and self.indicator is None:
            raise ValueError("a sotkanet source needs indicator")
        return self


class OfflineSource(_Model):
    """Where the embedded snapshot's figures come from (paths relative to data/raw)."""

    files: list[str] = Field(default_factory=list)
    years: str | None = None
    publisher: str | None = None
    table: str | None = None  # table or indicator id shown in source lines
    proxy: str | None = None  # set when the offline figure is a proxy: says of what and how
    note: str | None = None


class SeriesBreak(_Model):
    """A year from which an indicator's figures follow another definition: no change is drawn
    across it (the figures on either side are each correct, but not comparable)."""

    year: int  # the first year of the new definition
    note: str  # Finnish: what changed, shown where a change would have been


class Indicator(_Model):
    id: str
    theme: str
    row: str  # the row of INDICATORS.md this measure belongs to ("1", "1b", ...)
    label: str  # Finnish label
    label_en: str | None = None
    label_sv: str | None = None
    description: str | None = None
    unit: str = ""  # "%", "€/as.", "henkeä", "indeksi", ...
    decimals: int = 0
    polarity: Polarity = "neutral"
    # rate: a ratio of two populations, so a population-weighted group figure is meaningful
    kind: Literal["count", "rate", "per_capita", "index", "ratio"] = "count"
    weight: str | None = "vaesto"  # indicator used as weight for rates
    categories: dict[str, str] | None = None  # breakdown code -> Finnish label
    relative_index: bool = False  # a median=100 index: rankings and direction only
    live: LiveSource | None = None
    offline: OfflineSource | None = None
    how_to_get: str | None = None  # shown where there is no data
    series_breaks: list[SeriesBreak] = Field(default_factory=list)
    # plausibility at the door (uso_lib.plausible): [min, max] of a figure where the unit's
    # default range does not fit (a change in % may be negative, a debt ratio exceed 100 %)
    bounds: tuple[float, float] | None = None
    # figures for years after the current one: "projection" (forecasts, decades ahead) or
    # "next_year" (decided in advance: next year's tax rate, state subsidies); None: none
    future: Literal["projection", "next_year"] | None = None

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Indicator:
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"indicator {self.id!r}: bounds [min, max] need min < max")
        return self

    @property
    def has_offline(self) -> bool:
        return bool(self.offline and self.offline.files)

    def break_within(self, start: int, end: int) -> SeriesBreak | None:
        """The series break between two years (``start`` < break year <= ``end``), if any:
        a change from ``start`` to ``end`` would compare two definitions."""
        lo, hi = sorted((int(start), int(end)))
        hits = [b for b in self.series_breaks if lo < b.year <= hi]
        return hits[-1] if hits else None


class Catalog(_Model):
    themes: list[Theme]
    indicators: list[Indicator]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        theme_ids = {t.id for t in self.themes}
        seen: set[str] = set()
        for ind in self.indicators:
            if ind.id in seen:
                raise ValueError(f"duplicate indicator id {ind.id!r}")
            seen.add(ind.id)
            if ind.theme not in theme_ids:
                raise ValueError(f"indicator {ind.id!r}: unknown theme {ind.theme!r}")
        return self

    def get(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        ids = [i.id for i in self.indicators]
        close = [m for m, score, _ in process.extract(indicator_id, ids, limit=3) if score >= 60]
        raise UnknownIndicator(indicator_id, close)

    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def by_theme(self) -> list[tuple[Theme, list[Indicator]]]:
        return [(t, [i for i in self.indicators if i.theme == t.id])
                for t in sorted(self.themes, key=lambda t: t.order)]

    def theme(self, theme_id: str) -> Theme:
        return next(t for t in self.themes if t.id == theme_id)


def load(path: Path | str = CATALOG_DIR) -> Catalog:
    """Read a catalogue directory (every ``*.yaml`` in it) or a single YAML file. Each file
    holds a mapping with ``themes`` and/or ``indicators`` lists."""
    path = Path(path)
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    themes: list = []
    indicators: list = []
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                raw = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise DataError(f"Indicator catalogue file {f} is invalid: {exc}") from exc
        if not isinstance(raw, dict):
            raise DataError(f"Indicator catalogue file {f}: expected a mapping with "
                            "'themes' and/or 'indicators'")
        themes += raw.get("themes") or []
        indicators += raw.get("indicators") or []
    try:
        return Catalog.model_validate({"themes": themes, "indicators": indicators})
    except ValidationError as exc:
        raise DataError(f"Indicator catalogue {path} is invalid: {exc}") from exc


@cache
def catalog() -> Catalog:
    return load()


def get(indicator_id: str) -> Indicator:
    return catalog().get(indicator_id)
