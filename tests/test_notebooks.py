"""The notebooks: committed clean and thin, the parameters cell the render engine relies on,
and end to end -- the Juva situation analysis rendered from the embedded snapshot to HTML,
and the two helper notebooks run top to bottom with their defaults."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from uso_lib import catalog

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("tilanneanalyysi", "tutustu", "verkosto")
NBSP = "\u00a0"
CONTRACT = {"kunta": "Juva", "verrokit": [], "vuosi": None, "aineisto": "snapshot",
            "verkosto": "", "liite": ""}


def _nb(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def _parameters(nb: nbformat.NotebookNode) -> dict:
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    return {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body
            if isinstance(n, ast.Assign)}


# -- committed state --------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name):
    nb = _nb(name)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a cell has outputs"
            assert cell.execution_count is None, f"{name}: a cell has an execution count"


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_thin(name):
    """Logic lives in uso_lib: code cells are a few calls, no functions, classes or loops."""
    for cell in _nb(name).cells:
        if cell.cell_type != "code":
            continue
        lines = [ln for ln in cell.source.splitlines() if ln.strip()
                 and not ln.lstrip().startswith("#")]
        assert len(lines) <= 8, cell.source
        tree = ast.parse(cell.source)
        assert not [n for n in ast.walk(tree) if isinstance(
            n, ast.FunctionDef | ast.ClassDef | ast.For | ast.While)], cell.source


def test_report_parameters_are_the_render_contract():
    nb = _nb("tilanneanalyysi")
    assert _parameters(nb) == CONTRACT
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])


def test_report_has_a_section_for_every_theme():
    nb = _nb("tilanneanalyysi")
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for theme in catalog.catalog().themes:
        assert f"## {theme.title}\n" in md + "\n", theme.title
        assert f'report.theme_section(r, "{theme.id}")' in code


def test_helper_notebooks_have_defaults():
    assert _parameters(_nb("tutustu"))["kunta"] == "Juva"
    assert _parameters(_nb("verkosto")) == {"verkosto": "", "aineisto": "snapshot"}


# -- end to end -------------------------------------------------------------------------------
def _render(name: str, params: dict, out: Path, title: str) -> str:
    from uso_lib.factory import render

    path = render.render(NOTEBOOKS / f"{name}.ipynb", params, out, title=title, timeout=600)
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def juva(tmp_path_factory) -> tuple[str, Path]:
    """The Juva report for 2021 (one execution shared by the assertions below)."""
    out = tmp_path_factory.mktemp("report") / "178-juva.html"
    html = _render("tilanneanalyysi", dict(CONTRACT, kunta="Juva", vuosi=2021), out,
                   "Tilanneanalyysi: Juva")
    return html, out


@pytest.mark.slow
def test_juva_report_content(juva):
    html, out = juva
    assert re.search(r"<h1[^>]*>Tilanneanalyysi: Juva", html)
    assert f"5{NBSP}887" in html  # population 31.12.2021 (StatFin 11re)
    for theme in catalog.catalog().themes:
        assert re.search(rf"<h2[^>]*>{re.escape(theme.title)}", html), theme.title
    for ind in catalog.catalog().indicators:  # every indicator has its place (and link target)
        assert f'id="ind-{ind.id.replace("_", "-")}"' in html, ind.id
    assert "Ei tietoa offline-aineistossa; <code>uso data refresh</code> hakee sen." in html
    assert "indeksi, mediaanikunta = 100 (vain järjestys)" in html
    assert "Korvaava mittari:" in html
    assert "CC BY 4.0" in html


@pytest.mark.slow
def test_juva_report_charts_have_sources_and_maps_are_embedded(juva):
    html, _ = juva
    figures = re.findall(r'<figure class="uso-figure">(.*?)</figure>', html, re.S)
    assert len(figures) >= 30
    for fig in figures:
        assert 'src="data:image/png;base64,' in fig
        caption = re.search(r'<figcaption class="uso-source">(Lähde: [^<]*)</figcaption>', fig)
        assert caption and re.search(r"\b(19|20)\d\d\b", caption.group(1)), fig[-300:]
    maps = re.search(r'<figure class="uso-maps">(.*?)</figure>', html, re.S)
    assert maps and maps.group(1).count('src="data:image/png;base64,') == 2
    assert "© Tilastokeskus / MML" in maps.group(1)


@pytest.mark.slow
def test_juva_report_has_no_code_errors_or_parameters(juva):
    html, out = juva
    for bad in ("Traceback", "application/vnd.jupyter.stderr", "output_error",
                "injected-parameters", "report.start(", "from uso_lib import", "theme_section("):
        assert bad not in html, bad
    assert out.stat().st_size < 3 * 1024 * 1024


@pytest.mark.slow
def test_juva_appendix_is_written_beside_the_report(juva):
    _, out = juva
    csvs = sorted(out.parent.glob("178-juva*.csv"))  # the render engine names the stem
    assert len(csvs) == 1, sorted(p.name for p in out.parent.iterdir())
    csv = pd.read_csv(csvs[0], dtype={"kunta": str})
    row = csv[(csv["indicator"] == "vaesto") & (csv["kunta"] == "178") & (csv["year"] == 2021)]
    assert row["value"].tolist() == [5887.0] and row["table"].tolist() == ["11re"]
    assert csvs[0].with_suffix(".xlsx").stat().st_size > 0


@pytest.mark.slow
def test_tutustu_runs_headless_with_papermill_and_shows_widgets(tmp_path):
    """tutustu.ipynb's controls (ipywidgets) executed headless by papermill with
    ``-p kunta Tornio``: no error, a widget output, and the saved widget state holds the
    first view (Tornio's unemployment rate, its charts and maps)."""
    import papermill

    from uso_lib.factory.kernels import kernel_name

    out = tmp_path / "tutustu-tornio.ipynb"
    papermill.execute_notebook(str(NOTEBOOKS / "tutustu.ipynb"), str(out),
                               parameters={"kunta": "Tornio"}, kernel_name=kernel_name(),
                               cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in
             o.get("data", {})]
    assert len(views) == 1
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    models = {k: v["state"] for k, v in state.items()}
    assert {m.get("_model_name") for m in models.values()} >= {
        "ComboboxModel", "DropdownModel", "TagsInputModel", "TabModel", "HTMLModel"}
    combo = next(m for m in models.values() if m.get("_model_name") == "ComboboxModel")
    assert combo["value"] == "Tornio" and len(combo["options"]) == 309
    html = "".join(str(m.get("value", "")) for m in models.values()
                   if m.get("_model_name") == "HTMLModel")
    assert "Tornio (851)" in html and "Työttömien osuus työvoimasta" in html
    assert html.count('src="data:image/png;base64,') >= 4  # ranking, series, two maps


@pytest.mark.slow
def test_verkosto_runs_with_defaults(tmp_path):
    html = _render("verkosto", {}, tmp_path / "verkosto.html", "USO 7")
    assert "Traceback" not in html
    assert "USO 7: verkoston yleiskuva" in html
    # Kokkola (48 338 residents in 2025) pays the top tier, Juva (5 569) the lowest
    rows: dict[str, str] = {}  # the first table: members, population, fee
    for m in re.finditer(r"<tr><td>([^<]+)</td>.*?</tr>", html, re.S):
        rows.setdefault(m.group(1), m.group(0))
    assert "yli 45 000 asukasta" in rows["Kokkola"] and f"16{NBSP}000{NBSP}€" in rows["Kokkola"]
    assert "alle 9 000 asukasta" in rows["Juva"] and f"9{NBSP}000{NBSP}€" in rows["Juva"]
