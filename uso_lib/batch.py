"""The report factory: many municipalities' reports in one dependable run.

A run renders each target municipality's report with the notebook (see :mod:`uso_lib.render`)
and keeps ``<out>/manifest.json`` and ``<out>/index.html`` up to date:

- **Warm and parallel.** Each worker thread owns one :class:`~uso_lib.kernels.WarmKernel` that
  imported the notebook's modules once and runs report after report with a clean namespace;
  the export runs in this process, where nbconvert is imported once. The hashes of the inputs
  are computed once per run. ``--scheduler`` sends the same jobs to a Dask cluster instead.
- **Jobs are self-contained.** A :class:`Job` carries the notebook text, the parameters and the
  network file's text, and :func:`run_job` returns the finished HTML and appendix files as
  bytes: the same function runs in a local thread or on a Dask worker on another machine, and
  only this process writes into ``<out>``.
- **One failure stops nothing.** A cell that raises, a report over its time-out, a bad entry
  in the network file: the municipality is recorded as failed (which cell, which exception) and
  the others go on. A kernel that dies mid-report is replaced and the report retried once.
- **Complete or absent.** Every file is written atomically, the manifest after each report, so
  a run killed at any point leaves whole reports and a manifest that describes them; the next
  run renders what is missing.
- **Incremental.** A report whose inputs (parameters, notebook and templates, data, code,
  network file, uso version) and output file are unchanged is skipped unless ``force``.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import hashlib
import json
import os
import queue
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from uso_lib import __version__, config, regions
from uso_lib import params as params_mod
from uso_lib.errors import OutputError, ParamsError, UsoError
from uso_lib.kernels import KernelStartError, WarmKernel, notebook_imports
from uso_lib.regions import Municipality
from uso_lib.render import (
    TEMPLATES,
    KernelDied,
    RenderError,
    RenderTimeout,
    atomic_write,
    page_title,
    read_notebook,
    render_to_memory,
    warm_up,
)

MANIFEST = "manifest.json"
INDEX = "index.html"
LOCK = ".uso-report.lock"
MANIFEST_FORMAT = 1
PACKAGE_DIR = config.PACKAGE_DIR
DEFAULT_NOTEBOOK = PACKAGE_DIR.parent / "notebooks" / "tilanneanalyysi.ipynb"
DEFAULT_OUT = Path("reports")
APPENDIX_SUFFIX = "-liite"  # 178-juva.html has its data in 178-juva-liite.csv / .xlsx
DEFAULT_PARAMETERS = {"kunta": "", "verrokit": [], "vuosi": None, "aineisto": "snapshot",
                      "verkosto": "", "liite": ""}


def appendix_stem(key: str) -> str:
    return key + APPENDIX_SUFFIX


# -- jobs and their outcomes --------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    """Everything one report needs, picklable for a remote worker."""

    key: str  # the report's file stem, "178-juva"
    kunta: str
    name: str
    title: str
    parameters: dict
    notebook: str  # the notebook's JSON text
    inputs: dict = field(default_factory=dict)  # file name -> text, placed beside the kernel
    timeout: float | None = None
    kernel_name: str | None = None
    data_hash: str = ""  # what the worker's data must hash to ("" = not checked)


@dataclass
class Outcome:
    key: str
    kunta: str
    name: str
    status: str  # "ok" | "failed"
    reason: str = ""  # "" | error | timeout | kernel-died | params | data | kernel-start | worker
    error: str | None = None
    cell: int | None = None
    attempts: int = 0
    seconds: float = 0.0
    html: bytes | None = None
    files: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# One warm kernel per thread. The registry lets a run (or a Dask client) stop them all.
_tls = threading.local()
_KERNELS: dict[int, WarmKernel] = {}
_KERNELS_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _kernel_key(job: Job, imports: list[str]) -> tuple:
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("USO_")))
    return (job.kernel_name, tuple(imports), env)


def _kernel_for(job: Job, imports: list[str]) -> WarmKernel:
    key = _kernel_key(job, imports)
    kernel: WarmKernel | None = getattr(_tls, "kernel", None)
    if kernel is not None and (getattr(_tls, "key", None) != key or not kernel.alive()
                               or kernel.uses >= kernel.max_uses):
        _drop_kernel()
        kernel = None
    if kernel is None:
        kernel = WarmKernel(job.kernel_name, imports=imports).start()
        _tls.kernel, _tls.key = kernel, key
        with _KERNELS_LOCK:
            _KERNELS[id(kernel)] = kernel
    return kernel


def _drop_kernel() -> None:
    kernel = getattr(_tls, "kernel", None)
    _tls.kernel = None
    if kernel is not None:
        with _KERNELS_LOCK:
            _KERNELS.pop(id(kernel), None)
        kernel.shutdown()


def release_kernels() -> int:
    """Stop every warm kernel of this process (from any thread): the end of a run, an
    interrupt, or ``client.run(release_kernels)`` on Dask workers. Returns how many."""
    with _KERNELS_LOCK:
        kernels = list(_KERNELS.values())
        _KERNELS.clear()
    for k in kernels:
        k.kill_from_any_thread()
    return len(kernels)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_NOTEBOOKS: dict[str, object] = {}


def _notebook(job: Job):
    """The parsed notebook, once per process and notebook (each report works on a copy)."""
    key = text_hash(job.notebook)
    if key not in _NOTEBOOKS:
        _NOTEBOOKS.clear()
        _NOTEBOOKS[key] = read_notebook(f"{job.key}.ipynb", text=job.notebook)
    return _NOTEBOOKS[key]


def run_job(job: Job) -> Outcome:
    """Render one report and return it in memory; never raises. Runs in a local worker thread
    or on a Dask worker. A dead kernel is replaced and the report retried once.

    The kernel client runs on an event loop that jupyter_core keeps in a context variable; a
    Dask worker may hand its threads copies of one context, so each thread gets a context of
    its own (kept with its warm kernel), or two threads would share one loop."""
    ctx = getattr(_tls, "context", None)
    if ctx is None:
        ctx = _tls.context = contextvars.Context()
    return ctx.run(_run_job, job)


def _run_job(job: Job) -> Outcome:
    out = Outcome(job.key, job.kunta, job.name, "failed", worker=_worker_id())
    start = time.perf_counter()
    try:
        nb = _notebook(job)
        if job.data_hash:
            have = data_hash(job.parameters.get("aineisto", "snapshot"))
            if have != job.data_hash:
                out.reason = "data"
                out.error = (f"the worker {out.worker} has other data (hash {have[:12]}, "
                             f"expected {job.data_hash[:12]}); install the same uso version "
                             "and snapshot on every worker")
                return out
        imports = notebook_imports(nb)
        while out.attempts < 2 and not _STOPPING.is_set():
            out.attempts += 1
            try:
                kernel = _kernel_for(job, imports)
                done = render_to_memory(nb, job.parameters, kernel=kernel, title=job.title,
                                        appendix_stem=job.parameters["liite"],
                                        timeout=job.timeout,
                                        inputs=job.inputs)
            except KernelDied as exc:
                _drop_kernel()
                out.reason, out.error, out.cell = exc.reason, str(exc), exc.cell
                out.notes.append(f"attempt {out.attempts}: {exc}")
                continue  # one retry in a fresh kernel
            except KernelStartError as exc:
                _drop_kernel()
                out.reason, out.error = "kernel-start", str(exc)
                out.notes.append(f"attempt {out.attempts}: {exc}")
                continue
            except RenderError as exc:  # includes RenderTimeout
                if isinstance(exc, RenderTimeout):
                    _drop_kernel()
                out.reason, out.error, out.cell = exc.reason, str(exc), exc.cell
                return out
            out.status, out.reason, out.error, out.cell = "ok", "", None, None
            out.html, out.files = done.html, done.files
            if out.attempts > 1:
                out.notes.append(f"rendered on attempt {out.attempts}")
            return out
        if out.reason == "kernel-died" and out.attempts >= 2:
            out.error = f"the kernel died twice; last: {out.error}"
        elif _STOPPING.is_set() and out.status != "ok":
            out.reason, out.error = "interrupted", "the run was interrupted"
        return out
    except Exception as exc:  # a bug, or a broken job: recorded, never raised
        _drop_kernel()
        out.reason, out.error = "error", f"{type(exc).__name__}: {exc}"
        return out
    finally:
        out.seconds = round(time.perf_counter() - start, 3)


# -- hashes of the inputs -----------------------------------------------------------------
_HASH_CACHE: dict[tuple, str] = {}


def _hash_files(files: Iterable[Path], root: Path | None = None) -> str:
    files = sorted(set(files))
    stat_key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stat_key in _HASH_CACHE:
        return _HASH_CACHE[stat_key]
    h = hashlib.sha256()
    for p in files:
        name = str(p.relative_to(root)) if root and p.is_relative_to(root) else p.name
        h.update(name.encode() + b"\0")
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    digest = "sha256:" + h.hexdigest()
    _HASH_CACHE[stat_key] = digest
    return digest


def _tree(root: Path, keep: Callable[[Path], bool]) -> list[Path]:
    if not root.is_dir():
        return []
    return [p for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and keep(p)]


def data_hash(aineisto: str = "snapshot") -> str:
    """Hash of the data a report reads: the package data (snapshot, map polygons, catalogue,
    municipality key) and, for ``aineisto="local"``, the local store."""
    files = _tree(config.PACKAGE_DATA, lambda p: True)
    snap = Path(os.environ.get("USO_SNAPSHOT_DIR") or config.SNAPSHOT_DIR)
    if snap.resolve() != config.SNAPSHOT_DIR.resolve():
        files += _tree(snap, lambda p: True)
    if aineisto == "local":
        files += _tree(config.data_dir() / "store", lambda p: p.suffix == ".parquet")
    return _hash_files(files, config.PACKAGE_DIR.parent)


# Code a report never runs: the command line and the snapshot builders (their output is data).
_NOT_REPORT_CODE = ("cli", "snapshot")


def code_hash() -> str:
    """Hash of uso_lib's Python modules that a report can run (not the command line or the
    snapshot builders, whose output the data hash covers)."""
    def keep(p: Path) -> bool:
        rel = p.relative_to(PACKAGE_DIR).parts
        return p.suffix == ".py" and rel[0] not in _NOT_REPORT_CODE + ("data",)

    return _hash_files(_tree(PACKAGE_DIR, keep), PACKAGE_DIR.parent)


def template_hash(notebook_text: str) -> str:
    """Hash of the report's template: the notebook and uso's HTML page template and CSS."""
    h = hashlib.sha256(notebook_text.encode("utf-8"))
    h.update(_hash_files(_tree(TEMPLATES, lambda p: True), TEMPLATES).encode())
    return "sha256:" + h.hexdigest()


def text_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def bytes_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """Hash of one file's content (what the manifest records for each output file)."""
    st = path.stat()
    key = ("file", str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = bytes_hash(path.read_bytes())
    return _HASH_CACHE[key]


# -- the network file, one bad entry at a time --------------------------------------------
@dataclass
class MemberProblem:
    """A member entry of the network file that does not validate."""

    index: int  # position in the file's members list (0-based)
    query: str  # what the entry's kunta says, as written
    kunta: Municipality | None  # resolved, when the kunta itself is fine
    error: ParamsError


@dataclass
class NetworkPlan:
    network: params_mod.Network | None
    path: Path | None
    text: str  # the file's text with invalid member entries commented out
    problems: list[MemberProblem] = field(default_factory=list)


_MEMBER_FIELD = re.compile(r"^members\[(\d+)\]")


def _member_spans(text: str) -> list[tuple[int, int]]:
    """0-based (first, last) line of every item of the top-level ``members`` list."""
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return []
    seq = next((v for k, v in root.value if getattr(k, "value", None) == "members"), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        return []
    lines = text.splitlines()
    spans = []
    for i, item in enumerate(seq.value):
        if i + 1 < len(seq.value):  # up to the line before the next item
            end = seq.value[i + 1].start_mark.line - 1
        else:  # the end mark sits where the next token starts (maybe on its own line)
            mark = item.end_mark
            before = lines[mark.line][:mark.column] if mark.line < len(lines) else ""
            end = mark.line - 1 if not before.strip() else mark.line
        spans.append((item.start_mark.line, max(end, item.start_mark.line)))
    return spans


def plan_network(path: str | os.PathLike | None) -> NetworkPlan:
    """Validate the network file with :func:`uso_lib.params.parse_network`, setting aside the
    member entries that fail (each becomes a failed report) instead of stopping the run. An
    error outside the members (YAML syntax, name, period) still stops it."""
    if path is None:
        return NetworkPlan(None, None, "")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError("The network file does not exist. Give it with --params FILE.",
                          file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"The file cannot be read as UTF-8 text: {exc}",
                          file=str(path)) from None
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:  # syntax, or a tag that would build objects: said by the parser
        raw = None
        params_mod.parse_network(text, source=str(path), path=path)  # raises a ParamsError
    raw_members = raw.get("members") if isinstance(raw, dict) else None
    problems: list[MemberProblem] = []
    remaining = list(range(len(raw_members))) if isinstance(raw_members, list) else []
    current = text
    while True:
        try:
            net = params_mod.parse_network(current, source=str(path), path=path)
            return NetworkPlan(net, path, current, problems)
        except ParamsError as exc:
            m = _MEMBER_FIELD.match(exc.field or "")
            spans = _member_spans(current) if m else []
            if not m or int(m.group(1)) >= len(spans) or len(spans) != len(remaining):
                raise
            j = int(m.group(1))
            orig = remaining.pop(j)
            first, last = spans[j]
            entry = raw_members[orig] if isinstance(raw_members[orig], dict) else {}
            query = str(entry.get("kunta", "")) if entry else ""
            try:
                kunta = regions.lookup(query) if query else None
            except UsoError:
                kunta = None
            if orig != j:  # name the entry as it is numbered in the file
                exc = ParamsError(str(exc).replace(f"members[{j}]", f"members[{orig}]", 1))
            problems.append(MemberProblem(orig, query, kunta, exc))
            lines = current.splitlines(keepends=True)
            for i in range(first, min(last + 1, len(lines))):
                lines[i] = "# (uso: skipped, invalid) " + lines[i].lstrip("#")
            current = "".join(lines)
            if not remaining:
                raise exc from None


# -- planning -----------------------------------------------------------------------------
@dataclass
class Target:
    kunta: Municipality | None
    key: str
    label: str  # for tables: "Juva" or the raw text of a broken entry
    problem: MemberProblem | None = None


def plan_targets(names: Sequence[str] = (), *, members: bool = False, everyone: bool = False,
                 network: NetworkPlan | None = None) -> list[Target]:
    """The municipalities of a run, in order, without duplicates. Names are looked up (a typo
    stops the run with suggestions before anything is rendered); member entries that did not
    validate become targets that fail with the file's error."""
    reg = regions.registry()
    chosen: list[Municipality] = []
    if everyone:
        chosen = sorted(reg, key=lambda m: m.code)
    if members:
        if network is None or network.network is None:
            raise ParamsError("--members needs the network file (params/network.yaml); "
                              "give it with --params FILE.")
        chosen += [mb.kunta for mb in network.network.members]
    chosen += [regions.lookup(n) for n in names]
    bad = {p.kunta.code: p for p in (network.problems if network else []) if p.kunta}
    out: list[Target] = []
    seen: set[str] = set()
    for m in chosen:
        if m.code in seen:
            continue
        seen.add(m.code)
        out.append(Target(m, m.file_stem, m.name_fi, bad.get(m.code)))
    if network is not None and (members or everyone):
        for p in network.problems:
            if p.kunta is None or p.kunta.code not in seen:
                key = p.kunta.file_stem if p.kunta else f"members-{p.index}"
                label = p.kunta.name_fi if p.kunta else (p.query or f"members[{p.index}]")
                if p.kunta:
                    seen.add(p.kunta.code)
                out.append(Target(p.kunta, key, label, p))
    return out


# -- the manifest -------------------------------------------------------------------------
def read_manifest(out: Path) -> tuple[dict, str | None]:
    """The manifest of ``out`` (empty if none); a damaged one is reported, not fatal."""
    path = out / MANIFEST
    if not path.exists():
        return {"format": MANIFEST_FORMAT, "reports": {}}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("reports"), dict):
            raise ValueError("no 'reports' mapping")
        return data, None
    except (OSError, ValueError) as exc:
        return ({"format": MANIFEST_FORMAT, "reports": {}},
                f"{path} could not be read ({exc}); every report is rendered again.")


def write_manifest(out: Path, manifest: dict) -> None:
    manifest["format"] = MANIFEST_FORMAT
    manifest["reports"] = dict(sorted(manifest["reports"].items()))
    atomic_write(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stale(entry: dict | None, inputs: dict, out: Path) -> str | None:
    """Why a report must be rendered again (None: it is up to date)."""
    if not entry:
        return "new"
    if entry.get("status") != "ok":
        return "failed last time"
    changed = [k.removesuffix("_hash") for k, v in inputs.items() if entry.get(k) != v]
    if changed:
        return "changed: " + ", ".join(changed)
    files = [entry.get("file")] + list(entry.get("appendix") or [])
    hashes = entry.get("file_hashes") or {}
    for name in files:
        p = out / str(name)
        if not name or not p.is_file():
            return f"missing: {name}"
        if hashes.get(name) != file_hash(p):
            return f"modified: {name}"
    return None


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


@contextlib.contextmanager
def _locked(out: Path):
    """One run at a time per output folder (the manifest is read, then rewritten)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; runs are expected not to overlap
        yield
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        fh = open(out / LOCK, "a+")
    except OSError as exc:
        raise OutputError(f"Cannot write into {out}: {exc.strerror or exc}",
                          hint="Give a writable folder with --out.") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsoError(f"Another `uso report` run is writing into {out}.", hint="Wait for "
                           "it to finish, or give another folder with --out.") from None
        yield
    finally:
        fh.close()


def _sweep(out: Path) -> None:
    """Remove the temporary files of a run that was killed while writing."""
    for p in out.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            p.unlink()


def _network_inputs(plan: NetworkPlan | None) -> tuple[dict, str, str]:
    """The notebook's network file (placed beside the kernel under its own name), the
    ``verkosto`` parameter and the file's hash."""
    if plan is None or plan.path is None or plan.network is None:
        return {}, "", ""
    return {plan.path.name: plan.text}, plan.path.name, text_hash(plan.text)


class _Progress:
    """tqdm on a terminal (current municipality, ETA); a plain line per report otherwise."""

    def __init__(self, total: int, enabled: bool | None) -> None:
        from tqdm.auto import tqdm

        self.total, self.done = total, 0
        tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, unit="raportti", desc="Raportit", file=sys.stderr,
                        dynamic_ncols=True, disable=not (tty if enabled is None else enabled))
        self.lines = self.bar.disable and enabled is None
        self.lock = threading.Lock()

    def started(self, job: Job) -> None:
        with self.lock:
            self.bar.set_postfix_str(job.name, refresh=True)

    def finished(self, o: Outcome) -> None:
        with self.lock:
            self.done += 1
            self.bar.set_postfix_str(o.name, refresh=False)
            self.bar.update(1)
            if self.lines:
                what = "ok" if o.ok else f"FAILED ({o.reason})"
                print(f"[{self.done}/{self.total}] {o.name} ({o.kunta or '-'}): {what} "
                      f"{o.seconds:.1f} s", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def _gc_frozen():
    """Keep the cycle collector off this process's long-lived objects while reports render.

    Each report's page is exported here (nbconvert's templates, then an lxml pass) and the
    kernel's messages are decoded here; the collections that garbage triggers walked every
    object of nbconvert, pandas and the rest (~230 000) again, ~0.07 s per report (measured
    when the page was parsed with BeautifulSoup). The objects alive when the run starts
    are frozen (:func:`gc.freeze`) and thawed when it ends, unless the caller keeps frozen
    objects of its own: then the permanent generation is left alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _warm_up_export(workers: int) -> None:
    """Ready one exporter per worker while the workers start their kernels (seconds in which
    this thread only waits), so that no worker exports its first report cold. A problem here
    is left to the reports' own exports, which record it."""
    with contextlib.suppress(Exception):
        warm_up(workers)


def _run_local(jobs: list[Job], workers: int, progress: _Progress,
               deliver: Callable[[Outcome], None]) -> None:
    """Worker threads, each with its own warm kernel, pulling jobs from one queue."""
    todo: queue.Queue = queue.Queue()
    for j in jobs:
        todo.put(j)
    results: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            while not _STOPPING.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                progress.started(job)
                results.put(run_job(job))
        finally:
            _drop_kernel()

    threads = [threading.Thread(target=work, name=f"uso-report-{i}", daemon=True)
               for i in range(workers)]
    for t in threads:
        t.start()
    try:
        _warm_up_export(workers)
        for _ in jobs:
            while True:
                try:
                    o = results.get(timeout=0.5)
                    break
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and results.empty():
                        return
            deliver(o)
    except BaseException:
        _STOPPING.set()  # no retries, no new reports; the running ones are stopped
        release_kernels()
        raise
    finally:
        for t in threads:
            t.join(timeout=30)


def _run_dask(jobs: list[Job], scheduler: str, progress: _Progress,
              deliver: Callable[[Outcome], None]) -> int:
    """The same jobs on a Dask cluster; results come back here to be written."""
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
        raise UsoError("--scheduler needs dask.distributed (pip install 'dask[distributed]')."
                       ) from exc
    try:
        client = Client(scheduler, timeout=30, set_as_default=False)
    except OSError as exc:
        raise UsoError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}",
                       hint="Start it with `dask scheduler` and workers with "
                            "`dask worker tcp://HOST:8786`, or leave out --scheduler.") from exc
    futures = {}
    try:
        nthreads = sum((client.nthreads() or {}).values())
        token = hashlib.sha256(_now().encode() + os.urandom(8)).hexdigest()[:10]
        for job in jobs:
            fut = client.submit(run_job, job, key=f"uso-report-{job.key}-{token}", pure=False)
            futures[fut] = job
        for fut in as_completed(list(futures), loop=client.loop):
            job = futures[fut]
            try:
                o = fut.result()
            except Exception as exc:  # the worker process was lost (several times)
                o = Outcome(job.key, job.kunta, job.name, "failed", reason="worker",
                            error=f"the Dask worker was lost: {type(exc).__name__}: {exc}")
            deliver(o)
        return nthreads
    finally:
        with contextlib.suppress(Exception):
            client.cancel(list(futures))
        with contextlib.suppress(Exception):
            client.run(release_kernels)
        client.close()


def run(targets: Sequence[Target], options: Options, network: NetworkPlan | None = None
        ) -> Summary:
    """Render ``targets`` into ``options.out``; see the module documentation."""
    started = time.perf_counter()
    out = Path(options.out)
    nb_path = Path(options.notebook)
    nb_text = _read_text(nb_path)
    read_notebook(nb_path, text=nb_text)  # a broken notebook stops the run here, once
    net_files, verkosto, net_hash = _network_inputs(network)
    shared = {
        "template_hash": template_hash(nb_text),
        "data_hash": data_hash(options.aineisto),
        "code_hash": code_hash(),
        "network_hash": net_hash,
        "uso_version": __version__,
    }
    warnings: list[str] = []
    with _locked(out):
        _sweep(out)
        manifest, problem = read_manifest(out)
        if problem:
            warnings.append(problem)
        jobs: list[Job] = []
        reasons: dict[str, str] = {}
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
            inputs = dict(shared, parameters=params)
            why = stale(manifest["reports"].get(t.key), inputs, out)
            if why is None and not options.force:
                fresh.append(t.key)
                continue
            reasons[t.key] = why or "forced"
            jobs.append(Job(key=t.key, kunta=t.kunta.code, name=t.kunta.name_fi,
                            title=page_title(t.kunta.name_fi), parameters=params,
                            notebook=nb_text, inputs=net_files, timeout=options.timeout,
                            kernel_name=options.kernel_name,
                            data_hash=shared["data_hash"] if options.scheduler else ""))
        workers = max(1, min(options.workers or os.cpu_count() or 1, len(jobs) or 1))
        run_info = {"started": _now(), "scheduler": options.scheduler,
                    "workers": None if options.scheduler else workers,
                    "notebook": str(nb_path)}
        outcomes: list[Outcome] = []

        def deliver(o: Outcome) -> None:
            record(out, manifest, o, shared, jobs_by_key[o.key].parameters
                   if o.key in jobs_by_key else None, why=reasons.get(o.key))
            write_manifest(out, manifest)
            outcomes.append(o)
            progress.finished(o)

        jobs_by_key = {j.key: j for j in jobs}
        progress = _Progress(len(jobs) + len(failures), options.progress)
        _STOPPING.clear()
        previous = signal.getsignal(signal.SIGTERM)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            for o in failures:
                record(out, manifest, o, shared, None)
                outcomes.append(o)
                progress.finished(o)
            if failures:
                write_manifest(out, manifest)
            if jobs and options.scheduler:
                n = _run_dask(jobs, options.scheduler, progress, deliver)
                run_info["workers"] = n
                workers = n
            elif jobs:
                with _gc_frozen():
                    _run_local(jobs, workers, progress, deliver)
        except KeyboardInterrupt:
            _STOPPING.set()
            release_kernels()
            raise
        finally:
            progress.close()
            # the stop flag belongs to this run: leaving it set would make every later job run
            # in this process (a Dask worker thread of the same process, a notebook calling
            # batch.run again) report "interrupted" without trying
            _STOPPING.clear()
            if in_main:
                signal.signal(signal.SIGTERM, previous)
            run_info.update(finished=_now(), rendered=sum(o.ok for o in outcomes),
                            failed=sum(not o.ok for o in outcomes), up_to_date=len(fresh))
            manifest["run"] = run_info
            manifest["uso_version"] = __version__
            write_manifest(out, manifest)
        if options.index and (outcomes or not (out / INDEX).exists()):
            from uso_lib.report_index import write_index

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


def record(out: Path, manifest: dict, o: Outcome, shared: dict, params: dict | None, *,
           why: str | None = None) -> None:
    """Write a finished report's files (atomically) and its manifest entry."""
    entry = {
        "kunta": o.kunta, "name": o.name, "why": why, "status": o.status,
        "reason": o.reason or None,
        "error": o.error, "cell": o.cell, "attempts": o.attempts, "notes": o.notes,
        "duration": round(o.seconds, 2), "worker": o.worker or None, "rendered": _now(),
        "parameters": params, **shared,
    }
    old = manifest["reports"].get(o.key) or {}
    if o.ok and o.html is not None:
        name = f"{o.key}.html"
        hashes = {}
        for fname, data in sorted(o.files.items()):
            atomic_write(out / fname, data)
            hashes[fname] = bytes_hash(data)
        atomic_write(out / name, o.html)
        hashes[name] = bytes_hash(o.html)
        entry.update(file=name, appendix=sorted(o.files), bytes=len(o.html),
                     file_hashes=hashes)
    else:
        # an older report of this municipality stays on disk, but it is not this run's
        entry.update(file=None, appendix=[], bytes=None, file_hashes={},
                     previous=(old.get("file") if old.get("status") == "ok"
                               else old.get("previous")))
    manifest["reports"][o.key] = entry


def summary_rows(summary: Summary) -> list[tuple]:
    rows = []
    for o in sorted(summary.outcomes, key=lambda o: (o.ok, o.kunta, o.key)):
        what = f"{o.key}.html" if o.ok else (o.error or "")
        if o.ok and o.notes:
            what += f" ({'; '.join(o.notes)})"
        rows.append((o.kunta or "-", o.name, "ok" if o.ok else f"FAILED ({o.reason})",
                     f"{o.seconds:.1f}", what))
    return rows


def outcome_dict(o: Outcome) -> dict:
    d = asdict(o)
    d.pop("html")
    d["files"] = sorted(o.files)
    return d
