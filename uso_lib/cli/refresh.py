"""``uso data refresh`` and ``uso data import``: bring live and spreadsheet figures into the
local store.

These are ``data`` sub-commands, so this module adds them to :data:`uso_lib.cli.data._EXTENSIONS`
when it is imported; the command-line builder imports every module of the package before it
registers any, so the extensions are in place when the ``data`` parser is built.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from uso_lib.cli import data as data_cli
from uso_lib.cli._output import print_json, print_table
from uso_lib.provenance import year_span

if TYPE_CHECKING:
    from uso_lib.refresh import RefreshReport

ORDER = 15  # before data.py (20); see the module docstring


def _add_commands(dsub: argparse._SubParsersAction) -> None:
    r = dsub.add_parser(
        "refresh", help="fetch live figures (PxWeb, Sotkanet) into the local store",
        description="Fetch every catalogue indicator that has a live source, for all "
                    "municipalities at once (one query per table), into the local store "
                    "(USO_DATA_DIR). Answers are cached (USO_CACHE_DIR); when a service fails, "
                    "the cached answer is used and the summary says so. Every request and the "
                    "whole refresh are bounded in time (USO_HTTP_TIMEOUT, USO_HTTP_BUDGET, "
                    "--timeout) and answers in size (USO_HTTP_MAX_MB).")
    r.add_argument("--indicators", metavar="ID,...",
                   help="comma-separated indicator ids (default: every live indicator)")
    r.add_argument("--dry-run", action="store_true",
                   help="list the data requests and their cell counts without sending them "
                        "(reads table metadata and limits)")
    r.add_argument("--fresh", action="store_true",
                   help="ask the services even when the cache holds a recent answer")
    r.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="send no request after this many seconds and keep what was fetched "
                        "(default: USO_REFRESH_TIMEOUT, else 120 s per table)")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=cmd_refresh)

    i = dsub.add_parser(
        "import", help="load a spreadsheet (CSV/XLSX template) into the local store",
        description="Load a filled template (columns kunta, vuosi, arvo, indikaattori, lahde, "
                    "optional kategoria, tila) into the local store. Every row is checked "
                    "first; nothing is written if any row is wrong.")
    i.add_argument("file", type=Path, help="the .csv or .xlsx file")
    i.add_argument("--indicator", metavar="ID",
                   help="indicator id for rows that leave 'indikaattori' empty")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.set_defaults(func=cmd_import)

    t = dsub.add_parser("template", help="write the empty spreadsheet template to fill in",
                        description="Copy the empty import template (columns kunta, vuosi, "
                                    "arvo, indikaattori, lahde, kategoria, tila; the XLSX has "
                                    "an 'ohje' sheet) to a file of your own.")
    t.add_argument("--format", choices=["xlsx", "csv"], default="xlsx",
                   help="file type (default %(default)s)")
    t.add_argument("--out", type=Path, help="where to write (default: ./uso-aineistopohja.FORMAT)")
    t.add_argument("--force", action="store_true", help="overwrite an existing file")
    t.set_defaults(func=cmd_template)


def _seconds(text: str) -> float:
    import math

    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _ids(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t.strip() for t in text.split(",") if t.strip()] or None


def cmd_refresh(args: argparse.Namespace) -> int:
    from uso_lib import refresh

    ids = _ids(args.indicators)
    if args.dry_run:
        planned, skipped = refresh.plan(ids, timeout=args.timeout)
        if args.json:
            print_json({"requests": [p.__dict__ for p in planned],
                        "skipped": [{"indicator": i, "reason": w} for i, w in skipped]})
            return 0
        print_table([(p.source, ",".join(p.indicators), p.method, f"{p.part}/{p.parts}",
                      "?" if p.cells is None else p.cells, p.url + (f"  ({p.note})"
                                                                   if p.note else ""))
                     for p in planned],
                    ["source", "indicators", "method", "part", "cells", "url"])
        for ind, why in skipped:
            print(f"skipped {ind}: {why}")
        print(f"\n{len(planned)} data request(s) planned; nothing was sent (dry run).")
        return 0

    report = refresh.refresh(ids, fresh=args.fresh, timeout=args.timeout,
                             progress=None if args.json else
                             (lambda m: print(f"  {m}", flush=True)))
    if args.json:
        print_json({
            "results": [{"indicator": r.indicator, "source": r.source, "origin": r.origin,
                         "years": r.years, "rows": r.rows, "calls": r.calls,
                         "notes": r.notes, "error": r.error} for r in report.results],
            "skipped": [{"indicator": i, "reason": w} for i, w in report.skipped],
            "written": [str(p) for p in report.written], "warnings": report.warnings,
            "calls": report.calls, "timed_out": report.timed_out})
        return _status(report)
    print_table([(r.indicator, r.source, (year_span(r.years) or "-"), r.rows, r.origin, r.calls)
                 for r in report.results],
                ["indicator", "source", "years", "rows", "result", "calls"])
    shown: set[str] = set()
    for r in report.results:
        for n in r.notes:
            if n not in shown:
                shown.add(n)
                print(f"note: {n}")
    for w in report.warnings:
        if w not in shown:
            shown.add(w)
            print(f"note: {w}")
    failures: dict[tuple[str, str], list[str]] = {}
    hints: dict[tuple[str, str], str] = {}
    for r in report.failed:  # one line per table and cause, not per indicator
        first, _, rest = (r.error or "").partition("\n")
        failures.setdefault((r.source, first), []).append(r.indicator)
        # what to do about it (time limits, --fresh), without the URL the line already implies
        hints.setdefault((r.source, first), re.sub(r"^URL: \S+\.? ", "", rest.strip()))
    for (source, error), ids in failures.items():
        shown_ids = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        print(f"failed {source} ({shown_ids}): {error}")
        hint = hints[(source, error)]
        if hint and hint not in shown:  # said once, under the first failure it concerns
            shown.add(hint)
            print(f"  {hint}")
    for ind, why in report.skipped:
        print(f"skipped {ind}: {why}")
    calls = sum(report.calls.values())
    if not report.results:
        print("\nNothing to refresh: no chosen indicator has a live source.")
    elif report.all_failed:
        print(f"\nEvery source failed ({calls} request(s) made"
              + (f"; {report.timed_out} ran out" if report.timed_out else "")
              + "); the local store is unchanged.")
    else:
        ok = len(report.results) - len(report.failed)
        print(f"\n{ok} of {len(report.results)} indicator(s) refreshed with {calls} request(s) "
              f"into {report.written[0].parent if report.written else '-'}"
              + (f"; {len(report.failed)} failed (their previous figures are kept)."
                 if report.failed else "."))
    return _status(report)


def cmd_import(args: argparse.Namespace) -> int:
    from uso_lib.sources import files

    loaded, written = files.import_file(args.file, indicator=args.indicator)
    summary = loaded.summary()
    if args.json:
        print_json({"file": str(loaded.path), "written": str(written),
                    "indicators": summary.to_dict("records"), "notes": loaded.notes})
        return 0
    print_table(summary.itertuples(index=False), list(summary.columns))
    for n in loaded.notes:
        print(f"note: {n}")
    print(f"\nImported {len(loaded.frame)} row(s) from {loaded.path.name} into {written} "
          "(origin 'file'); `uso data get` now sees them.")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    import shutil

    from uso_lib.atomic import atomic_write
    from uso_lib.errors import OutputError
    from uso_lib.sources import files

    src = files.template_path(args.format)
    out = args.out or Path(src.name)
    if out.is_dir():
        out = out / src.name
    if out.exists() and not args.force:
        raise OutputError(f"{out} exists already; give another --out or add --force.")
    atomic_write(out, lambda tmp: shutil.copyfile(src, tmp),
                 hint="Give a writable folder with --out, and check free disk space.")
    print(f"Wrote the empty template {out}. Fill one row per figure, then: "
          f"uso data import {out}")
    return 0


if _add_commands not in data_cli._EXTENSIONS:
    data_cli._EXTENSIONS.append(_add_commands)


def _status(report: RefreshReport) -> int:
    """3: nothing was refreshed; 4: some indicators failed (refused figures or answers, or no
    answer and nothing cached), the others were stored; 0: every indicator was stored, live or
    from the cache. A script that refreshes before rendering can tell the three apart."""
    if report.all_failed:
        return 3
    return 4 if report.failed else 0
