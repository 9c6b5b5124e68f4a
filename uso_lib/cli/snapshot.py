"""``uso snapshot build``: derive the embedded snapshot from the raw published files."""

from __future__ import annotations

import argparse
from pathlib import Path

from uso_lib import snapshot

ORDER = 90


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="build the embedded offline snapshot")
    ssub = p.add_subparsers(dest="snapshot_command", metavar="SNAPSHOT_COMMAND")
    p.set_defaults(func=lambda a: p.print_help() or 2)
    b = ssub.add_parser("build", help="build uso_lib/data/snapshot from ../shared/data/raw")
    b.add_argument("--raw", type=Path, default=Path("../shared/data/raw"),
                   help="the raw data folder (default %(default)s)")
    b.add_argument("--out", type=Path, default=None, help="output folder (default: the package)")
    b.add_argument("--only", help="comma-separated builder names")
    b.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    only = args.only.split(",") if args.only else None
    man = snapshot.build(args.raw, args.out, only=only, progress=lambda m: print(f"  {m}"))
    for name, info in man["builders"].items():
        print(f"{name:16s} {info['rows']:>8d} rows  {len(info['indicators']):>3d} indicators  "
              f"years {info['years'][0] if info['years'] else '-'}-"
              f"{info['years'][1] if info['years'] else '-'}")
    print(f"snapshot: {man['total_bytes_parquet'] / 1e6:.2f} MB")
    return 0
