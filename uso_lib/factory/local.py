"""Running jobs on this machine: worker threads with a warm kernel each, one run per output
folder at a time (a lock), the temporary files of a killed run swept away, and progress on the
terminal."""

from __future__ import annotations

import contextlib
import gc
import queue
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from uso_lib.errors import OutputError, UsoError
from uso_lib.factory.jobs import STOPPING, Job, Outcome, drop_kernel, release_kernels, run_job
from uso_lib.factory.render import warm_up

LOCK = ".uso-report.lock"


@contextlib.contextmanager
def locked(out: Path):
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


def sweep(out: Path) -> None:
    """Remove the temporary files of a run that was killed while writing."""
    for p in out.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            p.unlink()



class Progress:
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
def gc_frozen():
    """Keep the cycle collector off this process's long-lived objects while reports render.

    Each report's page is exported here (nbconvert's templates, then an lxml pass) and the
    kernel's messages are decoded here; the collections that garbage triggers walked every
    object of nbconvert, pandas and the rest again, for every report (benchmarks/README.md).
    The objects alive when the run starts
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


def warm_up_export(workers: int) -> None:
    """Ready one exporter per worker while the workers start their kernels (seconds in which
    this thread only waits), so that no worker exports its first report cold. A problem here
    is left to the reports' own exports, which record it."""
    with contextlib.suppress(Exception):
        warm_up(workers)


def run_local(jobs: list[Job], workers: int, progress: Progress,
               deliver: Callable[[Outcome], None]) -> None:
    """Worker threads, each with its own warm kernel, pulling jobs from one queue."""
    todo: queue.Queue = queue.Queue()
    for j in jobs:
        todo.put(j)
    results: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            while not STOPPING.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                progress.started(job)
                results.put(run_job(job))
        finally:
            drop_kernel()

    threads = [threading.Thread(target=work, name=f"uso-report-{i}", daemon=True)
               for i in range(workers)]
    for t in threads:
        t.start()
    try:
        warm_up_export(workers)
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
        STOPPING.set()  # no retries, no new reports; the running ones are stopped
        release_kernels()
        raise
    finally:
        for t in threads:
            t.join(timeout=30)

