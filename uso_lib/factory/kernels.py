"""Warm Jupyter kernels for the report factory.

Starting a kernel and importing pandas, matplotlib and uso_lib into it costs seconds; running a
report notebook in an already warm kernel costs only the notebook's own work. A
:class:`WarmKernel` is started once, pre-imports the modules the notebook imports, and between
two reports restores a clean state: the user namespace is wiped (``%reset -f``) and the
process-wide settings a notebook can change (working directory, environment variables,
``sys.path``, matplotlib rcParams and backend, pandas and numpy options, warning filters, the
root logger, open figures) are put back as they were right after the warm-up. Imported modules
and uso_lib's read-only caches (registry, catalogue, the loaded store) are shared on purpose:
they are the same for every report of a run. ``tests/test_batch.py`` proves that nothing a
report does is visible to the next one, its garbage included (collected during the reset).

What outlives the reset is frozen (:func:`gc.freeze`), so that the cycle collector, which
``%reset`` runs twice, walks only the objects of the last report instead of every module and
cache of the kernel, which makes a reset a small fraction of what it cost
(benchmarks/README.md).

A kernel is driven from one thread only (its client lives on that thread's event loop), which
is how the factory uses it: one warm kernel per worker thread.
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
import signal
import tempfile
from pathlib import Path
from typing import IO

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError
from nbclient.util import ensure_async, run_sync

PREFERRED_KERNELS = ("uso", "python3")

# Runs once in a fresh kernel: keeps what "clean" means in a module that survives %reset.
_BASELINE_SRC = r'''
import copy as _copy, gc as _gc, logging as _logging, os as _os, sys as _sys
import warnings as _warnings

# What the cycle collector may skip: the imported modules and the shared caches outlive every
# report, yet each full collection (two per %reset, more while a report runs) walked all of
# them again, hundreds of thousands of objects each time. freeze() parks what is alive at the end of
# a reset; every FULL_GC_EVERY resets the park is emptied once, so that a cached object which
# later turns into cyclic garbage is still freed.
FULL_GC_EVERY = 25
resets = 0

def thaw_now_and_then():
    global resets
    resets += 1
    if resets % FULL_GC_EVERY == 0:
        _gc.unfreeze()

def capture():
    global environ, cwd, path, filters, root_level, root_handlers, rc, backend, np_print
    global np_err, pd_options, inline_formats
    environ, cwd, path = dict(_os.environ), _os.getcwd(), list(_sys.path)
    filters = list(_warnings.filters)
    root = _logging.getLogger()
    root_level, root_handlers = root.level, list(root.handlers)
    rc = backend = np_print = np_err = pd_options = inline_formats = None
    if "matplotlib" in _sys.modules:
        import matplotlib
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            rc = _copy.deepcopy(dict(matplotlib.rcParams))
        backend = matplotlib.get_backend()
    if "numpy" in _sys.modules:
        import numpy
        np_print, np_err = numpy.get_printoptions(), numpy.geterr()
    if "pandas" in _sys.modules:
        import pandas
        with _warnings.catch_warnings():  # reading a deprecated option warns
            _warnings.simplefilter("ignore")
            pd_options = pandas_options(pandas.options)
    if "matplotlib_inline.backend_inline" in _sys.modules:
        from matplotlib_inline.config import InlineBackend
        inline_formats = set(InlineBackend.instance().figure_formats)

def pandas_options(node, prefix=""):
    """Every pandas option and its value, read through the public ``pandas.options`` tree
    (``pandas.options.display.max_rows``): a notebook that sets one must not leave it set for
    the next report."""
    out = {}
    for name in dir(node):
        try:
            value = getattr(node, name)
        except Exception:
            continue
        if isinstance(value, type(node)):
            out.update(pandas_options(value, f"{prefix}{name}."))
        else:
            out[prefix + name] = _copy.deepcopy(value)
    return out

def restore(workdir):
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        _os.chdir(cwd)
        _os.environ.clear()
        _os.environ.update(environ)
        _sys.path[:] = path
        root = _logging.getLogger()
        root.setLevel(root_level)
        root.handlers[:] = root_handlers
        if "matplotlib" in _sys.modules:
            import matplotlib
            import matplotlib.pyplot as plt
            plt.close("all")
            if backend is not None and matplotlib.get_backend() != backend:
                plt.switch_backend(backend)
            if rc is not None:
                matplotlib.rcParams.clear()
                dict.update(matplotlib.rcParams, _copy.deepcopy(rc))
        if np_print is not None:
            import numpy
            numpy.set_printoptions(**np_print)
            numpy.seterr(**np_err)
        if pd_options is not None:
            import pandas
            for key, value in pd_options.items():
                try:
                    if pandas.get_option(key) != value:
                        pandas.set_option(key, value)
                except Exception:
                    pass
        if inline_formats is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats
            set_matplotlib_formats(*inline_formats)
    _warnings.resetwarnings()  # tells the warnings machinery its filters changed
    _warnings.filters[:] = filters
    _os.chdir(workdir)
    _gc.freeze()
'''

_WARMUP = """\
import sys as _s, types as _t
{imports}
_b = _t.ModuleType("_uso_baseline")
exec(compile({src!r}, "<uso-baseline>", "exec"), _b.__dict__)
_b.capture()
_s.modules["_uso_baseline"] = _b
import gc as _g
_g.collect()
_g.freeze()
del _s, _t, _b, _g
"""

# The previous report's folder is gone by now: leave it before %reset looks at the cwd.
_RESET = """\
import os as _o, sys as _s
_o.chdir({workdir!r})
_s.modules["_uso_baseline"].thaw_now_and_then()
del _o, _s
%reset -f
import sys as _s
_s.modules["_uso_baseline"].restore({workdir!r})
del _s
"""


class KernelStartError(RuntimeError):
    """The kernel could not be started or warmed up."""


def kernel_name(preferred: str | None = None) -> str:
    """The kernel to run reports in: ``preferred`` if given, else uso's own kernel (installed
    by ``make setup``), else the default ``python3``."""
    specs = KernelSpecManager().find_kernel_specs()
    if preferred:
        if preferred not in specs:
            raise KernelStartError(f"No Jupyter kernel named {preferred!r} "
                                   f"(installed: {', '.join(sorted(specs))}).")
        return preferred
    for name in PREFERRED_KERNELS:
        if name in specs:
            return name
    raise KernelStartError("No Python Jupyter kernel is installed; run `make setup` "
                           "(it installs the 'uso' kernel).")


def notebook_imports(nb: nbformat.NotebookNode) -> list[str]:
    """Top-level modules a notebook imports, so the warm-up can import them ahead of time.
    ``from pkg import name`` gives ``pkg`` and ``pkg.name``: the name is often the module
    that does the work (``from uso_lib import report`` imports pandas and matplotlib), and
    the warm-up skips names that are not modules. Lines with IPython magics are skipped; a
    cell that does not parse is ignored."""
    mods: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        src = "\n".join(ln for ln in cell.source.splitlines()
                        if not ln.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                mods += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.append(node.module)
                mods += [f"{node.module}.{a.name}" for a in node.names if a.name != "*"]
    return list(dict.fromkeys(mods))


def _history_in_memory(name: str) -> list[str]:
    """Kernel arguments that keep an IPython kernel's input history in memory.

    nbclient does this only for kernels named ``python3``; under uso's own kernel every cell
    of every report went into the user's ``~/.ipython`` history database: tens of thousands
    of rows after a few ``--all`` runs, both worker kernels writing to one SQLite file, and
    CPU time of every report spent in the history thread."""
    try:
        argv = KernelSpecManager().get_kernel_spec(name).argv
    except Exception:
        return []
    return ["--HistoryManager.hist_file=:memory:"] if any("ipykernel" in a for a in argv) else []


async def _stop_kernel(client: NotebookClient) -> None:
    """Shut the kernel down, release its files and close the client's channels: what
    NotebookClient does itself when a run of its own ends, through the kernel manager's and
    client's public API (a warm kernel outlives many runs, so it is stopped here)."""
    km, kc = client.km, client.kc
    try:
        if await ensure_async(km.is_alive()):
            await ensure_async(km.shutdown_kernel(now=True))
    except RuntimeError as exc:  # the manager's way of saying it has no kernel any more
        if "No kernel is running" not in str(exc):
            raise
    finally:
        await ensure_async(km.cleanup_resources())
        if kc is not None:
            kc.stop_channels()
        client.kc = client.km = None


_stop = run_sync(_stop_kernel)


class WarmKernel:
    """One kernel process that runs report after report with a clean namespace each time."""

    def __init__(self, name: str | None = None, *, imports: list[str] | None = None,
                 startup_timeout: float = 120, max_uses: int = 200) -> None:
        self.name = kernel_name(name)
        self.imports = list(imports or [])
        self.startup_timeout = startup_timeout
        self.max_uses = max_uses
        self.uses = 0
        self._client: NotebookClient | None = None
        self._log: IO[str] | None = None
        self.language_info: dict = {}

    # -- life cycle ---------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._client is not None

    @property
    def pid(self) -> int | None:
        km = self._client.km if self._client else None
        prov = getattr(km, "provisioner", None)
        proc = getattr(prov, "process", None)
        return getattr(proc, "pid", None)

    def start(self) -> WarmKernel:
        """Start the kernel, import the notebook's modules and record the clean state."""
        nb = nbformat.v4.new_notebook()
        wait = math.ceil(self.startup_timeout)
        client = NotebookClient(nb, kernel_name=self.name, startup_timeout=wait, timeout=wait,
                                shutdown_kernel="immediate",
                                extra_arguments=_history_in_memory(self.name))
        self._log = tempfile.TemporaryFile(mode="w+", prefix="uso-kernel-")
        try:
            client.km = client.create_kernel_manager()
            client.start_new_kernel(cwd=tempfile.gettempdir(), stdout=self._log,
                                    stderr=self._log)
            client.start_new_kernel_client()
            self._client = client
            info = client.wait_for_reply(client.kc.kernel_info())
            self.language_info = (info or {}).get("content", {}).get("language_info", {})
            imports = "\n".join(
                f"try:\n    import {m}\nexcept Exception:\n    pass" for m in self.imports)
            self.run_code(_WARMUP.format(imports=imports, src=_BASELINE_SRC))
        except Exception as exc:
            tail = self.log_tail()
            self.shutdown()
            raise KernelStartError(f"The {self.name!r} kernel did not start: {exc}"
                                   + (f"\n{tail}" if tail else "")) from exc
        return self

    def log_tail(self, lines: int = 15) -> str:
        if self._log is None or self._log.closed:
            return ""
        try:
            self._log.flush()
            self._log.seek(0)
            return "\n".join(self._log.read().splitlines()[-lines:])
        except (OSError, ValueError):
            return ""

    def alive(self) -> bool:
        km = self._client.km if self._client else None
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        return proc is not None and proc.poll() is None

    def shutdown(self) -> None:
        pid = self.pid
        client, self._client = self._client, None
        if client is not None and client.km is not None:
            try:
                _stop(client)
            except Exception:  # already dead or half started: make sure it is gone
                self._kill(pid)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill_from_any_thread(self) -> None:
        """Stop the kernel from a thread that does not own it: a signal and the removal of
        its connection file, without touching the owner's event loop or sockets."""
        self._kill(self.pid)
        km = self._client.km if self._client else None
        if km is not None:
            with contextlib.suppress(Exception):
                km.cleanup_connection_file()

    def kill(self) -> None:
        """Stop the kernel now (a cell that ran past its time-out is still running in it)."""
        self._kill(self.pid)
        self.shutdown()

    @staticmethod
    def _kill(pid: int | None) -> None:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- running ------------------------------------------------------------------------
    def run_code(self, code: str) -> None:
        """Run code outside any notebook (warm-up, reset); an error is a KernelStartError."""
        assert self._client is not None, "kernel not started"
        cell = nbformat.v4.new_code_cell(code)
        self._client.nb = nbformat.v4.new_notebook(cells=[cell])
        try:
            self._client.execute_cell(cell, 0, store_history=False)
        except CellExecutionError as exc:
            raise KernelStartError(f"preparing the kernel failed: {exc.ename}: {exc.evalue}"
                                   ) from None
        except DeadKernelError:
            raise KernelStartError("the kernel died while it was being prepared") from None

    def prepare(self, workdir: str | os.PathLike) -> None:
        """Wipe the previous report's state and move into ``workdir`` for the next one."""
        self.run_code(_RESET.format(workdir=str(Path(workdir))))

    def client_for(self, nb: nbformat.NotebookNode, timeout: float | None) -> NotebookClient:
        """The notebook client, pointed at ``nb``, with fresh per-notebook trackers."""
        assert self._client is not None, "kernel not started"
        client = self._client
        client.nb = nb
        client.timeout = None if timeout is None else max(1, math.ceil(timeout))
        client.reset_execution_trackers()
        if self.language_info:
            nb.metadata["language_info"] = self.language_info
        return client

    def __enter__(self) -> WarmKernel:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.shutdown()
