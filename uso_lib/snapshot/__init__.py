"""Build the embedded offline snapshot from the raw third-party files in ``../shared/data/raw``.

The snapshot is *derived*: compact tidy parquet files of the figures (with provenance), never
copies of the raw files. Each builder module below reads one family of raw files and returns
store rows (see :mod:`uso_lib.store`) already mapped to the 2023 division; this module runs them
in a fixed order, writes ``uso_lib/data/snapshot/<builder>.parquet`` and a ``MANIFEST.json``
that records, per builder, the raw files used (with their SHA-256), row counts and indicators.

A rebuild from the same raw files gives identical content: rows are sorted, and no builder
stamps the build time into the data (``retrieved`` is the raw file's own retrieval date).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from uso_lib import config, store
from uso_lib.atomic import atomic_write, sha256_file
from uso_lib.errors import DataError

# builder name -> module under uso_lib.snapshot; each module has
#   RAW_FILES: list[str] (paths relative to the raw dir) and build(raw: Path) -> pd.DataFrame
BUILDERS: dict[str, str] = {
    "population": "uso_lib.snapshot.population",
    "vital": "uso_lib.snapshot.vital",
    "vital_rates": "uso_lib.snapshot.vital_rates",
    "projection": "uso_lib.snapshot.projection",
    "keyfigures": "uso_lib.snapshot.keyfigures",
    "unemployment": "uso_lib.snapshot.unemployment",
    "regional_series": "uso_lib.snapshot.regional_series",
    "commuting": "uso_lib.snapshot.commuting",
    "commuting_shares": "uso_lib.snapshot.commuting_shares",
    "elections": "uso_lib.snapshot.elections",
    "welfare": "uso_lib.snapshot.welfare",
    "finance": "uso_lib.snapshot.finance",
    "fresh": "uso_lib.snapshot.fresh",
}

MAX_TOTAL_BYTES = 15 * 1024 * 1024


def available_builders() -> dict[str, object]:
    """The builder modules that exist (a module not written yet is skipped, and said so)."""
    out = {}
    for name, mod in BUILDERS.items():
        try:
            out[name] = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return out


def build(raw: Path | str, out_dir: Path | str | None = None, *,
          only: list[str] | None = None,
          progress: Callable[[str], None] | None = None) -> dict:
    """Build every snapshot part; returns the manifest."""
    from uso_lib.snapshot import regions as regions_builder

    raw = Path(raw)
    if not raw.is_dir():
        raise DataError(f"Raw data folder {raw} does not exist (expected ../shared/data/raw).")
    out_dir = Path(out_dir or config.SNAPSHOT_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _m: None)
    manifest: dict = {"builders": {}, "derived": {}}

    if only is None:
        say("regions: municipality classification keys")
        manifest["derived"]["regions"] = regions_builder.build(raw, config.PACKAGE_DATA)
        try:
            geo_builder = importlib.import_module("uso_lib.snapshot.geo")
        except ModuleNotFoundError:
            geo_builder = None
        if geo_builder is not None:
            say("geo: simplified polygons")
            manifest["derived"]["geo"] = geo_builder.build(raw, config.PACKAGE_DATA)

    for name, mod in available_builders().items():
        if only and name not in only:
            continue
        say(f"{name}: {', '.join(mod.RAW_FILES)}")
        missing = [f for f in mod.RAW_FILES if not (raw / f).exists()]
        if missing:
            raise DataError(f"snapshot builder {name!r}: raw files missing under {raw}: "
                            f"{missing}")
        df = store.normalize(mod.build(raw))
        df = df.sort_values(store.KEY + ["origin"], kind="stable").reset_index(drop=True)
        dup = df.duplicated(store.KEY)
        if dup.any():
            ex = df.loc[dup, store.KEY].head(3).to_dict("records")
            raise DataError(f"snapshot builder {name!r} produced duplicate keys, e.g. {ex}")
        store.write_parquet(df, out_dir / f"{name}.parquet")
        manifest["builders"][name] = {
            "raw_files": {f: sha256_file(raw / f) for f in mod.RAW_FILES},
            "rows": int(len(df)),
            "indicators": sorted(df["indicator"].unique().tolist()),
            "years": [int(df["year"].min()), int(df["year"].max())] if len(df) else [],
        }

    if only:  # keep the manifest entries of the builders that were not rebuilt
        old = read_manifest(out_dir)
        for k, v in old.get("builders", {}).items():
            manifest["builders"].setdefault(k, v)
        manifest["derived"] = old.get("derived", {})
    manifest["builders"] = dict(sorted(manifest["builders"].items()))
    total = sum(p.stat().st_size for p in out_dir.glob("*.parquet"))
    manifest["total_bytes_parquet"] = total
    if total > MAX_TOTAL_BYTES:
        raise DataError(f"snapshot is {total / 1e6:.1f} MB, over the 15 MB budget")
    _write_json(out_dir / "MANIFEST.json", manifest)
    return manifest


def read_manifest(out_dir: Path | str | None = None) -> dict:
    path = Path(out_dir or config.SNAPSHOT_DIR) / "MANIFEST.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=False) + "\n")


def rows(indicator: str, frame: pd.DataFrame, *, kunta: str = "kunta", year: str = "year",
         value: str = "value", category: str | None = None, status: str | None = None,
         source: str, table: str, vintage: str) -> pd.DataFrame:
    """Turn a tidy frame of one indicator into store rows with provenance (a helper every
    builder uses, so that provenance is never forgotten)."""
    out = pd.DataFrame({
        "indicator": indicator,
        "kunta": frame[kunta].astype(str),
        "year": frame[year].astype("int64"),
        "category": frame[category].astype(str) if category else "",
        "value": pd.to_numeric(frame[value], errors="coerce"),
        "status": frame[status].fillna("").astype(str) if status else "",
        "source": source,
        "table": table,
        "vintage": vintage,
        "origin": "snapshot",
        "retrieved": vintage,
    })
    return out
