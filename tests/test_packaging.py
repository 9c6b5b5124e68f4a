"""The project's set-up files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_environment_yml_lists_the_dependencies_and_the_workbench_extras():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    deps = {_name(d) for d in project["dependencies"]}
    deps |= {_name(d) for extra in ("lab", "dask", "snapshot", "pdf") for d in extras[extra]}
    # dask[distributed] is two packages on conda-forge
    deps = (deps - {"dask"}) | {"dask", "distributed"}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    # what conda-forge does not have comes from PyPI, in the environment's pip section
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    pip = {_name(req) for section in pip_sections for req in section}
    assert conda | pip == deps and not conda & pip


def test_one_job_dependencies_are_extras_and_matplotlib_has_no_upper_bound():
    project = _pyproject()["project"]
    core = {_name(d): d for d in project["dependencies"]}
    extras = project["optional-dependencies"]
    for name in ("jupyterlab", "dask", "pyreadr"):
        assert name not in core, name
    assert [_name(d) for d in extras["lab"]] == ["jupyterlab"]
    assert any(d.startswith("dask[distributed]") for d in extras["dask"])
    assert "pyreadr" in {_name(d) for d in extras["snapshot"]}
    # the tests run the Dask cluster, read the raw files and print PDFs: [test] brings them
    assert any(d.replace(" ", "") == "uso-lib[dask,snapshot,pdf]" for d in extras["test"])
    assert [_name(d) for d in extras["pdf"]] == ["playwright", "pypdf"]
    assert "<" not in core["matplotlib"]


def test_make_targets_install_their_extras():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for extra in ("lab", "snapshot", "test"):
        assert f'-e ".[{extra}]"' in makefile, extra
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -e '.[dask]'" in readme


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in ci
    assert "make test" in readme and "make reports" in readme


def test_console_script_and_layout():
    assert _pyproject()["project"]["scripts"]["uso"] == "uso_lib.cli:main"
    for d in ["notebooks", "uso_lib", "params", "reports", "tests", "benchmarks"]:
        assert (ROOT / d).is_dir(), d


def test_a_missing_extra_is_a_clear_error_naming_it(raw_dir, monkeypatch, tmp_path):
    import sys

    import pytest

    from uso_lib.errors import UsoError
    from uso_lib.extras import MissingExtra, require
    from uso_lib.snapshot import vital

    monkeypatch.setitem(sys.modules, "pyreadr", None)  # as if not installed
    with pytest.raises(MissingExtra) as err:
        vital.build(raw_dir)
    assert isinstance(err.value, UsoError)
    assert "pyreadr" in str(err.value) and "[snapshot]" in str(err.value)
    assert "pip install -e '.[snapshot]'" in str(err.value)
    # an import failing inside an installed module is a broken install, not a missing extra:
    # it keeps its own error and traceback
    broken = tmp_path / "uso_broken_module.py"
    broken.write_text("import uso_no_such_dependency\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as exc:
        require("uso_broken_module", "lab")
    assert not isinstance(exc.value, UsoError)
    assert exc.value.name == "uso_no_such_dependency"


def test_report_on_a_dask_cluster_without_the_dask_extra_says_which_extra(tmp_path, monkeypatch,
                                                                          capsys):
    import sys

    from uso_lib.cli import main

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    rc = main(["report", "Juva", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path),
               "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "uso report --scheduler" in err and "[dask]" in err
    assert "pip install -e '.[dask]'" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.html"))
