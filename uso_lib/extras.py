"""Optional dependencies: what only one job needs is an extra, imported when that job runs.

``pip install -e .`` gives what the reports need; JupyterLab (``[lab]``), Dask
(``[dask]``, for ``uso report --scheduler``) and the readers of the raw files the snapshot is
built from (``[snapshot]``) come with their extra, so a missing one is an error that names it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from uso_lib.errors import UsoError

#: extra -> what it is for (the sentence of the error)
EXTRAS: dict[str, str] = {
    "lab": "JupyterLab on the notebooks",
    "dask": "uso report --scheduler (a Dask cluster)",
    "snapshot": "building the embedded snapshot from the raw files",
    "pdf": "uso report --format pdf (printing the report with headless Chromium)",
    "test": "the test suite",
}


class MissingExtra(UsoError):
    """An optional dependency of one job is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        self.module, self.extra = module, extra
        super().__init__(
            f"{EXTRAS.get(extra, extra)} needs {module}, which is not installed: it comes with "
            f"uso's [{extra}] extra.",
            hint=f"Install it with `pip install -e '.[{extra}]'` in the checkout "
                 f"(or `pip install 'uso-lib[{extra}]'`).")


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` for a job of the ``extra``; raise :class:`MissingExtra` if absent.

    Only the module itself (or a package above it) being missing counts: an ImportError from
    inside an installed package is a broken install and keeps its traceback."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
            raise
        raise MissingExtra(module, extra) from exc
