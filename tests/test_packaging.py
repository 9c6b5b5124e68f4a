"""The project's set-up files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = {_name(d) for d in pyproject["project"]["dependencies"]}
    # dask[distributed] is two packages on conda-forge
    deps = (deps - {"dask"}) | {"dask", "distributed"}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    # what conda-forge does not have comes from PyPI, in the environment's pip section
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    pip = {_name(req) for section in pip_sections for req in section}
    assert conda | pip == deps and not conda & pip


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "make test" in readme and "make reports" in readme


def test_console_script_and_layout():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["uso"] == "uso_lib.cli:main"
    for d in ["notebooks", "uso_lib", "params", "reports", "tests", "benchmarks"]:
        assert (ROOT / d).is_dir(), d
