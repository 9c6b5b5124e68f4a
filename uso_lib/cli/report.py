"""``uso report``: render situation-analysis reports (one, the network's members, or all)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from uso_lib.cli._output import print_json, print_table
from uso_lib.errors import UsoError

ORDER = 40
# Imported when the command runs: nbconvert and nbclient take seconds to import, and every
# other `uso` command would pay for them.
DEFAULT_OUT = Path("reports")
NOTEBOOK = Path("notebooks") / "tilanneanalyysi.ipynb"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="render reports (HTML + data appendix) into reports/",
        description="Render the situation-analysis report of each municipality into --out, "
                    "with manifest.json and index.html. Reports whose inputs are unchanged "
                    "are skipped unless --force. Exit code 1 if any report failed.")
    p.add_argument("kunta", nargs="*", help="municipality names or codes (e.g. Juva 905)")
    p.add_argument("--members", action="store_true",
                   help="every member of the network file (--params)")
    p.add_argument("--all", action="store_true", dest="everyone",
                   help="every municipality of the division (309)")
    p.add_argument("--network", action="store_true",
                   help="the network's own overview (notebooks/verkosto.ipynb) as "
                        "verkosto-<name>.html, with --format also PDF and PPTX")
    p.add_argument("--params", type=Path, default=None, metavar="FILE",
                   help="network file (default: params/network.yaml)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                   help="output folder (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help=f"parallel reports (default: the number of cores, {os.cpu_count()})")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="time limit per report (default: %(default)g s; 0 = none)")
    p.add_argument("--force", action="store_true", help="render even if nothing changed")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the reports on a Dask cluster instead of this machine")
    p.add_argument("--aineisto", choices=["snapshot", "local"], default="snapshot",
                   help="data: the embedded snapshot (default) or the local store over it")
    p.add_argument("--notebook", type=Path, default=None, metavar="IPYNB",
                   help="report notebook (default: notebooks/tilanneanalyysi.ipynb)")
    p.add_argument("--kernel", default=None, metavar="NAME",
                   help="Jupyter kernel (default: 'uso', else 'python3')")
    p.add_argument("--format", default="html", metavar="FORMATS",
                   help="html (default), pdf, pptx, comma-separated: html,pdf,pptx; the PDF "
                        "needs Chromium and the [pdf] extra")
    p.add_argument("--pptx-template", type=Path, default=None, metavar="FILE.pptx",
                   help="the slide deck uses this presentation's layouts (with --format pptx)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or lines")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
    p.set_defaults(func=cmd_report)


def _notebook(arg: Path | None) -> Path:
    from uso_lib.factory import DEFAULT_NOTEBOOK

    if arg is not None:
        return arg
    return NOTEBOOK if NOTEBOOK.is_file() else DEFAULT_NOTEBOOK


def cmd_report(args: argparse.Namespace) -> int:
    from uso_lib import factory as batch
    from uso_lib import params as params_mod
    from uso_lib.factory.formats import parse_formats

    if not (args.kunta or args.members or args.everyone or args.network):
        raise UsoError("Which reports? Give municipality names (uso report Juva), "
                       "--members (the network file), --all or --network.")
    if args.workers is not None and args.workers < 1:
        raise UsoError(f"--workers must be at least 1, not {args.workers}.")
    if args.timeout < 0:
        raise UsoError(f"--timeout must be zero (none) or positive, not {args.timeout:g}.")
    formats = parse_formats(args.format)
    path = args.params if args.params is not None else params_mod.default_path()
    plan = batch.plan_network(path) if path is not None else None
    if args.network and not (args.kunta or args.members or args.everyone):
        return _network(args, plan, formats)
    targets = batch.plan_targets(args.kunta, members=args.members, everyone=args.everyone,
                                 network=plan)
    if plan is not None and not (args.members or args.everyone):
        wanted = {t.kunta.code for t in targets if t.kunta}
        for p in plan.problems:
            if p.kunta is None or p.kunta.code not in wanted:
                print(f"uso: warning: skipped an invalid network entry: {p.error}",
                      file=sys.stderr)
    options = batch.Options(
        out=args.out, notebook=_notebook(args.notebook), workers=args.workers,
        force=args.force, timeout=args.timeout or None, scheduler=args.scheduler,
        aineisto=args.aineisto, kernel_name=args.kernel,
        progress=False if args.no_progress else None, formats=formats,
        pptx_template=args.pptx_template)
    summary = batch.run(targets, options, plan)
    if args.network:
        _network(args, plan, formats)
    for w in summary.warnings:
        print(f"uso: warning: {w}", file=sys.stderr)
    if args.json:
        print_json({"out": str(summary.out), "seconds": round(summary.seconds, 2),
                    "workers": summary.workers, "scheduler": summary.scheduler,
                    "up_to_date": summary.up_to_date, "warnings": summary.warnings,
                    "reports": [batch.outcome_dict(o) for o in summary.outcomes]})
        return summary.exit_code
    if not summary.outcomes:
        print(f"nothing to render, {len(summary.up_to_date)} up to date "
              f"({summary.out}/index.html; --force renders again)")
        return 0
    print_table(batch.summary_rows(summary), ["kunta", "nimi", "tila", "s", "raportti / virhe"])
    where = f"Dask {summary.scheduler}" if summary.scheduler else f"{summary.workers} workers"
    print(f"\n{len(summary.rendered)} rendered, {len(summary.failed)} failed, "
          f"{len(summary.up_to_date)} up to date in {summary.seconds:.1f} s ({where}); "
          f"{summary.out}/index.html, {summary.out}/{batch.MANIFEST}")
    return summary.exit_code


def _network(args: argparse.Namespace, plan, formats: tuple[str, ...]) -> int:
    """``--network``: the network overview, after the municipalities' reports if any."""
    from uso_lib.factory.network import render_network

    done = render_network(plan, args.out, formats_=formats, pptx_template=args.pptx_template,
                          aineisto=args.aineisto, kernel_name=args.kernel,
                          timeout=args.timeout or None)
    print(f"{done.title}: {', '.join(done.files)} in {done.seconds:.1f} s ({args.out})",
          file=sys.stderr if args.json else sys.stdout)
    return 0
