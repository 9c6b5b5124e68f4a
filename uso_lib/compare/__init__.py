"""Compare one municipality with groups of others: peers, network members, its maakunta, its
kuntaryhmitys and the whole country.

Conventions (documented once here, used by the report, the CLI and :mod:`uso_lib.text`):

- **Group figures are plain means and medians over the member municipalities that have data**
  (as the brochure's "Vrt. kunnat ka." does); members without data are counted and listed, never
  filled in. For a rate (catalogue ``kind`` rate/per_capita with a ``weight`` indicator) the
  population-weighted figure is given as well, labelled as such.
- The **peer group** is the peers alone (the municipality is compared *with* them); the other
  groups are natural groups and include the municipality when it belongs to them. Ranks are
  always taken among the group's members *plus* the municipality.
- **Rank 1 is the best by polarity**; for a neutral indicator the largest value is 1 (said so,
  :data:`uso_lib.text.RANK_BASIS`). Ties share the best rank of the tie ("min" method) and are
  shown "2=".
- **Percentile** in the country: the share of municipalities with a smaller value, ties
  counted half (50 = the median municipality); it follows the value, not polarity.
- **Quintile class** in the country, Sotkanet's map convention: 1 = the lowest fifth of values
  ... 5 = the highest fifth (not polarity-adjusted); cut points are the 20/40/60/80 % quantiles
  of the municipalities with data, so equal values always share a class.
- **Assessment** against a group: the difference from the group mean divided by the robust
  standard deviation (IQR / 1.349) of the indicator over all municipalities that year. Within
  ±0.25 SD it is "about the same" (about Cohen's "small" effect of 0.2 SD: a smaller gap is
  one the reader would not act on); beyond it "better"/"worse" by polarity, or
  "higher"/"lower" for a neutral indicator and for a count (kind ``count``: a count grows
  with the municipality, so it is ranked by polarity but not judged). The country's spread
  rather than the peers', because nine peers give a noisy SD; a robust SD because a plain SD
  of skewed municipal figures is set by a few cities (Juva's 1 817 jobs would be "about the
  same" as Imatra and Heinola's mean of 7 345); a difference from the mean rather than a
  ±5 % band, because several indicators (annual margin, population change %) sit near zero
  or change sign, where a percentage band is meaningless.
- **Change** over a period: absolute and %, for the municipality and, per group, the average of
  the members' own changes over the members with data at both ends (so a member missing one end
  does not shift the group figure). For a percentage indicator the absolute change is in
  percentage points.

The figures come from the store's index (:meth:`uso_lib.store.Store.table`: one country-wide
table per indicator, its years' values and their groups' members, built once per store), so
309 reports do not re-filter the store for every figure; what the statistics add to a year (its
robust SD and quintile cuts, :func:`year_stats`) is memoised on the index's objects too.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib import regions
from uso_lib.compare.results import Change, Comparison, GroupChange, GroupStats, Note
from uso_lib.compare.stats import (
    THRESHOLD_SD,
    YearStats,
    assess,
    finite,
    percentile,
    quintile_cuts,
    quintiles,
    rank_text,
    ranks,
    robust_sd,
    score,
    year_percentile,
    year_quintile,
    year_stats,
)
from uso_lib.errors import NoData, UsoError
from uso_lib.provenance import source_text, year_span
from uso_lib.store import Store, StoreLike, get_store
from uso_lib.store.index import MemberValues, Table, YearValues

DEFAULT_SPAN = 5  # years of the default change period
GROUP_ORDER = ("peers", "network", "maakunta", "kuntaryhmitys", "country")
__all__ = [  # the engine, and the statistics and result types it is built on
    "Change", "Comparison", "DEFAULT_SPAN", "GROUP_ORDER", "Group", "GroupChange", "GroupStats",
    "IndicatorLike", "Note", "OVERVIEW_COLUMNS", "THRESHOLD_SD", "YearStats", "assess", "change",
    "compare", "default_period", "finite", "get_store", "group_stats", "groups_for",
    "indicator_def", "overview", "percentile", "quintile_cuts", "quintiles", "rank_text", "ranking",
    "ranks", "resolve_codes", "resolve_year", "robust_sd", "score", "series_frame", "source_text",
    "weights", "year_percentile", "year_quintile", "year_stats",
]


# -- groups -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """A comparison group; :func:`uso_lib.text.group_label` says it in Finnish."""

    key: str  # peers | network | maakunta | kuntaryhmitys | country | any custom key
    name: str  # the group's own name (the maakunta's, the kuntaryhmä's), or ""
    members: tuple[str, ...]  # municipality codes

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "members": list(self.members)}


def resolve_codes(items: Iterable[object] | None) -> list[str]:
    """Codes of municipalities given by name or code, in order, duplicates removed."""
    out: list[str] = []
    for q in items or []:
        code = regions.lookup(q).code
        if code not in out:
            out.append(code)
    return out


def groups_for(kunta: object, peers: Iterable[object] | None = None,
               network: Iterable[object] | None = None, *,
               natural: bool = True) -> list[Group]:
    """The comparison groups of a municipality: peers and network (when given), its maakunta,
    its kuntaryhmitys and the whole country (when ``natural``)."""
    m = regions.lookup(kunta)
    reg = regions.registry()
    out: list[Group] = []
    peer_codes = [c for c in resolve_codes(peers) if c != m.code]
    if peer_codes:
        out.append(Group("peers", "", tuple(peer_codes)))
    net = resolve_codes(network)
    if net:
        out.append(Group("network", "", tuple(net)))
    if natural:
        out.append(Group("maakunta", m.maakunta,
                         tuple(x.code for x in reg.in_group("maakunta", m.maakunta_code))))
        out.append(Group("kuntaryhmitys", m.kuntaryhmitys,
                         tuple(x.code for x in reg.in_group("kuntaryhmitys",
                                                            m.kuntaryhmitys_code))))
        out.append(Group("country", "", tuple(reg.codes())))
    return out


# -- the engine -------------------------------------------------------------------------------
def resolve_year(tab: Table, year: int | None, *, strict: bool) -> int:
    """The year to compare: the latest with data, the year asked, or (not strict) the latest
    year before it that has data."""
    years = tab.years
    if not years:
        raise NoData(f"The store has no values for {tab.indicator!r}.")
    if year is None:
        return years[-1]
    if int(year) in years:
        return int(year)
    earlier = [y for y in years if y < int(year)]
    if strict or not earlier:
        raise NoData(f"No {tab.indicator!r} figures for {year}; the store has the years "
                     f"{year_span(years) or 'none'}.", hint="Choose one of those years or run "
                     "`uso data refresh` for newer data.")
    return earlier[-1]


def weights(ind: catalog_mod.Indicator, year: int,
            store: Store) -> tuple[dict[str, float], str] | None:
    """Population weights for a rate in ``year`` (or the latest earlier year), or None."""
    if ind.kind not in ("rate", "per_capita") or not ind.weight or ind.relative_index:
        return None
    wt = store.table(ind.weight)
    if wt is None:
        return None
    ys = [y for y in wt.years if y <= year]
    if not ys:
        return None
    return wt.year(ys[-1]).values, f"{ind.weight} {ys[-1]}"


def group_stats(group: Group, kunta: str, data: YearValues | pd.Series, value: float | None,
                polarity: str, sd: float | None,
                wts: tuple[dict[str, float], str] | None = None, *,
                judge: bool = True) -> GroupStats:
    """Statistics of one group for one year. ``data``: the year's values (YearValues, or a
    NaN-free Series indexed by kunta). ``judge`` False: the assessment says only higher /
    lower (counts, whose size follows the municipality's size)."""
    mv = (data.members(tuple(group.members)) if isinstance(data, YearValues) else
          MemberValues.of(dict(data.items()), group.members))
    members = list(group.members)
    vals, mean = mv.values, mv.mean
    wmean = wby = None
    if wts is not None and mv.have:
        w = np.array([wts[0].get(c, np.nan) for c in mv.have], dtype=float)
        ok = ~np.isnan(w) & (w > 0)
        if ok.any():
            wmean = float(np.average(vals[ok], weights=w[ok]))
            wby = wts[1]
    st = GroupStats(group.key, group.name, members, len(members), len(mv.have),
                    list(mv.missing), mean, mv.median, wmean, wby,
                    includes_self=kunta in members)
    if value is not None:
        others = vals[mv.codes != kunta] if kunta in mv.have else vals
        sign = -1.0 if polarity == "lower_better" else 1.0
        own, sc = sign * value, sign * others
        st.rank = int(1 + (sc > own).sum())
        st.rank_text = rank_text(st.rank, bool((sc == own).any()))
        st.n_ranked = len(others) + 1
        if mean is not None:
            st.difference = value - mean
            if sd:
                st.difference_sd = st.difference / sd
            st.assessment = assess(value, mean, sd, polarity if judge else "neutral")
    return st


def default_period(tab: Table, kunta: str, end: int, span: int = DEFAULT_SPAN) -> tuple[int,
                                                                                      int] | None:
    """(start, end): the earliest year within ``span`` years before ``end`` where the
    municipality has a value; None when there is only one year."""
    have = [y for y in tab.kunta_years(kunta) if end - span <= y < end]
    return (have[0], end) if have else None


def _pct(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a <= 0:
        return None
    return (b - a) / a * 100.0


def change(tab: Table, kunta: str, start: int, end: int,
           groups: Sequence[Group] = ()) -> Change:
    """Change from ``start`` to ``end`` for the municipality and the groups' average member."""
    a, _ = tab.value(kunta, start)
    b, _ = tab.value(kunta, end)
    a_, b_ = finite(a), finite(b)
    out = Change(start, end, a_, b_, None if a_ is None or b_ is None else b_ - a_, _pct(a_, b_))
    s0, s1 = tab.year(start).values, tab.year(end).values
    for g in groups:
        both = [c for c in g.members if c in s0 and c in s1]
        if not both:
            out.groups[g.key] = GroupChange(0, None, None)
            continue
        x0 = np.array([s0[c] for c in both])
        x1 = np.array([s1[c] for c in both])
        pos = x0 > 0
        pct = (x1[pos] - x0[pos]) / x0[pos] * 100.0
        out.groups[g.key] = GroupChange(len(both), float((x1 - x0).mean()),
                                        float(pct.mean()) if pct.size else None)
    return out


IndicatorLike = str | catalog_mod.Indicator


def _inputs(indicator: IndicatorLike, kunta: object, store: StoreLike, category: str
            ) -> tuple[Store, catalog_mod.Indicator, regions.Municipality, Table]:
    """The store, the indicator, the municipality and the country-wide table that a ranking
    or a series needs; no table is a NoData that says how to get the figures."""
    st = get_store(store)
    ind = indicator_def(indicator)
    m = regions.lookup(kunta)
    tab = st.table(ind.id, category)
    if tab is None:
        raise NoData(f"The store has no data for {ind.id!r} ({ind.label}).",
                     hint=ind.how_to_get)
    return st, ind, m, tab


def indicator_def(indicator: IndicatorLike) -> catalog_mod.Indicator:
    """A catalogue definition from an id (or an Indicator passed through, for ad-hoc use)."""
    if isinstance(indicator, catalog_mod.Indicator):
        return indicator
    return catalog_mod.get(indicator)


def compare(indicator: IndicatorLike, kunta: object, *, peers: Iterable[object] | None = None,
            network: Iterable[object] | None = None, year: int | None = None,
            category: str = "", period: tuple[int, int] | None = None,
            store: StoreLike = None, strict_year: bool = True,
            groups: Sequence[Group] | None = None) -> Comparison:
    """Compare ``kunta`` on one indicator in one year with its groups.

    ``peers`` and ``network`` are municipality names or codes (None: no such group; see
    :func:`uso_lib.peers.resolve_peers` for suggested peers). ``year`` None means the latest year
    with data; a year without data raises NoData (``strict_year``) or falls back to the latest
    earlier year (noted). ``period`` (start, end) for the change; default the
    :data:`DEFAULT_SPAN` years before the comparison year."""
    st = get_store(store)
    ind = indicator_def(indicator)
    m = regions.lookup(kunta)
    tab = st.table(ind.id, category)
    if tab is None:
        hint = ind.how_to_get or "Run `uso data refresh` to fetch it, or import a spreadsheet."
        raise NoData(f"The store has no data for {ind.id!r} ({ind.label}).", hint=hint)
    notes: list[Note] = []
    y = resolve_year(tab, year, strict=strict_year)
    if year is not None and y != int(year):
        notes.append(Note("year_fallback", (int(year), y)))
    value, status = tab.value(m.code, y)
    meta = tab.meta(m.code, y)
    yd = tab.year(y)
    sd = year_stats(yd).sd
    v = finite(value)
    if v is None:
        notes.append(Note("no_value", (m.name_fi, y, status)))
    grps = list(groups) if groups is not None else groups_for(m, peers, network)
    wts = weights(ind, y, st)
    judge = ind.kind != "count"
    stats = {g.key: group_stats(g, m.code, yd, v, ind.polarity, sd, wts, judge=judge)
             for g in grps}
    country_value, _ = tab.value(regions.COUNTRY, y)
    pctl = year_percentile(yd, v) if v is not None else None
    q = year_quintile(yd, v) if v is not None else None
    ch = None
    per = period or default_period(tab, m.code, y)
    brk = ind.break_within(*per) if per is not None else None
    if brk is not None:  # two definitions: no change between them
        notes.append(Note("change_break", (per[0], per[1], brk.note)))
        per = None
    if per is not None:
        ch = change(tab, m.code, per[0], per[1], grps)
    return Comparison(
        indicator=ind.id, label=ind.label, unit=ind.unit, decimals=ind.decimals,
        polarity=ind.polarity, kind=ind.kind, relative_index=ind.relative_index,
        kunta=m.code, name=m.name_fi, year=y, category=category, value=v, status=status,
        source=meta["source"], table=meta["table"], vintage=meta["vintage"],
        origin=meta["origin"], country_value=finite(country_value), country_sd=sd,
        percentile=pctl, quintile=q, groups=stats,
        change=ch, notes=notes)


def ranking(indicator: IndicatorLike, kunta: object, members: Iterable[object], *,
            year: int | None = None, category: str = "", store: StoreLike = None
            ) -> pd.DataFrame:
    """The brochure's ranking: the municipality and ``members`` sorted best first.

    Columns: kunta, name, value, status, rank, rank_text, highlight (the municipality),
    group_mean (the plain mean of ``members`` with data, the municipality excluded unless it is
    listed). Missing values come last with rank <NA>. ``attrs``: mean (the members'),
    ranking_mean and n_ranking (the brochure's group average: every municipality of the
    ranking with data, the municipality included), year, n_missing, label, unit, decimals,
    polarity, source."""
    st, ind, m, tab = _inputs(indicator, kunta, store, category)
    y = resolve_year(tab, year, strict=True)
    codes = resolve_codes(members)
    allc = [m.code] + [c for c in codes if c != m.code]
    # a dozen municipalities: plain Python, and one DataFrame at the end in the final order
    have = tab.year(y).values
    vals = [have.get(c, math.nan) for c in allc]
    rk = _min_ranks(vals, ind.polarity)
    names = [regions.registry().get(c).name_fi for c in allc]
    order = sorted(range(len(allc)), key=lambda i: (rk[i] is None, rk[i] or 0, names[i]))
    shared = Counter(x for x in rk if x is not None)
    grp = [have[c] for c in codes if c in have]
    mean = float(np.mean(grp)) if grp else math.nan
    # the brochure's "Vrt. kunnat ka.": every municipality in the ranking, itself included
    shown = [have[c] for c in allc if c in have]
    ranking_mean = float(np.mean(shown)) if shown else math.nan
    df = pd.DataFrame({
        "kunta": [allc[i] for i in order],
        "name": [names[i] for i in order],
        "value": np.array([vals[i] for i in order], dtype=float),
        "status": [tab.status.get((allc[i], y), "") for i in order],
        "rank": pd.array([rk[i] for i in order], dtype="Int64"),
        "rank_text": [rank_text(rk[i], shared[rk[i]] > 1) for i in order],
        "highlight": [allc[i] == m.code for i in order],
        "group_mean": np.full(len(allc), mean),
    })
    meta = tab.meta(m.code, y)
    df.attrs.update({
        "indicator": ind.id, "label": ind.label, "unit": ind.unit, "decimals": ind.decimals,
        "polarity": ind.polarity, "year": y,
        "mean": finite(mean), "ranking_mean": finite(ranking_mean), "n_ranking": len(shown),
        "n_missing": sum(c not in have for c in codes),
        "source": source_text(meta["source"], meta["table"], y),
        "relative_index": ind.relative_index,
    })
    return df


def _min_ranks(values: list[float], polarity: str) -> list[int | None]:
    """:func:`ranks` of a few plain floats: 1 = best by polarity, ties share the best rank,
    a missing value has none."""
    sign = -1.0 if polarity == "lower_better" else 1.0
    scores = [sign * v for v in values if not math.isnan(v)]
    return [None if math.isnan(v) else 1 + sum(s > sign * v for s in scores) for v in values]


def series_frame(indicator: IndicatorLike, kunta: object, groups: Sequence[Group] = (), *,
                 category: str = "", store: StoreLike = None,
                 base_year: int | None = None, years: Sequence[int] | None = None
                 ) -> pd.DataFrame:
    """Year x series: the municipality's values and each group's plain mean (over members with
    data that year), columns named by the municipality's name and the group keys.

    With ``base_year`` every column is indexed to 100 at that year; a group's index follows
    the members with data in both the base year and the year, so a member entering or leaving
    the data does not make the line jump."""
    st, ind, m, tab = _inputs(indicator, kunta, store, category)
    vals = tab.values
    if years is not None:
        vals = vals.reindex([int(y) for y in years])
    own = vals[m.code] if m.code in vals.columns else pd.Series(np.nan, index=vals.index)
    if base_year is None:  # plain means: the columns built apart, the frame once
        columns = {m.name_fi: own}
        for g in groups:
            columns[g.key] = vals[[c for c in g.members if c in vals.columns]].mean(axis=1)
        out = pd.DataFrame(columns, index=vals.index)
    else:
        if base_year not in vals.index:
            raise NoData(f"No {ind.id!r} figures for the base year {base_year}.")
        out = pd.DataFrame(index=vals.index)
        b = own.get(base_year, np.nan)
        out[m.name_fi] = own / b * 100.0 if b and not math.isnan(b) else np.nan
        for g in groups:
            sub = vals[[c for c in g.members if c in vals.columns]]
            base = sub.loc[base_year]
            idx = {}
            for y, row in sub.iterrows():
                ok = row.notna() & base.notna() & (base > 0)
                idx[y] = (row[ok].mean() / base[ok].mean() * 100.0) if ok.any() else np.nan
            out[g.key] = pd.Series(idx)
    out.index.name = "year"
    out.attrs.update({"indicator": ind.id, "label": ind.label, "unit": ind.unit,
                      "decimals": ind.decimals, "base_year": base_year})
    return out


# -- the whole picture ------------------------------------------------------------------------
OVERVIEW_COLUMNS = [
    "indicator", "theme", "theme_title", "label", "unit", "decimals", "polarity", "kind",
    "relative_index", "proxy", "has_data", "year", "value", "status", "peer_mean",
    "peer_n", "peer_missing", "network_mean", "maakunta_mean", "kuntaryhmitys_mean",
    "country", "country_is_mean", "peer_rank", "peer_rank_text", "country_rank",
    "country_n", "quintile", "assessment", "change_start", "change_abs",
    "change_pct", "source", "note",
]


def overview(kunta: object, peers: Iterable[object] | None, network: Iterable[object] | None,
             year: int | None = None, store: StoreLike = None,
             indicators: Iterable[IndicatorLike] | None = None, *,
             compare_with: Callable[[catalog_mod.Indicator], Comparison] | None = None
             ) -> pd.DataFrame:
    """Every catalogue indicator for one municipality: value, year, group means, the country
    figure, the rank among peers, the assessment, the source and a note.

    ``year`` None: the latest year of each indicator; a year: that year or, where an indicator
    lacks it, the latest earlier year (noted). Indicators without data keep their row (has_data
    False, the catalogue's how-to-get text as the note). Relative indices (median = 100) keep
    value, rank and assessment but no group means (ranking and direction only).

    ``compare_with``: what compares one indicator in place of :func:`compare` with these
    groups and ``year`` (not strict); it must give the same comparison. A report passes its
    memo of comparisons, which its indicator sections show as well."""
    st = get_store(store)
    cat = catalog_mod.catalog()
    m = regions.lookup(kunta)
    grps = groups_for(m, peers, network)
    defs = ([indicator_def(i) for i in indicators] if indicators is not None
            else list(cat.indicators))
    rows = []
    for ind in defs:
        theme = cat.theme(ind.theme)
        row = {c: None for c in OVERVIEW_COLUMNS}
        row.update(indicator=ind.id, theme=ind.theme, theme_title=theme.title,
                   label=ind.label, unit=ind.unit, decimals=ind.decimals,
                   polarity=ind.polarity, kind=ind.kind, relative_index=ind.relative_index,
                   proxy=bool(ind.offline and ind.offline.proxy), has_data=False, status="")
        try:
            c = (compare_with(ind) if compare_with is not None else
                 compare(ind, m, year=year, store=st, strict_year=False, groups=grps))
        except NoData as exc:
            rows.append(_no_data_row(row, ind, st, exc))
            continue
        g = c.groups
        peer = g.get("peers")
        country = g["country"]
        row.update(
            has_data=c.value is not None, year=c.year, value=c.value, status=c.status,
            peer_mean=peer.mean if peer else None, peer_n=peer.n_with_data if peer else None,
            peer_missing=len(peer.missing) if peer else None,
            network_mean=g["network"].mean if "network" in g else None,
            maakunta_mean=g["maakunta"].mean, kuntaryhmitys_mean=g["kuntaryhmitys"].mean,
            country=c.country_value if c.country_value is not None else country.mean,
            country_is_mean=c.country_value is None,
            peer_rank=peer.rank if peer else None,
            peer_rank_text=peer.rank_text if peer else None,
            country_rank=country.rank, country_n=country.n_with_data, quintile=c.quintile,
            assessment=c.assessment,
            change_start=c.change.start if c.change else None,
            change_abs=c.change.absolute if c.change else None,
            change_pct=c.change.pct if c.change else None,
            source=c.source_text, note=tuple(c.notes) or None)
        if ind.relative_index:
            for k in ("peer_mean", "network_mean", "maakunta_mean", "kuntaryhmitys_mean",
                      "country", "country_is_mean"):
                row[k] = None
        rows.append(row)
    df = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    for col in ("value", "peer_mean", "network_mean", "maakunta_mean", "kuntaryhmitys_mean",
                "country", "change_abs", "change_pct"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("year", "peer_n", "peer_missing", "peer_rank", "country_rank", "country_n",
                "quintile", "change_start", "decimals"):
        df[col] = pd.array(df[col].tolist(), dtype="Int64")
    df.attrs.update({"kunta": m.code, "name": m.name_fi,
                     "groups": {gr.key: gr.to_dict() for gr in grps}})
    return df


def _no_data_row(row: dict, ind: catalog_mod.Indicator, st: Store, exc: UsoError) -> dict:
    if st.index.has(ind.id) and st.table(ind.id) is None:
        row["note"] = (Note("categories_only"),)
    else:
        row["note"] = (Note("no_data", (ind.how_to_get or "",)),)
    return row
