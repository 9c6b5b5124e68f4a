"""The report factory: many municipalities' reports in one dependable run.

A run renders each target municipality's report with the notebook (see
:mod:`uso_lib.factory.render`) and keeps ``<out>/manifest.json`` and ``<out>/index.html`` up to
date:

- **Warm and parallel.** Each worker thread owns one
  :class:`~uso_lib.factory.kernels.WarmKernel` that imported the notebook's modules once and
  runs report after report with a clean namespace; the export runs in this process, where
  nbconvert is imported once. The hashes of the inputs are computed once per run.
  ``--scheduler`` sends the same jobs to a Dask cluster instead (:mod:`~uso_lib.factory.dask`).
- **Jobs are self-contained.** A :class:`~uso_lib.factory.jobs.Job` carries the notebook text,
  the parameters and the network file's text, and :func:`~uso_lib.factory.jobs.run_job`
  returns the finished HTML and appendix files as bytes: the same function runs in a local
  thread or on a Dask worker on another machine, and only this process writes into ``<out>``.
- **One failure stops nothing.** A cell that raises, a report over its time-out, a bad entry
  in the network file: the municipality is recorded as failed (which cell, which exception) and
  the others go on. A kernel that dies mid-report is replaced and the report retried once.
- **Complete or absent.** Every file is written atomically, the manifest after each report, so
  a run killed at any point leaves whole reports and a manifest that describes them; the next
  run renders what is missing.
- **Incremental.** A report whose inputs (parameters, notebook and templates, data, code,
  network file, uso version) and output file are unchanged is skipped unless ``force``
  (:mod:`~uso_lib.factory.manifest`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from uso_lib import __version__, config
from uso_lib.errors import OutputError, ParamsError, UsoError
from uso_lib.factory import formats
from uso_lib.factory.dask import run_dask
from uso_lib.factory.jobs import STOPPING, Job, Outcome, release_kernels, run_job
from uso_lib.factory.local import Progress, gc_frozen, locked, run_local, sweep
from uso_lib.factory.manifest import (
    INDEX,
    MANIFEST,
    appendix_stem,
    code_hash,
    data_hash,
    now,
    read_manifest,
    record,
    stale,
    template_hash,
    text_hash,
    write_manifest,
)
from uso_lib.factory.plan import MemberProblem, NetworkPlan, Target, plan_network, plan_targets
from uso_lib.factory.render import page_title, read_notebook

__all__ = ["DEFAULT_NOTEBOOK", "DEFAULT_OUT", "DEFAULT_PARAMETERS", "INDEX", "MANIFEST", "Job",
           "MemberProblem", "NetworkPlan", "Options", "Outcome", "Summary", "Target",
           "appendix_stem", "outcome_dict", "plan_network", "plan_targets", "read_manifest",
           "release_kernels", "run", "run_job", "summary_rows"]

DEFAULT_NOTEBOOK = config.PACKAGE_DIR.parent / "notebooks" / "tilanneanalyysi.ipynb"
DEFAULT_OUT = Path("reports")
DEFAULT_PARAMETERS = {"kunta": "", "verrokit": [], "vuosi": None, "aineisto": "snapshot",
                      "verkosto": "", "liite": ""}


# -- the run ------------------------------------------------------------------------------
@dataclass
class Options:
    out: Path = DEFAULT_OUT
    notebook: Path = DEFAULT_NOTEBOOK
    workers: int | None = None
    force: bool = False
    timeout: float | None = 600.0
    scheduler: str | None = None
    aineisto: str = "snapshot"
    kernel_name: str | None = None
    progress: bool | None = None  # None: a bar on a terminal, one line per report otherwise
    index: bool = True
    formats: tuple[str, ...] = ("html",)  # and "pdf", "pptx" (uso_lib.factory.formats)
    pptx_template: Path | None = None


@dataclass
class Summary:
    out: Path
    outcomes: list[Outcome]
    up_to_date: list[str]
    seconds: float
    workers: int
    scheduler: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def rendered(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0



def _network_inputs(plan: NetworkPlan | None) -> tuple[dict, str, str]:
    """The notebook's network file (placed beside the kernel under its own name), the
    ``verkosto`` parameter and the file's hash."""
    if plan is None or plan.path is None or plan.network is None:
        return {}, "", ""
    return {plan.path.name: plan.text}, plan.path.name, text_hash(plan.text)



def _note_inputs(plan: NetworkPlan | None, kunta) -> tuple[dict, str]:
    """The municipality's consultant notes (huomiot/<stem>.md beside the network file), sent
    with the job under the same relative path, and their hash: a changed note makes the
    report stale."""
    from uso_lib import notes

    if plan is None or plan.path is None or kunta is None:
        return {}, ""
    path = notes.path_for(notes.folder_for(plan.path), kunta)
    if not path.is_file():
        return {}, ""
    data = path.read_bytes()
    return {f"{notes.FOLDER}/{path.name}": data}, text_hash(data)


def run(targets: Sequence[Target], options: Options, network: NetworkPlan | None = None
        ) -> Summary:
    """Render ``targets`` into ``options.out``; see the module documentation."""
    started = time.perf_counter()
    out = Path(options.out)
    nb_path = Path(options.notebook)
    nb_text = _read_text(nb_path)
    read_notebook(nb_path, text=nb_text)  # a broken notebook stops the run here, once
    net_files, verkosto, net_hash = _network_inputs(network)
    extra = formats.extra(options.formats)
    template = formats.check(extra, options.pptx_template)  # Chromium, a template: stop early
    shared = {
        "template_hash": template_hash(nb_text),
        "data_hash": data_hash(options.aineisto),
        "code_hash": code_hash(),
        "network_hash": net_hash,
        "uso_version": __version__,
    }
    warnings: list[str] = []
    if options.aineisto == "local":  # a skipped or scrubbed store file: said in the summary
        from uso_lib.store import Store, read_local

        warnings += [w for p in Store("local").local_files() for w in read_local(p)[1]]
    with locked(out):
        sweep(out)
        manifest, problem = read_manifest(out)
        if problem:
            warnings.append(problem)
        jobs: list[Job] = []
        reasons: dict[str, str] = {}
        notes_hashes: dict[str, str] = {}
        failures: list[Outcome] = []
        fresh: list[str] = []
        for t in targets:
            params = dict(DEFAULT_PARAMETERS, kunta=t.label, aineisto=options.aineisto,
                          verkosto=verkosto, liite=appendix_stem(t.key))
            if t.problem is not None or t.kunta is None:
                err = t.problem.error if t.problem else ParamsError("not a municipality")
                failures.append(Outcome(t.key, t.kunta.code if t.kunta else "", t.label,
                                        "failed", reason="params", error=str(err)))
                continue
            note_files, notes_hashes[t.key] = _note_inputs(network, t.kunta)
            inputs = dict(shared, parameters=params, notes_hash=notes_hashes[t.key])
            entry = manifest["reports"].get(t.key)
            why = stale(entry, inputs, out)
            todo = formats.missing(entry, extra, out, template) if why is None else extra
            reuse = None
            if why is None and not options.force:
                if not todo:
                    fresh.append(t.key)
                    continue
                why = "missing: " + ", ".join(todo)
                reuse = formats.reuse(entry, out, [f for f in extra if f not in todo])
            elif options.force:
                todo = extra
            reasons[t.key] = why or "forced"
            jobs.append(Job(key=t.key, kunta=t.kunta.code, name=t.kunta.name_fi,
                            title=page_title(t.kunta.name_fi), parameters=params,
                            notebook=nb_text, inputs={**net_files, **note_files},
                            timeout=options.timeout,
                            kernel_name=options.kernel_name,
                            data_hash=shared["data_hash"] if options.scheduler else "",
                            formats=tuple(todo), pptx_template=template, reuse=reuse))
        workers = max(1, min(options.workers or os.cpu_count() or 1, len(jobs) or 1))
        run_info = {"started": now(), "scheduler": options.scheduler,
                    "workers": None if options.scheduler else workers,
                    "notebook": str(nb_path)}
        outcomes: list[Outcome] = []

        def deliver(o: Outcome) -> None:
            record(out, manifest, o, dict(shared, notes_hash=notes_hashes.get(o.key, "")),
                   jobs_by_key[o.key].parameters
                   if o.key in jobs_by_key else None, why=reasons.get(o.key))
            outcomes.append(o)
            progress.finished(o)

        jobs_by_key = {j.key: j for j in jobs}
        progress = Progress(len(jobs) + len(failures), options.progress)
        STOPPING.clear()
        previous = signal.getsignal(signal.SIGTERM)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGTERM, _on_sigterm)
        finished = False
        try:
            for o in failures:
                record(out, manifest, o, shared, None)
                outcomes.append(o)
                progress.finished(o)
            if jobs and options.scheduler:
                n = run_dask(jobs, options.scheduler, progress, deliver)
                run_info["workers"] = n
                workers = n
            elif jobs:
                with gc_frozen():
                    run_local(jobs, workers, progress, deliver)
            finished = True
        except KeyboardInterrupt:
            STOPPING.set()
            release_kernels()
            raise
        finally:
            progress.close()
            formats.release()  # the PDF printer's browser, if one was started
            # the stop flag belongs to this run: leaving it set would make every later job run
            # in this process (a Dask worker thread of the same process, a notebook calling
            # batch.run again) report "interrupted" without trying
            STOPPING.clear()
            if in_main:
                signal.signal(signal.SIGTERM, previous)
            run_info.update(finished=now(), rendered=sum(o.ok for o in outcomes),
                            failed=sum(not o.ok for o in outcomes), up_to_date=len(fresh))
            manifest["run"] = run_info
            manifest["uso_version"] = __version__
            try:
                write_manifest(out, manifest)
            except OutputError:
                if finished:
                    raise
                # the error that stopped the run (often the same full disk) is the one to say
        if options.index and (outcomes or not (out / INDEX).exists()):
            from uso_lib.report.index import write_index

            warnings += write_index(out, manifest, aineisto=options.aineisto)
    return Summary(out, outcomes, fresh, time.perf_counter() - started, workers,
                   options.scheduler, warnings)


def _on_sigterm(signum, frame) -> None:  # pragma: no cover - exercised by hand
    raise KeyboardInterrupt


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsoError(f"Report notebook not found: {path}",
                       hint="Give the notebook with --notebook PATH.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsoError(f"Cannot read the report notebook {path}: {exc}") from None



def summary_rows(summary: Summary) -> list[tuple]:
    rows = []
    for o in sorted(summary.outcomes, key=lambda o: (o.ok, o.kunta, o.key)):
        what = ", ".join([f"{o.key}.html", *sorted(o.outputs)]) if o.ok else (o.error or "")
        if o.ok and o.notes:
            what += f" ({'; '.join(o.notes)})"
        rows.append((o.kunta or "-", o.name, "ok" if o.ok else f"FAILED ({o.reason})",
                     f"{o.seconds:.1f}", what))
    return rows


def outcome_dict(o: Outcome) -> dict:
    d = asdict(o)
    d.pop("html")
    d["files"] = sorted(o.files)
    d["outputs"] = sorted(d.pop("outputs"))
    d.pop("output_meta")
    return d
