"""The catalogue's PxWeb indicators, bound to tables: which queries a refresh sends and which
store rows their answers become.

Indicators that share a table (and its selections) share one query for all municipalities.
The catalogue names the *meaning* of each variable; :func:`resolve` finds the codes in the
table's metadata (:mod:`.meta`), the content value by code first (:mod:`.contents`), and the
periods the indicator's year rule needs (:mod:`.periods`). One indicator whose code, label or
rule the table does not fit fails alone, with the reason, and the rest of its table is still
fetched.

Other variables: one that may be eliminated is left out (its total); one that may not must have
a single value, a total ``SSS``, or be named in the indicator's ``selections``.

:func:`store_rows` keeps the whole country, the municipalities (mapped to the store's regional
division through the mergers) and the regional aggregates MK/HVA/SK under their own codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from uso_lib import config
from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources.common import IndicatorResult, PlannedRequest, map_regions
from uso_lib.sources.pxweb import periods as periods_mod
from uso_lib.sources.pxweb.client import PxWeb, Query, cells, table_id, table_path
from uso_lib.sources.pxweb.contents import ContentMatch, content_code
from uso_lib.sources.pxweb.jsonstat import Decoded
from uso_lib.sources.pxweb.meta import COUNTRY, TOTAL, TableMeta, is_municipal, store_code

PUBLISHER = "Tilastokeskus"


@dataclass
class TableGroup:
    """Indicators served by one query of one table (same selections and breakdown)."""

    database: str
    table: str
    selections: dict[str, list[str]]
    category_variable: str | None
    indicators: list[Indicator]
    table_query: str | None = None  # search for the table (its id is not confirmed)

    @property
    def label(self) -> str:
        return f"pxweb {self.database}/{self.table}"


def _searches(live) -> bool:
    return bool(live.table_query) and not (live.confirmed and live.table)


def group_indicators(indicators: list[Indicator]) -> list[TableGroup]:
    """One group per table and selection set, so each table is queried once for all
    municipalities and all of its indicators."""
    groups: dict[tuple, TableGroup] = {}
    for ind in indicators:
        live = ind.live
        query = live.table_query if _searches(live) else None
        key = (live.database, live.table, query,
               tuple(sorted((k, tuple(v)) for k, v in live.selections.items())),
               live.category_variable)
        if key not in groups:
            groups[key] = TableGroup(live.database, live.table or "", dict(live.selections),
                                     live.category_variable, [], query)
        groups[key].indicators.append(ind)
    return list(groups.values())


def locate(px: PxWeb, group: TableGroup) -> tuple[TableGroup, list[str]]:
    """The group with its table found by search when it has a ``table_query``, and a note
    saying which table was chosen. Without a hit (or a search answer) the catalogue's own
    ``table`` is tried, if it has one."""
    if not group.table_query:
        return group, []
    try:
        hit = px.find_table(group.database, group.table_query)
    except SourceError as exc:
        if not group.table:
            raise
        return group, [f"{group.label}: {exc.message}; trying the catalogue's table "
                       f"{group.table}."]
    found = replace(group, table=hit.table)
    return found, [f"{found.label}: {hit.describe(group.database, group.table_query)}; "
                   "confirm it and set live.table."]



@dataclass
class Resolved:
    """A table group's query in the table's own codes, and how to read the answer."""

    query: Query
    region: str
    time: str
    content: str | None
    category: str | None
    content_of: dict[str, str]  # indicator id -> content value code
    division: int | None
    rules: dict[str, str] = field(default_factory=dict)  # indicator id -> year rule
    matches: dict[str, ContentMatch] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # indicator id -> latest year left
    failed: dict[str, SourceError] = field(default_factory=dict)  # indicator id -> why

    @property
    def by_label(self) -> dict[str, str]:
        """Indicators whose content code was found by label (a reported fallback)."""
        return {i: m.code for i, m in self.matches.items() if m.how == "label"}

    def notes(self, source: str, ind: Indicator) -> list[str]:
        """What the refresh summary says about this indicator's resolution."""
        out = []
        match = self.matches.get(ind.id)
        if match is not None and match.note:
            out.append(f"{source}: {match.note}")
        if ind.id in self.pending:
            out.append(f"{source}: {ind.id}: {self.pending[ind.id]}.")
        return out

    def label_note(self, source: str, ind: Indicator) -> list[str]:
        return self.notes(source, ind)


def _region_values(region, fixed: dict[str, list[str]],
                   municipalities: list[str] | None) -> list[str]:
    if region.code in fixed:
        return fixed.pop(region.code)
    wanted = set(municipalities) if municipalities is not None else None
    out = []
    for v in region.values:
        code = store_code(v)
        if code is None:
            continue
        if wanted is not None and is_municipal(code) and code not in wanted:
            continue
        out.append(v)
    return out


def resolve(meta: TableMeta, group: TableGroup, *,
            municipalities: list[str] | None = None) -> Resolved:
    """Build the query for a table group from the table's metadata (codes by meaning)."""
    what = f"PxWeb table {meta.database}/{meta.table}"
    hint = (f"See the table's variables: uso data refresh --dry-run, or GET "
            f"{config.url('USO_PXWEB_URL')}/{table_path(meta.database, meta.table)}")
    region, time_var, content = meta.region, meta.time, meta.content
    if region is None:
        raise SourceError(f"{what}: no variable has municipality codes (KU### or three-digit "
                          f"codes); its variables are "
                          f"{', '.join(v.code for v in meta.variables)}.", hint=hint)
    if time_var is None:
        raise SourceError(f"{what}: no time variable (time: true, or a variable of years, "
                          "months or quarters).", hint=hint)
    selection: dict[str, list[str]] = {}
    fixed: dict[str, list[str]] = {}
    for name, values in group.selections.items():
        var = meta.find(name)
        if var is None:
            raise SourceError(f"{what}: the catalogue selects variable {name!r}, which the "
                              f"table lacks (it has {', '.join(v.code for v in meta.variables)}).",
                              hint=hint)
        bad = [v for v in values if v not in var.values]
        if bad:
            more = " ..." if len(var.values) > 15 else ""
            raise SourceError(f"{what}: variable {var.code} has no value(s) {bad}; it has "
                              f"{', '.join(var.values[:15])}{more}.", hint=hint)
        fixed[var.code] = list(values)
    selection[region.code] = _region_values(region, fixed, municipalities)
    # time: every period the indicators' year rules need (the catalogue may fix them)
    try:
        offered = periods_mod.parse_all(list(fixed.get(time_var.code, time_var.values)),
                                        variable=time_var.code)
        freq = periods_mod.frequency(offered)
    except periods_mod.RuleError as exc:
        raise SourceError(f"{what}: {exc}.", hint=hint) from None
    failed: dict[str, SourceError] = {}
    rules: dict[str, str] = {}
    pending: dict[str, str] = {}
    for ind in group.indicators:
        try:
            rules[ind.id] = periods_mod.check_rule(ind.live.period, freq,
                                                   variable=time_var.code)
        except periods_mod.RuleError as exc:
            failed[ind.id] = SourceError(f"{what}: indicator {ind.id}: {exc}.", hint=hint)
            continue
        left = periods_mod.pending(offered, rules[ind.id])
        if left:
            pending[ind.id] = left
    # content: the indicators' content codes; an indicator whose code or label the table lacks
    # fails alone, so one stale catalogue entry does not stop the rest of its table
    content_of: dict[str, str] = {}
    matches: dict[str, ContentMatch] = {}
    if content is not None:
        for ind in group.indicators:
            if ind.id in failed:
                continue
            try:
                matches[ind.id] = content_code(ind, content, what=what, hint=hint)
            except SourceError as exc:
                failed[ind.id] = exc
                continue
            content_of[ind.id] = matches[ind.id].code
        if content_of:
            selection[content.code] = list(dict.fromkeys(fixed.pop(content.code, [])
                                                         + list(content_of.values())))
    ok = [i for i in group.indicators if i.id not in failed]
    if not ok:
        raise next(iter(failed.values()))
    wanted = {p for i in ok for p in periods_mod.wanted(offered, rules[i.id])}
    fixed.pop(time_var.code, None)
    selection[time_var.code] = [p.code for p in offered if p.code in wanted]
    # breakdown
    category = None
    if group.category_variable:
        var = meta.find(group.category_variable)
        if var is None:
            raise SourceError(f"{what}: no variable {group.category_variable!r} for the "
                              "breakdown.", hint=hint)
        category = var.code
        if var.code in fixed:
            selection[var.code] = fixed.pop(var.code)
        else:
            cats: list[str] = []
            for ind in group.indicators:
                cats += list(ind.categories or [])
            missing = [c for c in cats if c not in var.values]
            if missing:
                raise SourceError(f"{what}: variable {var.code} lacks categories {missing}.",
                                  hint=hint)
            selection[var.code] = list(dict.fromkeys(cats)) if cats else list(var.values)
    # every other variable: selected, or eliminated, or its single value / total
    for var in meta.variables:
        if var.code in selection:
            continue
        if var.code in fixed:
            selection[var.code] = fixed.pop(var.code)
        elif var.elimination:
            continue
        elif len(var.values) == 1:
            selection[var.code] = [var.values[0]]
        elif TOTAL in var.values:
            selection[var.code] = [TOTAL]
        else:
            raise SourceError(f"{what}: variable {var.code} ({var.text}) cannot be left out "
                              f"and has {len(var.values)} values; name the wanted value in the "
                              "indicator's live.selections.", hint=hint)
    query = Query(meta.database, meta.table, selection, cells(selection))
    return Resolved(query=query, region=region.code, time=time_var.code,
                    content=content.code if content else None, category=category,
                    content_of=content_of, division=meta.division, rules=rules,
                    matches=matches, pending=pending, failed=failed)


def store_rows(decoded: Decoded, resolved: Resolved, ind: Indicator) -> tuple[pd.DataFrame,
                                                                           list[str]]:
    """One indicator's store rows from a decoded table answer: one figure per region and year
    (by the indicator's year rule) and category."""
    df = decoded.frame
    if resolved.content is not None:
        df = df[df[resolved.content] == resolved.content_of[ind.id]]
    if resolved.category is not None:
        cats = df[resolved.category]
        keep = set(ind.categories) if ind.categories else None
        if keep is not None:
            df = df[cats.isin(keep | {TOTAL})]
            cats = df[resolved.category]
        category = cats.where(~((cats == TOTAL) & (keep is None or TOTAL not in keep)), "")
    else:
        category = pd.Series("", index=df.index, dtype=object)
    work = pd.DataFrame({"region": df[resolved.region], "period": df[resolved.time],
                         "category": category, "value": df["value"], "status": df["status"]})
    work = periods_mod.to_years(work, "period", resolved.rules.get(ind.id, "year"),
                                ["region", "category"])
    codes = work["region"].map(store_code)
    work = work.assign(kunta=codes)[codes.notna()]
    rows = pd.DataFrame({"indicator": ind.id, "kunta": work["kunta"],
                         "year": work["year"].astype("int64"), "category": work["category"],
                         "value": work["value"], "status": work["status"]})
    local = rows["kunta"].map(lambda c: c == COUNTRY or is_municipal(c)).astype(bool)
    table = table_id(resolved.query.table)
    mapped, notes = map_regions(rows[local], kind=ind.kind, division=resolved.division,
                                what=f"{ind.id} ({table})")
    rows = pd.concat([mapped, rows[~local]], ignore_index=True)
    rows = rows.assign(source=f"{PUBLISHER}, {resolved.query.database} {table}", table=table,
                       vintage=decoded.updated or decoded.retrieved, origin=decoded.origin,
                       retrieved=decoded.retrieved)
    return rows, notes


def plan(px: PxWeb, indicators: list[Indicator]) -> list[PlannedRequest]:
    """The data requests a refresh would send (reads metadata and limits, sends no data query)."""
    out: list[PlannedRequest] = []
    for group in group_indicators(indicators):
        ids = [i.id for i in group.indicators]
        try:
            group, found = locate(px, group)
        except SourceError as exc:
            out.append(PlannedRequest(group.label, ids, "GET", px.client.url(group.database),
                                      None, note=f"cannot plan: {exc.message}"))
            continue
        url = px.client.url(table_path(group.database, group.table))
        try:
            resolved = resolve(px.metadata(group.database, group.table), group)
            parts = px.split(resolved.query)
        except SourceError as exc:
            out.append(PlannedRequest(group.label, ids, "POST", url, None,
                                      note="; ".join([*found, f"cannot plan: {exc.message}"])))
            continue
        labelled = (f"{len(resolved.by_label)} content code(s) found by label: "
                    + ", ".join(f"{i}={c}" for i, c in resolved.by_label.items())
                    if resolved.by_label else "")
        missing = [f"left out {i}: {e.message}" for i, e in resolved.failed.items()]
        note = "; ".join(n for n in [*found, labelled, *missing] if n)
        for p in parts:
            out.append(PlannedRequest(group.label, ids, "POST", url, p.cells, p.part, p.parts,
                                      note=note))
    return out


def fetch(px: PxWeb, indicators: list[Indicator]) -> list[IndicatorResult]:
    """Refresh pxweb indicators: one query (or its parts) per table for all municipalities."""
    results: list[IndicatorResult] = []
    for group in group_indicators(indicators):
        before = px.client.calls
        found: list[str] = []
        try:
            group, found = locate(px, group)
            resolved = resolve(px.metadata(group.database, group.table), group)
            decoded = px.data(resolved.query)
        except SourceError as exc:
            calls = px.client.calls - before
            for i, ind in enumerate(group.indicators):
                results.append(IndicatorResult(ind.id, group.label, "failed",
                                               calls=calls if i == 0 else 0, notes=list(found),
                                               error=str(exc)))
            continue
        calls = px.client.calls - before
        answer_notes = decoded.notes  # said once, on the first indicator fetched
        for i, ind in enumerate(group.indicators):
            if ind.id in resolved.failed:
                results.append(IndicatorResult(ind.id, group.label, "failed",
                                               calls=calls if i == 0 else 0, notes=list(found),
                                               error=str(resolved.failed[ind.id])))
                continue
            rows, notes = store_rows(decoded, resolved, ind)
            results.append(IndicatorResult(
                ind.id, group.label, decoded.origin, rows, calls=calls if i == 0 else 0,
                notes=found + resolved.notes(group.label, ind) + answer_notes + notes))
            answer_notes = []
    return results


__all__ = ["PUBLISHER", "TableGroup", "group_indicators", "locate", "Resolved", "resolve",
           "store_rows", "plan", "fetch"]
