"""A year's figure from monthly or quarterly periods, by the indicator's stated rule.

The store holds one figure per year. A catalogue entry on a monthly or quarterly table says
how its periods become that figure (``live.period``):

- ``december``: the December month (``2024M12``): a stock at the end of the year, such as the
  unemployed jobseekers at the end of the month;
- ``q4``: the fourth quarter (``2024Q4``): the business stock at the end of the year;
- ``mean``: the mean of all the year's periods -- only for a year whose every month (quarter)
  was published; a missing or suppressed period makes the mean missing, never a mean of the
  rest;
- ``year`` / none: an annual table.

A year whose rule period is not published yet (January of the current year only) is not
stored, and the refresh notes says so: a part of a year is never passed off as the year.
"""

from __future__ import annotations

import pandas as pd

from uso_lib.sources.pxweb.meta import Period, parse_period

RULES = ("year", "december", "q4", "mean")
_FREQ = {"year": "annual", "month": "monthly", "quarter": "quarterly"}
_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}


class RuleError(ValueError):
    """The indicator's rule does not fit the table's periods (the message says how to fix)."""


def frequency(periods: list[Period]) -> str:
    """``year``, ``month`` or ``quarter``; a mix is refused (RuleError)."""
    kinds = {p.kind for p in periods}
    if len(kinds) > 1:
        raise RuleError(f"the time variable mixes {', '.join(sorted(kinds))} periods")
    return kinds.pop() if kinds else "year"


def parse_all(codes: list[str], *, variable: str) -> list[Period]:
    out, bad = [], []
    for c in codes:
        p = parse_period(c)
        (out.append(p) if p else bad.append(c))
    if bad:
        raise RuleError(f"time variable {variable} has values that are not years, months "
                        f"(YYYYMmm) or quarters (YYYYQq): {', '.join(bad[:5])}")
    return out


def check_rule(rule: str | None, freq: str, *, variable: str) -> str:
    """The rule in force (``year`` for none) for a table of frequency ``freq``."""
    rule = rule or "year"
    fits = {"year": {"year"}, "month": {"december", "mean"}, "quarter": {"q4", "mean"}}[freq]
    if rule in fits:
        return rule
    if freq == "year":
        raise RuleError(f"the table is annual ({variable}), but the catalogue asks for the "
                        f"'{rule}' of monthly or quarterly periods; set live.period: year")
    raise RuleError(f"the table is {_FREQ[freq]} ({variable}: e.g. "
                    f"{'2024M12' if freq == 'month' else '2024Q4'}); say how its periods "
                    f"become a year's figure: live.period: {' or '.join(sorted(fits))}")


def wanted(periods: list[Period], rule: str) -> list[str]:
    """The periods a rule needs from the table (in the table's order)."""
    if rule == "december":
        return [p.code for p in periods if p.sub == 12]
    if rule == "q4":
        return [p.code for p in periods if p.sub == 4]
    return [p.code for p in periods]


def pending(periods: list[Period], rule: str) -> str | None:
    """A sentence on the latest year the rule cannot give yet, or None."""
    if rule == "year" or not periods:
        return None
    last = max(periods, key=lambda p: (p.year, p.sub))
    need = _PER_YEAR[last.kind]
    if rule in ("december", "q4"):
        done = last.sub == need
        what = "no December figure" if rule == "december" else "no fourth-quarter figure"
    else:
        done = sum(1 for p in periods if p.year == last.year) == need
        what = f"not all {need} {'months' if need == 12 else 'quarters'} published"
    if done:
        return None
    return f"{last.year} is not stored yet: {what} (latest period {last.code})"


def to_years(df: pd.DataFrame, time: str, rule: str, keys: list[str]) -> pd.DataFrame:
    """Rows keyed by ``keys`` + ``time`` as one row per year (column ``year``, int).

    ``df`` has the dimension columns, ``value`` and ``status``. For ``mean``, a year counts
    only with all its periods present: a missing value makes the year's value missing (its
    status the first symbol among the periods), a missing period drops the year.
    """
    parsed = df[time].map(parse_period)
    years = parsed.map(lambda p: p.year).astype("int64")
    if rule in ("year", "december", "q4"):
        sub = parsed.map(lambda p: p.sub)
        keep = {"year": sub == 0, "december": sub == 12, "q4": sub == 4}[rule]
        return df[keep].assign(year=years[keep]).drop(columns=[time])
    need = _PER_YEAR[parsed.iloc[0].kind] if len(parsed) else 12
    work = df.assign(year=years).drop(columns=[time])
    group = [*keys, "year"]

    def _status(s: pd.Series) -> str:
        flagged = [x for x in s if x]
        return flagged[0] if flagged else ""

    agg = work.groupby(group, sort=False, dropna=False).agg(
        value=("value", lambda v: float(v.mean()) if v.notna().all() else float("nan")),
        status=("status", _status), n=("value", "size")).reset_index()
    agg = agg[agg["n"] == need].drop(columns=["n"])
    agg.loc[agg["value"].notna(), "status"] = ""
    return agg


__all__ = ["RULES", "RuleError", "frequency", "parse_all", "check_rule", "wanted", "pending",
           "to_years"]
