"""One report as a self-contained job: what it needs (:class:`Job`), what came of it
(:class:`Outcome`), and :func:`run_job`, which renders it in a warm kernel of the calling thread.

A job carries the notebook text, the parameters and the network file's text, and the outcome
carries the finished HTML and appendix files as bytes: the same function runs in a local thread
or on a Dask worker on another machine, and only the process that started the run writes into
its output folder. Each thread owns one :class:`~uso_lib.factory.kernels.WarmKernel`, kept in a
registry so that a run (or a Dask client) can stop them all.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import time
from dataclasses import dataclass, field

from uso_lib.factory import formats
from uso_lib.factory.kernels import KernelStartError, WarmKernel, notebook_imports
from uso_lib.factory.manifest import data_hash, text_hash
from uso_lib.factory.render import (
    KernelDied,
    RenderError,
    RenderTimeout,
    read_notebook,
    render_to_memory,
)


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
    formats: tuple[str, ...] = ()  # made from the page as well: "pdf", "pptx" (factory.formats)
    pptx_template: bytes | None = None
    reuse: dict | None = None  # the page is up to date: only make formats (formats.reuse)


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
    outputs: dict = field(default_factory=dict)  # PDF, PPTX: file name -> content
    output_meta: dict = field(default_factory=dict)  # format -> manifest meta
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# One warm kernel per thread. The registry lets a run (or a Dask client) stop them all.
_tls = threading.local()
_KERNELS: dict[int, WarmKernel] = {}
_KERNELS_LOCK = threading.Lock()
STOPPING = threading.Event()


def _kernel_key(job: Job, imports: list[str]) -> tuple:
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("USO_")))
    return (job.kernel_name, tuple(imports), env)


def _kernel_for(job: Job, imports: list[str]) -> WarmKernel:
    key = _kernel_key(job, imports)
    kernel: WarmKernel | None = getattr(_tls, "kernel", None)
    if kernel is not None and (getattr(_tls, "key", None) != key or not kernel.alive()
                               or kernel.uses >= kernel.max_uses):
        drop_kernel()
        kernel = None
    if kernel is None:
        kernel = WarmKernel(job.kernel_name, imports=imports).start()
        _tls.kernel, _tls.key = kernel, key
        with _KERNELS_LOCK:
            _KERNELS[id(kernel)] = kernel
    return kernel


def drop_kernel() -> None:
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
        if job.reuse is not None:
            return formats.convert_only(job, out)
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
        while out.attempts < 2 and not STOPPING.is_set():
            out.attempts += 1
            try:
                kernel = _kernel_for(job, imports)
                done = render_to_memory(nb, job.parameters, kernel=kernel, title=job.title,
                                        appendix_stem=job.parameters["liite"],
                                        timeout=job.timeout,
                                        inputs=job.inputs)
            except KernelDied as exc:
                drop_kernel()
                out.reason, out.error, out.cell = exc.reason, str(exc), exc.cell
                out.notes.append(f"attempt {out.attempts}: {exc}")
                continue  # one retry in a fresh kernel
            except KernelStartError as exc:
                drop_kernel()
                out.reason, out.error = "kernel-start", str(exc)
                out.notes.append(f"attempt {out.attempts}: {exc}")
                continue
            except RenderError as exc:  # includes RenderTimeout
                if isinstance(exc, RenderTimeout):
                    drop_kernel()
                out.reason, out.error, out.cell = exc.reason, str(exc), exc.cell
                return out
            out.status, out.reason, out.error, out.cell = "ok", "", None, None
            out.html, out.files = done.html, done.files
            formats.finish(job, out)
            if out.attempts > 1:
                out.notes.append(f"rendered on attempt {out.attempts}")
            return out
        if out.reason == "kernel-died" and out.attempts >= 2:
            out.error = f"the kernel died twice; last: {out.error}"
        elif STOPPING.is_set() and out.status != "ok":
            out.reason, out.error = "interrupted", "the run was interrupted"
        return out
    except Exception as exc:  # a bug, or a broken job: recorded, never raised
        drop_kernel()
        out.reason, out.error = "error", f"{type(exc).__name__}: {exc}"
        return out
    finally:
        out.seconds = round(time.perf_counter() - start, 3)

