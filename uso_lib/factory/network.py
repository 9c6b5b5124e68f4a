"""The network's own overview for the workshop (``uso report --network``):
``notebooks/verkosto.ipynb`` rendered like a report -- the members on a map, their fee tiers,
the headline figures side by side and the members ranked on the headline indicators with the
network mean -- into ``<out>/verkosto-<name>.html``, and to PDF and PPTX with ``--format``
(:mod:`uso_lib.factory.formats`). The page and its formats are written together with the
manifest's ``network`` entry (:func:`uso_lib.atomic.replace_all`); it is one notebook, so it is
rendered on every call rather than tracked for staleness.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from uso_lib import __version__, config
from uso_lib.atomic import replace_all
from uso_lib.errors import ParamsError
from uso_lib.factory import formats
from uso_lib.factory.kernels import WarmKernel, notebook_imports
from uso_lib.factory.local import locked, sweep
from uso_lib.factory.manifest import (
    MANIFEST,
    manifest_text,
    now,
    read_manifest,
    text_hash,
)
from uso_lib.factory.plan import NetworkPlan
from uso_lib.factory.render import read_notebook, render_to_memory
from uso_lib.regions import slugify

NETWORK_NOTEBOOK = config.PACKAGE_DIR.parent / "notebooks" / "verkosto.ipynb"


@dataclass
class NetworkOutcome:
    key: str
    title: str
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0


def network_key(name: str) -> str:
    """``USO 7`` -> ``verkosto-uso-7``: the overview's file stem."""
    return f"verkosto-{slugify(name)}"


def render_network(plan: NetworkPlan | None, out: Path, *, formats_: tuple[str, ...] = ("html",),
                   pptx_template: Path | None = None, aineisto: str = "snapshot",
                   notebook: Path | None = None, kernel_name: str | None = None,
                   timeout: float | None = 600.0) -> NetworkOutcome:
    """Render the network overview of ``plan`` (the network file) into ``out``. Raises
    :class:`~uso_lib.factory.render.RenderError` (which cell failed) or a UsoError."""
    started = time.perf_counter()
    if plan is None or plan.network is None or plan.path is None:
        raise ParamsError("--network needs the network file (params/network.yaml); give it "
                          "with --params FILE.")
    extra = formats.extra(formats_)
    template = formats.check(extra, pptx_template)
    nb_path = Path(notebook or NETWORK_NOTEBOOK)
    nb = read_notebook(nb_path)
    net = plan.network
    key = network_key(net.name)
    title = f"{net.name}: verkoston yleiskuva"
    kernel = WarmKernel(kernel_name, imports=notebook_imports(nb)).start()
    try:
        done = render_to_memory(nb, {"verkosto": plan.path.name, "aineisto": aineisto},
                                kernel=kernel, title=title, timeout=timeout,
                                inputs={plan.path.name: plan.text})
    finally:
        kernel.shutdown()
    made, meta = formats.make(done.html, extra, key=key, title=title, template=template,
                              timeout=timeout)
    out = Path(out)
    with locked(out):
        sweep(out)
        manifest, _ = read_manifest(out)
        files: dict[Path, bytes | str] = {out / name: data for name, data in made.items()}
        files[out / f"{key}.html"] = done.html
        manifest["network"] = {
            "name": net.name, "file": f"{key}.html", "outputs": meta,
            "file_hashes": {p.name: text_hash(d) for p, d in files.items()},
            "network_hash": text_hash(plan.text), "aineisto": aineisto,
            "rendered": now(), "uso_version": __version__,
            "duration": round(time.perf_counter() - started, 2)}
        files[out / MANIFEST] = manifest_text(manifest)
        replace_all(files, what=f"the network overview {key}")
    return NetworkOutcome(key, title, sorted(p.name for p in files if p.name != MANIFEST),
                          time.perf_counter() - started)
