"""Security: what a parameter file, a spreadsheet or a command-line argument can make uso do.

- every string that reaches HTML (member notes, peer and network names, spreadsheet source
  texts, broken entries) is escaped, in the report and in index.html;
- output paths are made of codes and ASCII slugs only, so no name can leave --out;
- YAML is read safely: a ``!!python/...`` tag is refused with a clear error and never runs;
- parameters reach the notebook as data (papermill literals), never as code;
- nothing secret (environment variables, the home folder) ends up in the parameters or the HTML.

Rendering is slow, so one real report run (``uso report --members`` with a hostile network file
and spreadsheet) is shared by most tests; one more render runs a hostile ``kunta`` in a kernel.
The figure imported is real: Juva (178) population 31.12.2025 = 5569 (Kuntien avainluvut).
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_uso

from uso_lib import factory as batch
from uso_lib import regions
from uso_lib.factory import render

NB = Path(__file__).resolve().parent / "notebooks"
pytestmark = pytest.mark.slow  # one real report, one kernel
SECRET = "uso-test-secret-7f3a9c"
NOTE_XSS = "<script>alert(1)</script>"
SOURCE_XSS = "<img src=x onerror=alert(1)>"
NAME_XSS = "<script>alert(2)</script>"
NETWORK = f"""\
name: "USO <b>7</b>"
period: 2023-2024
members:
  - kunta: Juva
    verrokit: [Joroinen, Rantasalmi, Puumala, Sulkava, Pieksämäki]
    notes: "{NOTE_XSS} Vertailukunnat sovittu kunnan kanssa."
  - kunta: "{NAME_XSS}"
  - kunta: "../../../pako"
"""
STEM = re.compile(r"^\d{3}-[a-z0-9]+(-[a-z0-9]+)*$")


def _injection(marker: Path) -> str:
    return f"Juva\"; import os; os.system('touch {marker}'); x = \""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One real report run: Juva renders, the two hostile entries fail."""
    d = tmp_path_factory.mktemp("security")
    home = d / "home"
    params = home / "params" / "network.yaml"
    params.parent.mkdir(parents=True)
    params.write_text(NETWORK, encoding="utf-8")
    sheet = home / "juva.csv"
    sheet.write_text(f"kunta;vuosi;arvo;indikaattori;lahde\nJuva;2025;5569;vaesto;{SOURCE_XSS}\n",
                     encoding="utf-8")
    env = {"USO_DATA_DIR": str(d / "data"), "USO_CACHE_DIR": str(d / "cache"),
           "HOME": str(home), "USO_TEST_SECRET": SECRET, "API_TOKEN": SECRET}
    imported = run_uso("data", "import", str(sheet), env=env)
    assert imported.returncode == 0, imported.stderr
    out = d / "work" / "reports"
    before = {p for p in d.rglob("*")}
    r = run_uso("report", "--members", "--params", str(params), "--aineisto", "local",
                "--out", str(out), "--workers", "1", env=env)
    created = {p for p in d.rglob("*")} - before
    return r, out, d, home, created


def _html(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_run_renders_juva_and_fails_the_hostile_entries(run):
    r, out, *_ = run
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert "1 rendered, 2 failed" in r.stdout
    manifest = json.loads(_html(out, "manifest.json"))
    assert manifest["reports"]["178-juva"]["status"] == "ok"
    assert {k: e["status"] for k, e in manifest["reports"].items()} == {
        "178-juva": "ok", "members-1": "failed", "members-2": "failed"}


# -- escaping ------------------------------------------------------------------------------
def test_member_note_is_escaped_in_the_report(run):
    _, out, *_ = run
    html = _html(out, "178-juva.html")
    assert NOTE_XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Vertailukunnat sovittu kunnan kanssa." in html
    assert BeautifulSoup(html, "html.parser").find_all("script") == []


def test_spreadsheet_source_text_is_escaped_in_the_report(run):
    _, out, *_ = run
    html = _html(out, "178-juva.html")
    assert SOURCE_XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;, juva.csv" in html  # the source line
    soup = BeautifulSoup(html, "html.parser")
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    assert all(img["src"].startswith("data:image/") for img in soup.find_all("img"))


def test_network_name_and_peer_names_are_escaped(run):
    _, out, *_ = run
    html = _html(out, "178-juva.html")
    assert "<b>7</b>" not in html and "USO &lt;b&gt;7&lt;/b&gt;" in html
    assert "Rantasalmi" in html and "Pieksämäki" in html  # the peers from the file


def test_index_escapes_names_errors_and_source_texts(run):
    _, out, *_ = run
    index = _html(out, "index.html")
    assert NAME_XSS not in index and SOURCE_XSS not in index
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in index
    assert "&lt;img src=x onerror=alert(1)&gt;" in index  # the population's source
    soup = BeautifulSoup(index, "html.parser")
    assert soup.find_all("script") == []
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]


# -- output paths --------------------------------------------------------------------------
def test_a_name_with_dot_dot_never_leaves_out(run):
    r, out, d, home, created = run
    # the run writes into --out only (the kernel's tools keep their caches in dot-folders
    # of the home folder: matplotlib's font list, IPython's history)
    allowed = [out, d / "data", d / "cache"] + [p for p in home.iterdir()
                                                 if p.name.startswith(".")]
    outside = [p for p in created if p.is_file() and not any(a in p.parents for a in allowed)]
    assert outside == []
    assert not list(d.parent.glob("pako*")) and not list(d.rglob("pako*"))
    assert sorted(p.name for p in out.iterdir()) == [
        ".uso-report.lock", "178-juva-liite.csv", "178-juva-liite.xlsx", "178-juva.html",
        "index.html", "manifest.json"]
    line = next(ln for ln in r.stdout.splitlines() if "pako" in ln)
    assert "FAILED (params)" in line and "Unknown municipality: '../../../pako'" in line


def test_every_report_name_is_a_code_and_a_slug():
    for division in range(2013, 2027):
        for m in regions.registry(division):
            assert STEM.match(m.file_stem), (division, m.file_stem)
            assert STEM.match(batch.appendix_stem(m.file_stem).removesuffix("-liite"))
    assert regions.slugify("../../etc/passwd") == "etc-passwd"
    assert regions.slugify("..") == "kunta"
    assert regions.lookup("Mänttä-Vilppula").file_stem == "508-mantta-vilppula"


def test_command_line_name_with_dot_dot_is_refused(tmp_path):
    out = tmp_path / "reports"
    r = run_uso("report", "../../../pako", "--out", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stdout + r.stderr
    assert "Unknown municipality: '../../../pako'" in r.stderr
    assert not out.exists() and not list(tmp_path.parent.glob("pako*"))


# -- YAML ------------------------------------------------------------------------------------
def test_python_tag_in_params_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "PWNED"
    params = tmp_path / "network.yaml"
    params.write_text("name: USO 7\nperiod: 2023-2024\nmembers:\n"
                      f"  - kunta: !!python/object/apply:os.system [\"touch {marker}\"]\n",
                      encoding="utf-8")
    for args in (["report", "--members", "--params", str(params), "--out",
                  str(tmp_path / "reports")],
                 ["compare", "Juva", "--network", str(params)]):
        r = run_uso(*args)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "Traceback" not in r.stdout + r.stderr
        assert "network.yaml, line 4" in r.stderr
        assert "Tags that make objects are not allowed" in r.stderr
        assert "python/object/apply:os.system" in r.stderr
    assert not marker.exists() and not (tmp_path / "reports").exists()


def test_no_module_loads_yaml_unsafely():
    """Every YAML reader is yaml.safe_load (or safe_dump / compose); none names a loader that
    can build Python objects."""
    unsafe = re.compile(r"yaml\.(load|load_all|full_load|unsafe_load)\(|"
                        r"(Unsafe|Full)?Loader\b(?<!SafeLoader)")
    hits = []
    for path in sorted((ROOT / "uso_lib").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "yaml" in line and unsafe.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


# -- parameters are data -------------------------------------------------------------------
def test_injected_parameters_are_literals(tmp_path):
    marker = tmp_path / "X"
    evil = _injection(marker)
    nb = render.read_notebook(ROOT / "notebooks" / "tilanneanalyysi.ipynb")
    done = render.parameterize(nb, dict(batch.DEFAULT_PARAMETERS, kunta=evil,
                                        verrokit=[evil], liite="178-juva-liite"), "python3")
    [cell] = [c for c in done.cells if "injected-parameters" in c.metadata.get("tags", [])]
    tree = ast.parse(cell.source)
    values = {}
    for stmt in tree.body:  # only `name = <literal>` statements, nothing to call
        assert isinstance(stmt, ast.Assign), ast.dump(stmt)
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    assert values["kunta"] == evil and values["verrokit"] == [evil]
    assert not marker.exists()


def test_hostile_kunta_in_a_kernel_is_a_clear_error_and_runs_nothing(tmp_path):
    marker = tmp_path / "X"
    with pytest.raises(render.RenderError) as info:
        render.render(NB / "mini.ipynb", {"kunta": _injection(marker)},
                      tmp_path / "out" / "x.html", title="x", timeout=120)
    msg = str(info.value)
    assert "cell 3" in msg and "UnknownMunicipality" in msg and "import os" in msg
    assert not marker.exists()
    assert not (tmp_path / "out").exists()  # no report, not even a partial one


def test_hostile_kunta_on_the_command_line_is_refused(tmp_path):
    marker = tmp_path / "X"
    r = run_uso("report", _injection(marker), "--out", str(tmp_path / "reports"))
    assert r.returncode == 2 and "Traceback" not in r.stdout + r.stderr
    assert "Unknown municipality" in r.stderr
    assert not marker.exists() and not (tmp_path / "reports").exists()


# -- nothing secret ------------------------------------------------------------------------
def test_parameters_hold_no_secret_and_no_absolute_path(run):
    _, out, d, home, _ = run
    manifest = json.loads(_html(out, "manifest.json"))
    params = manifest["reports"]["178-juva"]["parameters"]
    assert params == {"kunta": "Juva", "verrokit": [], "vuosi": None, "aineisto": "local",
                      "verkosto": "network.yaml", "liite": "178-juva-liite"}
    nb = render.read_notebook(ROOT / "notebooks" / "tilanneanalyysi.ipynb")
    done = render.parameterize(nb, params, "python3")
    [cell] = [c for c in done.cells if "injected-parameters" in c.metadata.get("tags", [])]
    for text in (cell.source, json.dumps(params)):
        assert SECRET not in text and str(home) not in text and str(d) not in text


def test_html_holds_no_secret_and_no_home_path(run):
    _, out, d, home, _ = run
    for name in ("178-juva.html", "index.html"):
        html = _html(out, name)
        assert SECRET not in html, name
        assert str(home) not in html and str(d) not in html, name
        assert "injected-parameters" not in html and "USO_TEST_SECRET" not in html, name
    # the failed entry still says which file and line, with the home folder as ~
    assert "~/params/network.yaml, line 7" in _html(out, "index.html")
    assert SECRET not in (out / "178-juva-liite.csv").read_text(encoding="utf-8")
