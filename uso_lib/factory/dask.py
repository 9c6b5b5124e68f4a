"""The same jobs on a Dask cluster (``uso report --scheduler``); the results come back to this
process to be written."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable

from uso_lib.errors import UsoError
from uso_lib.extras import require
from uso_lib.factory.jobs import Job, Outcome, release_kernels, run_job
from uso_lib.factory.local import Progress


def run_dask(jobs: list[Job], scheduler: str, progress: Progress,
              deliver: Callable[[Outcome], None]) -> int:
    """The same jobs on a Dask cluster; results come back here to be written."""
    distributed = require("dask.distributed", "dask")  # an extra: says so if missing
    Client, as_completed = distributed.Client, distributed.as_completed
    try:
        client = Client(scheduler, timeout=30, set_as_default=False)
    except OSError as exc:
        raise UsoError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}",
                       hint="Start it with `dask scheduler` and workers with "
                            "`dask worker tcp://HOST:8786`, or leave out --scheduler.") from exc
    futures = {}
    try:
        nthreads = sum((client.nthreads() or {}).values())
        token = secrets.token_hex(5)  # this run's keys, apart from any other run's
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

