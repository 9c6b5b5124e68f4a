"""``uso peers`` and ``uso compare``: comparison municipalities and comparisons on the command
line (the same engine the report uses, :mod:`uso_lib.compare`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from uso_lib import compare, fmt, indices, peers, regions, text
from uso_lib.cli import data as data_cli
from uso_lib.cli._output import print_json, print_table
from uso_lib.errors import ParamsError, UsoError
from uso_lib.provenance import source_line, year_span

ORDER = 40


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("peers", help="suggest comparison municipalities (verrokit)")
    p.add_argument("kunta", help="municipality name or code")
    p.add_argument("--k", type=int, default=peers.DEFAULT_K,
                   help="how many (default %(default)s)")
    p.add_argument("--distance", action="store_true",
                   help="also weigh the distance between the municipalities")
    _common(p)
    p.set_defaults(func=cmd_peers)

    p = sub.add_parser("compare", help="compare a municipality with its peers and groups")
    p.add_argument("kunta", help="municipality name or code")
    p.add_argument("--peers", help="comparison municipalities, comma-separated (default: the "
                   "network file's verrokit, else suggested)")
    p.add_argument("--indicator", help="one indicator: its ranking among the peers")
    p.add_argument("--year", type=int, help="year (default: the latest with data)")
    p.add_argument("--category", default="", help="breakdown category (default: total)")
    p.add_argument("--network", help="network file (default params/network.yaml if present); "
                   "'none' for no network group")
    _common(p)
    p.set_defaults(func=cmd_compare)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--source", choices=["local", "snapshot"], default="local",
                   help="local store over the snapshot (default) or the snapshot alone")


# -- uso peers ---------------------------------------------------------------------------------
def cmd_peers(args: argparse.Namespace) -> int:
    st = compare.get_store(args.source)
    sug = peers.suggest(args.kunta, args.k, store=st, use_distance=args.distance)
    if args.json:
        print_json(sug.to_dict())
        return 0
    keys = [f.key for f in sug.features]
    shown = ["vaesto" if k == "vaesto_log" else k for k in keys]
    heads = ["code", "name", "distance"] + shown
    rows = [[sug.kunta, sug.name, "0"] + [_num(sug.profile.get(k)) for k in shown]]
    rows += [[p.code, p.name, fmt.number(p.distance, 2)] + [_num(p.profile.get(k))
                                                            for k in shown]
             for p in sug.peers]
    print_table(rows, heads)
    print()
    print(sug.method)
    for n in sug.notes:
        print(n)
    return 0


def _num(v: float | None) -> str:
    if v is None:
        return fmt.MISSING
    return fmt.number(v, 0 if float(v).is_integer() else 1)


# -- uso compare -------------------------------------------------------------------------------
def _network(arg: str | None, kunta: regions.Municipality):
    """(network codes, the member's own verrokit) from the network file, or ([], [])."""
    if arg and arg.lower() == "none":
        return [], []
    from uso_lib import params

    path = Path(arg) if arg else params.default_path()
    if path is None:
        return [], []
    net = params.load_network(path)
    member = net.member(kunta.code)
    return net.codes(), ([p.code for p in member.verrokit] if member else [])


def _check_year(year: int | None, st) -> None:
    """A year outside every figure of the store is a mistake (1900, 2090), not a table of
    'no data' rows; within the range, an indicator lacking the year uses its latest earlier."""
    if year is None:
        return
    years = st.frame.loc[st.frame["value"].notna(), "year"]
    first, last = int(years.min()), int(years.max())
    if not first <= year <= last:
        raise UsoError(f"--year {year} is outside the data: the store's figures cover the "
                       f"years {year_span(range(first, last + 1))}.",
                       hint="Choose a year in that range, or leave --year out for each "
                            "indicator's latest year.")


def cmd_compare(args: argparse.Namespace) -> int:
    st = compare.get_store(args.source)
    m = regions.lookup(args.kunta)
    if args.peers is not None and not peers.parse_list(args.peers):
        raise ParamsError(f"The peer list is empty ({args.peers!r}). Give comparison "
                          "municipalities separated by commas (--peers Joroinen,Rantasalmi), "
                          "or leave --peers out to use the network file's or the suggested "
                          "ones.", field="--peers")
    if not args.indicator:  # one indicator names its own years when it lacks the year
        _check_year(args.year, st)
    network, own = _network(args.network, m)
    if len(st.frame):  # loads the store now, so an unreadable local file is reported first
        data_cli.warn_store(st)
    given = args.peers if args.peers else own
    sel = peers.resolve_peers(m, given, store=st,
                              field_name="--peers" if args.peers else "verrokit")
    if args.indicator:
        return _one(args, st, m, sel, network)
    ov = text.overview_labels(compare.overview(m, sel.codes(), network, year=args.year,
                                               store=st))
    if args.json:
        cols = list(ov.columns)
        print_json({"kunta": m.code, "name": m.name_fi, "peers": sel.to_dict(),
                    "network": network, "year": args.year,
                    "indicators": [{**{c: _plain(r[c]) for c in cols},
                                    "ranking_mean": _ranking_mean(r)} for _, r in ov.iterrows()],
                    "indices": indices.indices_for(m, st),
                    "highlights": text.highlights(m, sel.codes(), network, year=args.year,
                                                  store=st, overview_df=ov)})
        return 0
    print(f"{m.name_fi} ({m.code}): vertailukunnat ({sel.method_fi}): "
          + ", ".join(p.name_fi for p in sel.peers))
    for theme, part in ov.groupby("theme_title", sort=False):
        print(f"\n{theme}")
        rows = []
        for _, r in part.iterrows():
            u, d = r["unit"], int(r["decimals"])
            label = r["label"] + (" (indeksi)" if r["relative_index"] else "")
            count = r["kind"] == "count"  # a count is not compared across sizes: its rate is
            rows.append([label, _yr(r["year"]), _shown(r),
                         text.figure(None if count else _ranking_mean(r), u, d),
                         text.figure(None if count else r["network_mean"], u, d),
                         # national figures only; a mean of municipalities is its own column
                         text.figure(None if r["country_is_mean"] else r["country"], u, d),
                         text.figure(r["country"] if r["country_is_mean"]
                                     and r["kind"] != "count" else None, u, d),
                         "" if count else _rank(r),
                         "" if count or _missing(r["assessment_fi"]) else r["assessment_fi"]])
        print_table(rows, ["indikaattori", "vuosi", "arvo", "vrt. kunnat ka.", "verkosto ka.",
                           "koko maa", "kuntien ka.", "sija", "arvio"])
    print()
    for s in text.highlights(m, sel.codes(), network, year=args.year, store=st,
                             overview_df=ov):
        print(s)
    return 0


def _ranking_mean(r) -> float | None:
    """The brochure's "Vrt. kunnat ka.": the municipality and its peers with data, from the
    overview's peers-only mean and count."""
    if _missing(r["peer_mean"]) or _missing(r["peer_n"]):
        return None
    if _missing(r["value"]):
        return float(r["peer_mean"])
    n = int(r["peer_n"])
    return (float(r["peer_mean"]) * n + float(r["value"])) / (n + 1)


def _missing(v) -> bool:
    return v is None or (pd.api.types.is_scalar(v) and bool(pd.isna(v)))


def _plain(v):
    """JSON-ready scalars: missing (NaN, <NA>) -> None, numpy -> Python."""
    if _missing(v):
        return None
    return v.item() if hasattr(v, "item") else v


def _shown(r) -> str:
    if r["has_data"]:
        return text.figure(r["value"], r["unit"], int(r["decimals"]))
    return "ei tietoa" + (f" ({r['status']})" if r["status"] else "")


def _yr(y) -> str:
    return "" if _missing(y) else str(int(y))


def _rank(r) -> str:
    if _missing(r["peer_rank_text"]) or r["peer_rank_text"] == "–" or _missing(r["peer_n"]):
        return ""
    return f"{r['peer_rank_text']}/{int(r['peer_n']) + 1}"


def _one(args, st, m, sel, network) -> int:
    from uso_lib import catalog

    data_cli.check_category(st, catalog.get(args.indicator).id, args.category)
    c = compare.compare(args.indicator, m, peers=sel.codes(), network=network,
                        year=args.year, category=args.category, store=st)
    rk = compare.ranking(c.indicator, m, sel.codes(), year=c.year, category=args.category,
                         store=st)
    peer = c.groups.get("peers")
    if args.json:
        print_json({
            "kunta": m.code, "name": m.name_fi, "indicator": c.indicator, "label": c.label,
            "year": c.year, "value": c.value, "status": c.status or None, "unit": c.unit,
            "peers": sel.to_dict(),
            "peer_mean": peer.mean if peer else None,
            # the brochure's "Vrt. kunnat ka.": the mean of the whole ranking
            "ranking_mean": rk.attrs["ranking_mean"],
            "rank": peer.rank if peer else None,
            "rank_text": peer.rank_text if peer else None,
            "n_ranked": peer.n_ranked if peer else None,
            "rank_basis": text.RANK_BASIS[c.polarity], "assessment": c.assessment,
            "source": c.source_text,
            "ranking": [{k: _plain(v) for k, v in row.items()} for row in
                        rk.to_dict("records")],
            "comparison": text.with_labels(c),
        })
        return 0
    unit, dec = c.unit, c.decimals
    title = f"{c.label}, {c.year}"
    if c.relative_index:
        title += f" ({text.RELATIVE_INDEX_LABEL})"
    print(title)
    print(f"Sija: {text.RANK_BASIS[c.polarity]}")
    rows = [[r.rank_text, ("» " if r.highlight else "  ") + r.name,
             text.figure(r.value, unit, dec) if r.value == r.value else
             f"ei tietoa{' (' + r.status + ')' if r.status else ''}"]
            for r in rk.itertuples()]
    rows.append(["", "  " + text.PEER_MEAN, text.figure(rk.attrs["ranking_mean"], unit, dec)])
    rows.append(["", "  " + text.PEERS_ONLY_MEAN.format(name=m.name_fi),
                 text.figure(rk.attrs["mean"], unit, dec)])
    print_table(rows, ["sija", "kunta", "arvo"])
    print(f"{text.PEER_MEAN}: kaikkien listan {rk.attrs['n_ranking']} kunnan keskiarvo "
          f"({m.name_fi} mukaan lukien), kuten esitteen vertailussa.")
    if rk.attrs["n_missing"]:
        print(f"{rk.attrs['n_missing']} vertailukunnalta ei tietoa; keskiarvo muista.")
    print(f"\n{text.comparison_sentence(c)}")
    print(source_line(c.source_text))
    return 0
