"""The manifest of an output folder (``manifest.json``): what each report was rendered from
and which files it wrote, so that a run renders only what is missing or out of date.

The hashes of the inputs (notebook and templates, data, code, network file) are computed once
per run; a report is rendered again when one of them, its parameters or one of its files
changed (:func:`stale`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from uso_lib import config
from uso_lib.atomic import atomic_write, replace_all, sha256_bytes, sha256_file
from uso_lib.factory.render import TEMPLATES

if TYPE_CHECKING:
    from uso_lib.factory.jobs import Outcome

MANIFEST = "manifest.json"
INDEX = "index.html"
MANIFEST_FORMAT = 1
PACKAGE_DIR = config.PACKAGE_DIR
APPENDIX_SUFFIX = "-liite"  # 178-juva.html has its data in 178-juva-liite.csv / .xlsx


def appendix_stem(key: str) -> str:
    return key + APPENDIX_SUFFIX


# -- hashes of the inputs -----------------------------------------------------------------
_HASH_CACHE: dict[tuple, str] = {}


def _hash_files(files: Iterable[Path], root: Path | None = None) -> str:
    files = sorted(set(files))
    stat_key = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stat_key in _HASH_CACHE:
        return _HASH_CACHE[stat_key]
    listing = "".join(
        f"{p.relative_to(root) if root and p.is_relative_to(root) else p.name}\0"
        f"{sha256_file(p)}\0" for p in files)
    digest = "sha256:" + sha256_bytes(listing)
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
    return text_hash(notebook_text + _hash_files(_tree(TEMPLATES, lambda p: True), TEMPLATES))


def text_hash(text: str | bytes) -> str:
    """``sha256:<hex>``, the form the manifest records."""
    return "sha256:" + sha256_bytes(text)



def file_hash(path: Path) -> str:
    """Hash of one file's content (what the manifest records for each output file)."""
    st = path.stat()
    key = ("file", str(path), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = "sha256:" + sha256_file(path)
    return _HASH_CACHE[key]

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
    atomic_write(out / MANIFEST, manifest_text(manifest))


def manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"


def now() -> str:
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



def record(out: Path, manifest: dict, o: Outcome, shared: dict, params: dict | None, *,
           why: str | None = None) -> None:
    """Write a report's files and its manifest entry together (:func:`uso_lib.atomic.
    replace_all`): when a write fails (a full disk), the earlier page, appendix and manifest
    stay as they were, the in-memory ``manifest`` too, and the error says so."""
    entry = {
        "kunta": o.kunta, "name": o.name, "why": why, "status": o.status,
        "reason": o.reason or None,
        "error": o.error, "cell": o.cell, "attempts": o.attempts, "notes": o.notes,
        "duration": round(o.seconds, 2), "worker": o.worker or None, "rendered": now(),
        "parameters": params, **shared,
    }
    old = manifest["reports"].get(o.key) or {}
    files: dict[Path, bytes | str] = {}
    if o.ok and o.html is not None:
        name = f"{o.key}.html"
        for fname, data in sorted({**o.files, **o.outputs}.items()):
            files[out / fname] = data
        files[out / name] = o.html
        hashes = {p.name: text_hash(data) for p, data in files.items()}
        entry.update(file=name, appendix=sorted(o.files), bytes=len(o.html),
                     file_hashes=hashes, outputs=o.output_meta)
    else:
        # an older report of this municipality stays on disk, but it is not this run's
        entry.update(file=None, appendix=[], bytes=None, file_hashes={},
                     previous=(old.get("file") if old.get("status") == "ok"
                               else old.get("previous")))
    reports = dict(sorted({**manifest["reports"], o.key: entry}.items()))
    files[out / MANIFEST] = manifest_text({**manifest, "format": MANIFEST_FORMAT,
                                           "reports": reports})
    replace_all(files, what=f"the report {o.key}")
    manifest["format"], manifest["reports"] = MANIFEST_FORMAT, reports

