"""The project's own composite indices (uso:n omat yhdistelmäindeksit), documented in
``docs/indices.md``. They are summaries for orientation, not official statistics, and are
always labelled as uso's own.

**Elinvoiman muutosindeksi** (vitality change index): how a municipality's vitality changed
over a recent period relative to all municipalities. Components (each the change over its own
latest period of about five years; see :data:`VITALITY_COMPONENTS`):

- population, change %;
- jobs in the area, change %;
- tax revenue or income (the first the store has), change %;
- economic dependency ratio, change in points (a rise is worse: the sign is turned);
- education level (share with a tertiary / at least upper-secondary qualification), change
  in percentage points.

Each component is standardised over all municipalities with data (z-score), the index is the
equally weighted mean of the z-scores a municipality has (at least :data:`MIN_SHARE` of the
components), centred so that the mean over municipalities is 0. A value of +0.5 means the
municipality's development was half a standard deviation better than the average municipality's.

**Hyvinvointi-indeksi** (wellbeing index): the theme "hyvinvointi" indicators of the catalogue
that have a direction (polarity) and are not counts, each at its latest year, scaled so that the
country mean (the plain mean of municipalities) is 100: ``100 * value / mean`` where higher is
better, ``200 - 100 * value / mean`` where lower is better (the same distance on the other side
of 100). The index is the mean of the scaled components a municipality has; 110 reads "on
average 10 % better than the average municipality across the wellbeing indicators".

Both are computed once per store for the whole country and cached.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib import compare, regions
from uso_lib.store import Store, StoreLike, get_store
from uso_lib.store.index import Table, per_store

OWN_LABEL = "uso:n oma yhdistelmäindeksi (ei virallinen tilasto)"
SPAN = 5
MIN_SHARE = 0.5  # a municipality needs at least this share of the components for an index
MIN_COVERAGE = 0.5  # a component year needs data for this share of municipalities


@dataclass(frozen=True)
class Component:
    key: str
    label: str  # Finnish
    indicators: tuple[str, ...]  # alternatives, first available used
    measure: str  # "pct" (change %) or "diff" (change in units / percentage points)
    sign: int = 1  # -1 where a rise is worse


VITALITY_COMPONENTS: tuple[Component, ...] = (
    Component("vaesto", "Väkiluvun muutos, %", ("vaesto",), "pct"),
    Component("tyopaikat", "Työpaikkojen muutos, %", ("tyopaikat",), "pct"),
    Component("tulot", "Verotulojen tai tulojen muutos, %",
              ("verotulot_eur_as", "verotulot", "kunnallisvero_eur_as",
               "ansiotulot_mediaani", "kotitalouksien_tulot_mediaani",
               "kotitalouksien_tulot_keskiarvo"), "pct"),
    Component("huoltosuhde", "Taloudellisen huoltosuhteen muutos (nousu heikentää)",
              ("taloudellinen_huoltosuhde",), "diff", sign=-1),
    Component("koulutus", "Koulutustason muutos, %-yks.",
              ("korkea_aste_osuus", "tutkinto_osuus"), "diff"),
)


@dataclass
class ComponentInfo:
    key: str
    label: str
    indicator: str | None
    start: int | None
    end: int | None
    n: int  # municipalities with a value
    sign: int = 1
    polarity: str | None = None  # wellbeing: the indicator's polarity
    mean: float | None = None  # wellbeing: the country mean of the raw values
    note: str = ""


@dataclass
class IndexResult:
    """One composite index for every municipality.

    ``frame``: index kunta; columns ``value`` (the index), ``rank`` (1 = best), ``n_components``
    and, per component key, ``<key>`` (the scaled component) and ``<key>_raw`` (the change or
    the raw value)."""

    key: str
    label: str
    description: str
    frame: pd.DataFrame
    components: list[ComponentInfo]
    own_label: str = OWN_LABEL
    notes: list[str] = field(default_factory=list)

    def available(self) -> list[ComponentInfo]:
        return [c for c in self.components if c.indicator]

    def for_kunta(self, kunta: object) -> dict:
        """The municipality's index with each component's value, years and scaled value."""
        m = regions.lookup(kunta)
        row = self.frame.loc[m.code] if m.code in self.frame.index else None
        comps = []
        for c in self.available():
            raw = None if row is None else _f(row.get(f"{c.key}_raw"))
            comps.append({"key": c.key, "label": c.label, "indicator": c.indicator,
                          "start": c.start, "end": c.end, "raw": raw,
                          "scaled": None if row is None else _f(row.get(c.key)),
                          "available": raw is not None})
        n = int(self.frame["value"].notna().sum())
        return {"index": self.key, "label": self.label, "own_label": self.own_label,
                "kunta": m.code, "name": m.name_fi,
                "value": None if row is None else _f(row["value"]),
                "rank": None if row is None or pd.isna(row["rank"]) else int(row["rank"]),
                "n_ranked": n,
                "n_components": 0 if row is None else int(row["n_components"]),
                "components": comps, "notes": self.notes}

    def to_dict(self) -> dict:
        return {"index": self.key, "label": self.label, "description": self.description,
                "own_label": self.own_label,
                "components": [asdict(c) for c in self.components], "notes": self.notes}


_f = compare.finite


def _covered_years(tab: Table) -> list[int]:
    n = len(regions.registry())
    return [y for y in tab.years if len(tab.cross(y)) >= MIN_COVERAGE * n]


def _period(years: list[int], span: int = SPAN) -> tuple[int, int] | None:
    """(start, end): end the latest covered year; start the latest covered year at least
    ``span`` years earlier, else the earliest covered year."""
    if len(years) < 2:
        return None
    end = years[-1]
    early = [y for y in years if y <= end - span]
    return (early[-1] if early else years[0]), end


def _finish(frame: pd.DataFrame, keys: list[str], n_avail: int) -> pd.DataFrame:
    frame["n_components"] = frame[keys].notna().sum(axis=1) if keys else 0
    need = max(1, math.ceil(MIN_SHARE * n_avail))
    return frame.assign(_need=need)


def vitality_index(store: StoreLike = None) -> IndexResult:
    """Elinvoiman muutosindeksi for every municipality (computed once per loaded store)."""
    return _vitality(get_store(store))


@per_store
def _vitality(st: Store) -> IndexResult:
    codes = regions.registry().codes()
    frame = pd.DataFrame(index=pd.Index(codes, name="kunta"))
    infos: list[ComponentInfo] = []
    for comp in VITALITY_COMPONENTS:
        info = ComponentInfo(comp.key, comp.label, None, None, None, 0, comp.sign)
        for iid in comp.indicators:
            tab = st.table(iid)
            per = _period(_covered_years(tab)) if tab is not None else None
            if per is None:
                continue
            a, b = tab.cross(per[0]).reindex(codes), tab.cross(per[1]).reindex(codes)
            if comp.measure == "pct":
                raw = ((b - a) / a * 100.0).where(a > 0)
            else:
                raw = b - a
            z = comp.sign * (raw - raw.mean()) / raw.std(ddof=1)
            frame[comp.key] = z
            frame[f"{comp.key}_raw"] = raw
            info.indicator, info.start, info.end = iid, per[0], per[1]
            info.n = int(raw.notna().sum())
            break
        else:
            info.note = ("ei tietoa: mikään indikaattoreista " + ", ".join(comp.indicators)
                         + " ei ole aineistossa kahdelta vuodelta")
        infos.append(info)
    keys = [c.key for c in infos if c.indicator]
    notes = [f"{c.label}: {c.note}" for c in infos if not c.indicator]
    frame = _finish(frame, keys, len(keys))
    value = frame[keys].mean(axis=1) if keys else pd.Series(np.nan, index=frame.index)
    value = value.where(frame["n_components"] >= frame["_need"])
    frame["value"] = value - value.mean()
    frame["rank"] = frame["value"].rank(ascending=False, method="min").astype("Int64")
    frame = frame.drop(columns="_need")
    desc = ("Elinvoiman muutos suhteessa kaikkiin kuntiin: " + "; ".join(
        f"{c.label} ({c.indicator} {c.start}–{c.end})" for c in infos if c.indicator)
        + ". Osatekijät standardoitu (z), painotettu tasan, kuntien keskiarvo 0.")
    return IndexResult("elinvoiman_muutosindeksi", "Elinvoiman muutosindeksi", desc, frame,
                       infos, notes=notes)


def wellbeing_components(store: StoreLike = None) -> list[catalog_mod.Indicator]:
    """The catalogue's wellbeing indicators usable in the index: theme hyvinvointi, with a
    direction, not a count, and with data."""
    st = get_store(store)
    out = []
    for ind in catalog_mod.catalog().indicators:
        if ind.theme != "hyvinvointi" or ind.polarity == "neutral" or ind.kind == "count":
            continue
        if st.table(ind.id) is not None:
            out.append(ind)
    return out


def wellbeing_index(store: StoreLike = None, *,
                    components: Iterable[compare.IndicatorLike] | None = None) -> IndexResult:
    """Hyvinvointi-indeksi for every municipality (computed once per loaded store).
    ``components``: other indicators than the catalogue's wellbeing ones (not memoised)."""
    st = get_store(store)
    if components is not None:
        return _wellbeing(st, [compare.indicator_def(c) for c in components])
    return _catalogue_wellbeing(st)


@per_store
def _catalogue_wellbeing(st: Store) -> IndexResult:
    return _wellbeing(st, wellbeing_components(st))


def _wellbeing(st: Store, comps: list[catalog_mod.Indicator]) -> IndexResult:
    codes = regions.registry().codes()
    frame = pd.DataFrame(index=pd.Index(codes, name="kunta"))
    infos: list[ComponentInfo] = []
    for ind in comps:
        tab = st.table(ind.id)
        years = _covered_years(tab) if tab is not None else []
        info = ComponentInfo(ind.id, ind.label, None, None, None, 0,
                             polarity=ind.polarity)
        if not years:
            info.note = "liian harvalta kunnalta tietoa"
            infos.append(info)
            continue
        y = years[-1]
        raw = tab.cross(y).reindex(codes)
        mean = float(raw.mean())
        if not mean > 0:
            info.note = "keskiarvo ei ole positiivinen: ei skaalattavissa"
            infos.append(info)
            continue
        ratio = 100.0 * raw / mean
        frame[ind.id] = ratio if ind.polarity == "higher_better" else 200.0 - ratio
        frame[f"{ind.id}_raw"] = raw
        info.indicator, info.start, info.end = ind.id, y, y
        info.n, info.mean = int(raw.notna().sum()), mean
        infos.append(info)
    keys = [c.key for c in infos if c.indicator]
    notes = [f"{c.label}: {c.note}" for c in infos if not c.indicator]
    if not keys:
        notes.append("Aineistossa ei ole hyvinvointi-indikaattoreita: indeksiä ei voi laskea.")
    frame = _finish(frame, keys, len(keys))
    value = frame[keys].mean(axis=1) if keys else pd.Series(np.nan, index=frame.index)
    frame["value"] = value.where(frame["n_components"] >= frame["_need"])
    frame["rank"] = frame["value"].rank(ascending=False, method="min").astype("Int64")
    frame = frame.drop(columns="_need")
    desc = ("Hyvinvointi-indikaattorit skaalattuna niin, että kuntien keskiarvo = 100 "
            "(suurempi on parempi): " + "; ".join(
                f"{c.label} ({c.start})" for c in infos if c.indicator) + ".")
    return IndexResult("hyvinvointi_indeksi", "Hyvinvointi-indeksi", desc, frame, infos,
                       notes=notes)


def indices_for(kunta: object, store: StoreLike = None) -> list[dict]:
    """Both indices of one municipality (for the report's summary)."""
    return [vitality_index(store).for_kunta(kunta), wellbeing_index(store).for_kunta(kunta)]
