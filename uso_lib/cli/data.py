"""``uso data ...``: read figures from the store (and refresh or import them)."""

from __future__ import annotations

import argparse

from uso_lib import catalog, fmt, provenance, regions
from uso_lib.cli._output import print_json
from uso_lib.store import default_store

ORDER = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="read, refresh or import indicator data")
    dsub = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND")
    p.set_defaults(func=lambda a: p.print_help() or 2)

    g = dsub.add_parser("get", help="one figure with its source and year")
    g.add_argument("indicator", help="indicator id (see `uso indicators`)")
    g.add_argument("--kunta", required=True, help="municipality name or code")
    g.add_argument("--year", type=int, help="year (default: the latest with data)")
    g.add_argument("--category", default="", help="breakdown category (default: total)")
    g.add_argument("--source", choices=["local", "snapshot"], default="local",
                   help="local store over the snapshot (default) or the snapshot alone")
    g.add_argument("--origin", action="store_true",
                   help="say where the figure came from: the imported file or the refresh, "
                        "and when it entered the store")
    g.add_argument("--json", action="store_true",
                   help="print JSON (with the origin fields 'retrieved' and 'file')")
    g.set_defaults(func=cmd_get)

    for extra in _EXTENSIONS:
        extra(dsub)


def source_text(obs) -> str:
    """The source with its table id, without saying the id twice."""
    return provenance.source_text(obs.source, obs.table)


def warn_store(st) -> None:
    """Say on stderr which local store files were unreadable (and so skipped)."""
    import sys

    for w in st.warnings:
        print(f"uso: warning: {w}", file=sys.stderr)


def check_category(st, indicator: str, category: str) -> None:
    """A breakdown category the store does not have for this indicator is a typo, not a
    figure that is missing: say which categories there are."""
    if not category:
        return
    have = sorted(c for c in st.rows(indicator)["category"].unique() if c)
    if category in have:
        return
    from uso_lib.errors import UsoError

    if not have:
        raise UsoError(f"{indicator!r} has no breakdown: leave --category out.")
    shown = ", ".join(have[:12]) + (f" ... ({len(have)} in all)" if len(have) > 12 else "")
    raise UsoError(f"{category!r} is not a category of {indicator!r}.",
                   hint=f"Its categories: {shown}.")


# Other modules (refresh, import) add `data` sub-commands by appending to this list.
_EXTENSIONS: list = []


def cmd_get(args: argparse.Namespace) -> int:
    m = regions.lookup(args.kunta)
    ind = catalog.get(args.indicator)
    st = default_store(args.source)
    check_category(st, ind.id, args.category)
    obs = st.get(ind.id, m.code, args.year, args.category)
    warn_store(st)
    retrieved = _retrieved(st, obs)
    if args.json:
        print_json({"indicator": ind.id, "kunta": m.code, "name": m.name_fi, "year": obs.year,
                    "value": None if obs.missing else obs.value,
                    "status": obs.status or None, "unit": ind.unit,
                    "source": source_text(obs), "table": obs.table,
                    "vintage": obs.vintage, "origin": obs.origin, "retrieved": retrieved,
                    "file": obs.table if obs.origin == "file" else None})
        return 0
    shown = fmt.with_unit(obs.value, ind.unit, ind.decimals,
                          missing=f"missing ({obs.status or 'no value'})")
    print(f"{ind.label}, {m.name_fi} ({m.code}), {obs.year}: {shown}")
    print(provenance.source_line(source_text(obs)) + f" (data {obs.vintage}, {obs.origin})")
    if args.origin:
        print("Origin: " + origin_text(obs.origin, obs.table, retrieved))
    return 0


def _retrieved(st, obs) -> str:
    """When the figure shown entered the store (an import's time, a refresh's day)."""
    rows = st.series(obs.indicator, obs.kunta, obs.category)
    hit = rows.loc[rows["year"] == obs.year, "retrieved"]
    return str(hit.iloc[0]) if len(hit) else ""


def origin_text(origin: str, table: str, retrieved: str) -> str:
    """``imported from juva.csv on 2026-12-04 12:40:01 UTC (the newest import of the figure
    wins)``: which of several imports a figure comes from."""
    when = retrieved
    if "T" in retrieved:
        from datetime import datetime

        try:
            when = datetime.fromisoformat(retrieved).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        except ValueError:
            pass
    if origin == "file":
        return (f"imported from {table} on {when} (of several imports of a figure, the "
                "newest wins)")
    if origin in ("live", "cached"):
        how = "a live refresh" if origin == "live" else "a refresh served from the HTTP cache"
        return f"{how} of {table}, retrieved {when}"
    return f"the embedded snapshot ({table}, retrieved {when})"
