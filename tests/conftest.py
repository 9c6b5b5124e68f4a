"""Shared fixtures.

Tests that read the real published files in ``../shared/data/raw`` use the ``raw_dir`` fixture:
it skips with a clear reason only when that folder is absent (CI always has it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = Path(os.environ.get("USO_RAW_DIR", ROOT.parent / "shared" / "data" / "raw"))
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    if not RAW.is_dir():
        pytest.skip(f"the shared raw data folder {RAW} is absent (CI always has it)")
    return RAW


@pytest.fixture(scope="module")
def store():
    """The embedded snapshot as a Store, one per test module (a module that tests another
    store defines its own ``store``)."""
    from uso_lib.store import Store

    return Store("snapshot")


def need_chromium(what: str) -> str:
    """Debian's chromium for a test that prints or opens a report: CI must have it (.ci/run
    installs it), elsewhere the test is skipped with the reason."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run {what}: Debian's chromium is not installed "
                        "(.ci/run installs it with apt-get)")
        pytest.skip("headless Chromium is not installed here (Debian: apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def keyfigures_store(raw_dir, tmp_path_factory):
    """A store built here from the raw files by the project's own builders (population and
    the key figures), so that comparison tests check the builders' output, not a committed
    file; built once per session."""
    from uso_lib.snapshot import keyfigures, population
    from uso_lib.store import Store, normalize, write_parquet

    snap = tmp_path_factory.mktemp("keyfigures-snapshot")
    for name, mod in (("keyfigures", keyfigures), ("population", population)):
        write_parquet(normalize(mod.build(raw_dir)), snap / f"{name}.parquet")
    return Store("snapshot", snapshot_dir=snap)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never let a test read or write the developer's own store or cache."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("USO_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("USO_CACHE_DIR", str(base / "cache"))
    from uso_lib import store

    store._DEFAULT.clear()
    yield
    store._DEFAULT.clear()


def write_catalog(folder: Path, indicators: list[dict]):
    """A small catalogue of test indicators beside the real themes, loaded and validated the
    way the real one is."""
    import shutil

    import yaml

    from uso_lib import catalog

    d = Path(folder) / "catalog"
    d.mkdir()
    shutil.copy(catalog.CATALOG_DIR / "00-themes.yaml", d / "00-themes.yaml")
    (d / "10-test.yaml").write_text(yaml.safe_dump({"indicators": indicators},
                                                   allow_unicode=True), encoding="utf-8")
    return catalog.load(d)


def run_uso(*args: str, env: dict | None = None, cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `uso` command line in a subprocess (as a user would)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "uso_lib", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture
def uso():
    return run_uso
