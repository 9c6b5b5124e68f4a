"""``uso municipalities`` and ``uso indicators``: what the workbench knows about."""

from __future__ import annotations

import argparse

from uso_lib import catalog, regions
from uso_lib.cli._output import print_json, print_table
from uso_lib.store import default_store

ORDER = 10


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("municipalities", help="list the municipalities of the division")
    p.add_argument("--division", type=int, default=regions.DEFAULT_DIVISION,
                   help="regional division year (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_municipalities)

    p = sub.add_parser("indicators", help="list the indicator catalogue")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--source", choices=["local", "snapshot"], default="local",
                   help="which store to count years in (default: local over snapshot)")
    p.set_defaults(func=cmd_indicators)


def cmd_municipalities(args: argparse.Namespace) -> int:
    reg = regions.registry(args.division)
    if args.json:
        print_json([m.to_dict() for m in reg])
        return 0
    print_table([(m.code, m.name_fi, m.name_sv, m.maakunta, m.kuntaryhmitys) for m in reg],
                ["code", "name", "namn", "maakunta", "kuntaryhmitys"])
    print(f"\n{len(reg)} municipalities in the {reg.division} division.")
    return 0


def _years_text(years: list[int]) -> str:
    if not years:
        return "no offline data"
    return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])


def cmd_indicators(args: argparse.Namespace) -> int:
    cat = catalog.catalog()
    st = default_store(args.source)
    have = set(st.indicators())
    out = []
    for ind in cat.indicators:
        years = st.years(ind.id) if ind.id in have else []
        if not years and ind.id in have:  # breakdown-only indicators
            years = sorted(int(y) for y in st.rows(ind.id)["year"].unique())
        src = ind.offline.publisher if ind.offline and ind.offline.publisher else ""
        if ind.offline and ind.offline.table:
            src = f"{src} {ind.offline.table}".strip()
        live = ""
        if ind.live and ind.live.source == "pxweb":
            live = f"pxweb {ind.live.database}/{ind.live.table}"
        elif ind.live and ind.live.source == "sotkanet":
            live = f"sotkanet {ind.live.indicator}"
        elif ind.live:
            live = ind.live.source
        out.append({"id": ind.id, "theme": ind.theme, "label": ind.label, "unit": ind.unit,
                    "years": years, "source": src, "live": live,
                    "proxy": bool(ind.offline and ind.offline.proxy),
                    "relative_index": ind.relative_index})
    if args.json:
        print_json(out)
        return 0
    print_table([(o["id"], o["theme"], o["label"], o["unit"], _years_text(o["years"]),
                  o["source"]) for o in out],
                ["id", "theme", "label", "unit", "years", "source"])
    return 0
