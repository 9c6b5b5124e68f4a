"""Benchmark of the report factory against the naive way, on this machine.

(a) baseline: per municipality, the papermill command line, then `jupyter nbconvert --to html
    --no-input`, one after the other (a fresh Python, kernel and imports for every step);
(b) `uso report --members --force` with its defaults (warm kernels, one per core);
(c) optionally (--all) `uso report --all --force --workers 2`: wall time, peak memory of the
    whole process tree (sampled), largest report.

With --phases the script only times where one report's time goes, in this process: reports one
after another in one warm kernel, each split into the wipe of the previous report's state, the
notebook's cells and the export to HTML, with wall time and CPU time of this process and of the
kernel (the machine is shared: CPU time is the steadier figure).

Prints seconds per report for (a) and (b), the ratio b/a and the median per-report time from
the manifest, and a Markdown block for benchmarks/README.md. Nothing is asserted: the figures
are measurements of one machine. Run from the repository root:

    .venv/bin/python benchmarks/batch.py            # (a) and (b), about 10 minutes
    .venv/bin/python benchmarks/batch.py --all      # plus (c)
    .venv/bin/python benchmarks/batch.py --phases   # per-step times of single reports
    .venv/bin/python benchmarks/batch.py --check    # the factory-speed check (exit 1 if missed)

--check [N] is the factory-speed check of issue #15: `uso report` on N municipalities (default
8, the first members of params/network.yaml) against the naive command lines on the same N in
the same run; it exits with 1 when the factory's throughput is below CHECK_RATIO times the
naive one. It is a benchmark, not a unit test: it takes minutes and depends on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NOTEBOOK = ROOT / "notebooks" / "tilanneanalyysi.ipynb"


def members() -> list[str]:
    from uso_lib.params import load_network

    return [m.kunta.name_fi for m in load_network(ROOT / "params" / "network.yaml").members]


class PeakMemory:
    """Samples the resident memory of a process and all its descendants (kernels included)."""

    def __init__(self, proc: subprocess.Popen, every: float = 0.25) -> None:
        self.root = psutil.Process(proc.pid)
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run(cmd: list[str], *, env: dict | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS of the process tree and the output of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    with PeakMemory(proc) as mem:
        out, _ = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    return seconds, mem.peak, out


def baseline(names: list[str], work: Path) -> dict:
    """papermill CLI + nbconvert CLI per municipality, sequentially."""
    from uso_lib.regions import lookup

    work.mkdir(parents=True, exist_ok=True)
    times = []
    for name in names:
        stem = lookup(name).file_stem
        executed = work / f"{stem}.ipynb"
        start = time.perf_counter()
        run([str(BIN / "papermill"), str(NOTEBOOK), str(executed), "-k", "uso", "--cwd",
             str(work), "-p", "kunta", name, "-p", "liite", stem, "--no-progress-bar"])
        run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input",
             str(executed)])
        times.append(time.perf_counter() - start)
        print(f"  baseline {name}: {times[-1]:.1f} s", flush=True)
    return {"reports": len(names), "total": sum(times), "per_report": sum(times) / len(names),
            "median": statistics.median(times)}


def factory(args: list[str], out: Path) -> dict:
    seconds, peak, text = run([str(BIN / "uso"), "report", *args, "--out", str(out),
                               "--force", "--no-progress"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entries = [e for e in manifest["reports"].values() if e.get("status") == "ok"]
    sizes = [(out / e["file"]).stat().st_size for e in entries]
    durations = [e["duration"] for e in entries]
    failed = [k for k, e in manifest["reports"].items() if e.get("status") != "ok"]
    return {"reports": len(entries), "failed": failed, "total": seconds,
            "per_report": seconds / max(1, len(entries)),
            "median_duration": statistics.median(durations) if durations else None,
            "peak_rss_gb": peak / 1e9, "max_html_mb": max(sizes) / 1e6 if sizes else None,
            "workers": manifest.get("run", {}).get("workers"), "tail": text[-600:]}


PHASE_NAMES = ["Juva", "Kuhmo", "Tornio", "Imatra"]
CHECK_RATIO = 4.0  # `uso report` on 8 municipalities >= 4x the naive command lines (#15)


def check(n: int) -> int:
    """The factory-speed check: naive command lines and `uso report` on the same ``n``
    municipalities, one after the other in this run; 0 if the factory reaches CHECK_RATIO."""
    names = members()[:n]
    work = Path(tempfile.mkdtemp(prefix="uso-check-"))
    try:
        print(f"naive: papermill + nbconvert CLI, {len(names)} municipalities, sequential",
              flush=True)
        base = baseline(names, work / "baseline")
        print(f"factory: uso report {' '.join(names)}", flush=True)
        fact = factory(names, work / "factory")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = base["per_report"] / fact["per_report"]
    ok = ratio >= CHECK_RATIO and not fact["failed"] and fact["reports"] == len(names)
    print(f"naive {base['per_report']:.1f} s/report, factory {fact['per_report']:.1f} s/report "
          f"({fact['workers']} workers): {ratio:.1f}x the naive throughput "
          f"(check: >= {CHECK_RATIO:g}x) -> {'met' if ok else 'NOT met'}")
    if fact["failed"]:
        print(f"failed: {fact['failed']}")
    return 0 if ok else 1


class _Phases:
    """Wall and CPU seconds of the steps of each report, from wrappers around the factory's
    functions: CPU of the calling thread, and of the kernel process (read with psutil)."""

    STEPS = (("wipe", "uso_lib.factory.kernels", "WarmKernel.prepare"),
             ("notebook+wipe", "uso_lib.factory.render", "execute"),
             ("export", "uso_lib.factory.render", "to_html"),
             ("report", "uso_lib.factory.local", "run_job"))

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, float, float]]] = {s[0]: [] for s in self.STEPS}
        self._procs: dict[int, psutil.Process] = {}

    def kernel_cpu(self) -> float:
        from uso_lib.factory import jobs

        kernel = getattr(jobs._tls, "kernel", None)
        pid = kernel.pid if kernel is not None else None
        if not pid:
            return 0.0
        times = self._procs.setdefault(pid, psutil.Process(pid)).cpu_times()
        return times.user + times.system

    def install(self) -> None:
        import importlib

        for step, module, attr in self.STEPS:
            owner = importlib.import_module(module)
            cls, _, name = attr.rpartition(".")
            owner = getattr(owner, cls) if cls else owner
            setattr(owner, name, self._timed(step, getattr(owner, name)))

    def _timed(self, step: str, fn):
        def timed(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                return fn(*args, **kwargs)  # the run's warm-up, not a report
            wall, cpu, kcpu = time.perf_counter(), time.thread_time(), self.kernel_cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                self.rows[step].append((time.perf_counter() - wall,
                                        time.thread_time() - cpu, self.kernel_cpu() - kcpu))
        return timed


def phases(names: list[str], rounds: int) -> dict:
    """Render ``names`` ``rounds`` times in one warm kernel (`batch.run`, one worker, in this
    process) and return the median of every step over all but the kernel's first report."""
    from uso_lib import factory as batch

    timer = _Phases()
    timer.install()
    out = Path(tempfile.mkdtemp(prefix="uso-phases-"))
    try:
        # the same municipality again is a report of its own (another key), not a duplicate
        targets = [dataclasses.replace(t, key=f"{t.key}-{i}")
                   for i in range(rounds) for t in batch.plan_targets(names)]
        summary = batch.run(targets, batch.Options(out=out, workers=1, force=True,
                                                   progress=False, index=False))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    result = {"reports": len(summary.rendered), "failed": len(summary.failed)}
    for step, rows in timer.rows.items():
        warm = rows[1:] or rows
        result[step] = {name: round(statistics.median(r[i] for r in warm), 3)
                        for i, name in enumerate(("wall", "cpu", "kernel_cpu"))}
        result[step]["first_wall"] = round(rows[0][0], 3) if rows else None
    return result


def print_phases(result: dict) -> None:
    print(f"{result['reports']} reports ({result['failed']} failed) in one warm kernel; "
          "median over all but the first (seconds)")
    print(f"{'step':15s} {'wall':>6s} {'cpu here':>9s} {'cpu kernel':>11s} {'first wall':>11s}")
    for step, _, _ in _Phases.STEPS:
        r = result[step]
        print(f"{step:15s} {r['wall']:6.3f} {r['cpu']:9.3f} {r['kernel_cpu']:11.3f} "
              f"{r['first_wall']:11.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="also time `uso report --all`")
    ap.add_argument("--skip-baseline", action="store_true", help="only the factory runs")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--phases", nargs="*", metavar="KUNTA",
                    help="only time the steps of single reports (default: "
                         f"{' '.join(PHASE_NAMES)}, twice)")
    ap.add_argument("--rounds", type=int, default=2, help="with --phases: rounds over the names")
    ap.add_argument("--check", type=int, nargs="?", const=8, metavar="N",
                    help=f"the factory-speed check: uso report on N municipalities (default 8) "
                         f">= {CHECK_RATIO:g}x the naive command lines, exit 1 if not")
    a = ap.parse_args()
    if a.check is not None:
        return check(a.check)
    if a.phases is not None:
        result = phases(a.phases or PHASE_NAMES, a.rounds)
        print_phases(result)
        if a.json:
            a.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        return 0
    names = members()
    work = Path(tempfile.mkdtemp(prefix="uso-bench-"))
    result: dict = {"cores": os.cpu_count(), "machine": platform.platform(),
                    "python": platform.python_version(),
                    "memory_gb": round(psutil.virtual_memory().total / 1e9, 1)}
    try:
        if not a.skip_baseline:
            print(f"(a) baseline: papermill + nbconvert CLI, {len(names)} members, sequential")
            result["baseline"] = baseline(names, work / "baseline")
        print(f"(b) uso report --members (defaults: {os.cpu_count()} workers)", flush=True)
        result["members"] = factory(["--members"], work / "members")
        if a.all:
            print("(c) uso report --all --workers 2", flush=True)
            result["all"] = factory(["--all", "--workers", "2"], work / "all")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    b = result["members"]
    print()
    print(f"cores: {result['cores']}, memory {result['memory_gb']} GB")
    if "baseline" in result:
        base = result["baseline"]
        print(f"(a) baseline       {base['per_report']:.1f} s/report "
              f"({base['total']:.0f} s for {base['reports']})")
    print(f"(b) uso report     {b['per_report']:.1f} s/report ({b['total']:.0f} s for "
          f"{b['reports']}, {b['workers']} workers; median report {b['median_duration']:.1f} s, "
          f"largest HTML {b['max_html_mb']:.2f} MB, peak memory {b['peak_rss_gb']:.2f} GB)")
    if "baseline" in result:
        ratio = b["per_report"] / result["baseline"]["per_report"]
        result["ratio_b_over_a"] = ratio
        print(f"ratio b/a          {ratio:.2f}  (throughput x{1 / ratio:.1f})")
    if "all" in result:
        c = result["all"]
        print(f"(c) uso report --all --workers 2: {c['total'] / 60:.1f} min for {c['reports']} "
              f"reports ({len(c['failed'])} failed), peak memory {c['peak_rss_gb']:.2f} GB, "
              f"largest HTML {c['max_html_mb']:.2f} MB")
    if b["failed"]:
        print(f"failed in (b): {b['failed']}")
    if a.json:
        for part in ("members", "all"):
            result.get(part, {}).pop("tail", None)
        a.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
