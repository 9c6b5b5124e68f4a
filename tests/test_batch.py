"""The report factory (uso_lib.factory, `uso report`): failures that stop nothing, incremental
runs, kills, dead kernels, warm kernels that leak nothing, and Dask.

The fault tests use the small notebooks in tests/notebooks (faults.ipynb reads the
USO_TEST_FAULTS environment variable: municipality code -> raise | sleep | die | die-once);
one test renders the real report notebook."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, run_uso

NB = Path(__file__).resolve().parent / "notebooks"
pytestmark = pytest.mark.slow

NETWORK = """\
name: Testiverkosto
period: 2023-2024
members:
  - kunta: Juva
  - kunta: Tornio
    verrokit: [Kemi, "<b>Atlantis</b>"]
  - kunta: Imatra
"""


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _complete(path: Path) -> bool:
    return path.read_text(encoding="utf-8").rstrip().endswith("</html>")


def _mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")}


# -- three municipalities, one with a bad network entry ------------------------------------
@pytest.fixture(scope="module")
def network_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("network")
    params = d / "network.yaml"
    params.write_text(NETWORK, encoding="utf-8")
    out = d / "reports"
    r = run_uso("report", "--members", "--params", str(params), "--out", str(out),
                "--notebook", str(NB / "mini.ipynb"), "--workers", "2", "--timeout", "120")
    return r, out


def test_one_bad_member_fails_and_the_others_render(network_run):
    r, out = network_run
    assert r.returncode == 1, r.stderr
    assert sorted(p.name for p in out.glob("*.html")) == ["153-imatra.html", "178-juva.html",
                                                          "index.html"]
    # the summary names the failure: which entry, which line, what to do
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("851"))
    assert "Tornio" in line and "FAILED (params)" in line
    assert "line 6" in line and "members[1].verrokit[1]" in line and "Atlantis" in line
    assert "2 rendered, 1 failed, 0 up to date" in r.stdout
    assert "Traceback" not in r.stderr


def test_failure_is_in_manifest_and_index(network_run):
    _, out = network_run
    reports = _manifest(out)["reports"]
    assert set(reports) == {"153-imatra", "178-juva", "851-tornio"}
    bad = reports["851-tornio"]
    assert bad["status"] == "failed" and bad["reason"] == "params" and bad["file"] is None
    ok = reports["178-juva"]
    assert ok["status"] == "ok" and ok["file"] == "178-juva.html"
    assert ok["appendix"] == ["178-juva-liite.csv", "178-juva-liite.xlsx"]
    assert ok["parameters"] == {"kunta": "Juva", "verrokit": [], "vuosi": None,
                                "aineisto": "snapshot", "verkosto": "network.yaml",
                                "liite": "178-juva-liite"}
    for key in ("template_hash", "data_hash", "code_hash", "network_hash"):
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", ok[key]), key
    assert ok["uso_version"] and ok["duration"] > 0 and ok["attempts"] == 1
    index = (out / "index.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(index, "html.parser")
    links = {a["href"] for a in soup.find_all("a", href=True)}
    assert {"178-juva.html", "153-imatra.html", "178-juva-liite.csv"} <= links
    failed = soup.find(id="epaonnistuneet").find_next("table").get_text()
    assert "Tornio" in failed and "Atlantis" in failed
    # the entry's text is escaped, never markup
    assert "<b>Atlantis</b>" not in index and "&lt;b&gt;Atlantis&lt;/b&gt;" in index


def test_index_headline_figures_come_from_the_store(network_run):
    _, out = network_run
    soup = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    row = next(tr for tr in soup.find_all("tr") if tr.find("a", href="178-juva.html"))
    cells = [td.get_text(strip=True) for td in row.find_all("td")]
    # Juva: population 31.12.2025 = 5569 (Kuntien avainluvut), December 2024
    # unemployed-jobseeker rate 9.3 % (StatFin 12r5): see ../shared/data/raw/recent/SOURCES.md
    assert cells[1] == "5\u00a0569"
    assert cells[2].endswith("%") and cells[2].startswith(("−", "-"))
    assert cells[3] == "9,3\u00a0%"
    assert "Tilastokeskus" in row.find_all("td")[1]["title"]


# -- incremental runs ----------------------------------------------------------------------
def test_second_run_renders_nothing_and_force_renders_again(tmp_path):
    out = tmp_path / "reports"
    args = ["report", "Juva", "Tornio", "--out", str(out), "--notebook",
            str(NB / "mini.ipynb"), "--timeout", "120"]
    first = run_uso(*args)
    assert first.returncode == 0, first.stderr
    before = _mtimes(out)
    second = run_uso(*args)
    assert second.returncode == 0, second.stderr
    assert "nothing to render, 2 up to date" in second.stdout
    assert _mtimes(out) == before
    # a report deleted by hand is noticed
    (out / "851-tornio.html").unlink()
    third = run_uso(*args)
    assert "1 rendered, 0 failed, 1 up to date" in third.stdout
    assert _manifest(out)["reports"]["851-tornio"]["why"] == "missing: 851-tornio.html"
    forced = run_uso(*args, "--force")
    assert forced.returncode == 0 and "2 rendered, 0 failed, 0 up to date" in forced.stdout
    after = _mtimes(out)
    assert after["178-juva.html"] > before["178-juva.html"]
    assert _manifest(out)["reports"]["178-juva"]["why"] == "forced"


# -- killed mid-way ------------------------------------------------------------------------
def test_killed_run_leaves_no_partial_report_and_next_run_completes(tmp_path):
    out = tmp_path / "reports"
    args = [sys.executable, "-m", "uso_lib", "report", "Juva", "Tornio", "--out", str(out),
            "--notebook", str(NB / "faults.ipynb"), "--workers", "1"]
    env = dict(os.environ, USO_TEST_FAULTS=json.dumps({"851": "sleep"}))
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 120
        while not (out / "178-juva.html").exists() and time.monotonic() < end:
            time.sleep(0.2)
        time.sleep(1.0)  # Tornio is now running (sleeping in cell 5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    htmls = sorted(p.name for p in out.glob("*.html"))
    assert htmls == ["178-juva.html"] and _complete(out / "178-juva.html")
    assert _manifest(out)["reports"]["178-juva"]["status"] == "ok"
    # a temporary file as a kill during a write would leave it
    (out / ".851-tornio.html.x1y2.tmp").write_text("<html><body>puoli")
    r = run_uso(*args[3:])
    assert r.returncode == 0, r.stderr
    assert "1 rendered, 0 failed, 1 up to date" in r.stdout
    assert _complete(out / "851-tornio.html")
    assert not list(out.glob(".*.tmp"))


# -- faults inside reports -----------------------------------------------------------------
@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    out = d / "reports"
    faults = {"178": "die-once", "851": "die", "153": "raise", "905": "sleep"}
    env = {"USO_TEST_FAULTS": json.dumps(faults), "USO_TEST_MARKERS": str(d)}
    r = run_uso("report", "Juva", "Tornio", "Imatra", "Vaasa", "Kuhmo", "--out", str(out),
                "--notebook", str(NB / "faults.ipynb"), "--workers", "2", "--timeout", "6",
                env=env)
    return r, out


def test_dead_kernel_is_retried_once(fault_run):
    r, out = fault_run
    reports = _manifest(out)["reports"]
    juva = reports["178-juva"]
    assert juva["status"] == "ok" and juva["attempts"] == 2
    assert "the kernel died in cell 5" in juva["notes"][0]
    assert "DONE Juva" in (out / "178-juva.html").read_text(encoding="utf-8")
    tornio = reports["851-tornio"]
    assert tornio["status"] == "failed" and tornio["reason"] == "kernel-died"
    assert tornio["attempts"] == 2 and "the kernel died twice" in tornio["error"]


def test_raising_cell_is_named_and_the_batch_continues(fault_run):
    r, out = fault_run
    imatra = _manifest(out)["reports"]["153-imatra"]
    assert imatra["status"] == "failed" and imatra["reason"] == "error"
    assert imatra["cell"] == 5 and "ZeroDivisionError: division by zero" in imatra["error"]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("153"))
    assert "cell 5" in line and "ZeroDivisionError" in line


def test_timeout_fails_one_report_only(fault_run):
    r, out = fault_run
    reports = _manifest(out)["reports"]
    vaasa = reports["905-vaasa"]
    assert vaasa["status"] == "failed" and vaasa["reason"] == "timeout"
    assert "timed out after 6 s in cell 5" in vaasa["error"]
    assert reports["290-kuhmo"]["status"] == "ok"
    assert r.returncode == 1
    assert "2 rendered, 3 failed" in r.stdout
    assert sorted(p.name for p in out.glob("*-*.html")) == ["178-juva.html", "290-kuhmo.html"]


# -- warm kernels --------------------------------------------------------------------------
def test_warm_kernel_leaks_no_state_between_reports(tmp_path):
    """leak.ipynb fails if anything the previous report did is visible; both reports must
    run in the same kernel process for the test to mean anything."""
    out = tmp_path / "reports"
    r = run_uso("report", "Juva", "Tornio", "Imatra", "--out", str(out), "--notebook",
                str(NB / "leak.ipynb"), "--workers", "1", "--timeout", "120")
    assert r.returncode == 0, r.stdout + r.stderr
    pids = set()
    for name in ("178-juva", "851-tornio", "153-imatra"):
        text = (out / f"{name}.html").read_text(encoding="utf-8")
        pids.add(re.search(r"KERNEL (\d+) KUNTA", text).group(1))
        assert "polluted" in text
    assert len(pids) == 1


def test_report_kernels_leave_the_users_ipython_history_alone(tmp_path):
    """Report cells are not the consultant's typing: with IPYTHONDIR pointed at a fresh
    folder, rendering reports must not create an IPython history database there."""
    ipython_dir, out = tmp_path / "ipython", tmp_path / "reports"
    r = run_uso("report", "Juva", "Tornio", "--out", str(out), "--notebook",
                str(NB / "mini.ipynb"), "--workers", "1", "--timeout", "120",
                env={"IPYTHONDIR": str(ipython_dir)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert (out / "178-juva.html").is_file() and (out / "851-tornio.html").is_file()
    assert ipython_dir.is_dir()  # the kernel did run under this IPYTHONDIR
    assert not list(ipython_dir.rglob("history.sqlite*"))


def test_batch_output_equals_single_report(tmp_path):
    """A report rendered in a kernel that already ran another report is byte-identical to
    the same report rendered on its own."""
    single, multi = tmp_path / "single", tmp_path / "multi"
    common = ["--notebook", str(NB / "mini.ipynb"), "--timeout", "120"]
    a = run_uso("report", "Juva", "--out", str(single), *common)
    b = run_uso("report", "Tornio", "Juva", "--out", str(multi), "--workers", "1", *common)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    for name in ("178-juva.html", "178-juva-liite.csv"):
        assert (single / name).read_bytes() == (multi / name).read_bytes(), name


# -- real report notebook ------------------------------------------------------------------
def test_real_report_for_juva(tmp_path):
    out = tmp_path / "reports"
    r = run_uso("report", "Juva", "--out", str(out), "--timeout", "600")
    assert r.returncode == 0, r.stdout + r.stderr
    html = out / "178-juva.html"
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    assert soup.title.string == "Tilanneanalyysi: Juva" and soup.html["lang"] == "fi"
    toc = [a.get_text() for a in soup.find("nav", class_="toc").find_all("a")]
    assert {"Väestökehitys", "Kunnan talous", "Ympäristö"} <= set(toc)
    ids = {t["id"] for t in soup.find_all(id=True)}
    # a browser looks for a fragment as written, then percent-decoded ("#V%C3%A4est%C3%B6")
    assert all(a["href"][1:] in ids or unquote(a["href"][1:]) in ids
               for a in soup.find_all("a", href=True) if a["href"].startswith("#"))
    assert not soup.find_all("script")
    assert "output_stderr" not in str(soup)
    # the appendix holds the figures with their sources: Juva population 2021 = 5887
    import pandas as pd

    app = pd.read_csv(out / "178-juva-liite.csv", dtype={"kunta": str})
    pop = app[(app["indicator"] == "vaesto") & (app["kunta"] == "178") & (app["year"] == 2021)]
    assert pop["value"].tolist() == [5887.0] and pop["source"].str.contains("Tilastokeskus").all()


# -- command line errors -------------------------------------------------------------------
def test_unknown_municipality_stops_before_rendering(tmp_path):
    out = tmp_path / "reports"
    r = run_uso("report", "Juva", "Jyvaskyla-x", "--out", str(out))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Unknown municipality" in r.stderr and "Jyväskylä" in r.stderr
    assert not out.exists()


def test_no_target_is_a_clear_error():
    r = run_uso("report")
    assert r.returncode == 2 and "--members" in r.stderr and "--all" in r.stderr


# -- Dask ----------------------------------------------------------------------------------
def test_dask_cluster_renders_with_the_same_manifest(tmp_path):
    from dask.distributed import LocalCluster

    local, remote = tmp_path / "local", tmp_path / "dask"
    common = ["--notebook", str(NB / "mini.ipynb"), "--timeout", "120"]
    a = run_uso("report", "Juva", "Tornio", "--out", str(local), *common)
    assert a.returncode == 0, a.stderr
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      host="127.0.0.1", scheduler_port=0,
                      dashboard_address=":0") as cluster:
        b = run_uso("report", "Juva", "Tornio", "--out", str(remote), "--scheduler",
                    cluster.scheduler_address, *common)
    assert b.returncode == 0, b.stdout + b.stderr
    assert f"(Dask {cluster.scheduler_address})" in b.stdout
    ml, md = _manifest(local), _manifest(remote)
    assert set(md["reports"]) == {"178-juva", "851-tornio"} == set(ml["reports"])
    for key in md["reports"]:
        el, ed = ml["reports"][key], md["reports"][key]
        assert set(el) == set(ed)
        for field in ("status", "parameters", "template_hash", "data_hash", "code_hash",
                      "file", "appendix"):
            assert el[field] == ed[field], field
        # the same bytes (XLSX files carry their creation time, so not those)
        for name, digest in el["file_hashes"].items():
            if not name.endswith(".xlsx"):
                assert ed["file_hashes"][name] == digest, name
    assert md["run"]["scheduler"] == cluster.scheduler_address and md["run"]["workers"] == 2
    assert (remote / "index.html").is_file()


def test_out_must_be_a_writable_folder(tmp_path):
    not_a_dir = tmp_path / "reports"
    not_a_dir.write_text("x")
    r = run_uso("report", "Juva", "--out", str(not_a_dir), "--notebook",
                str(NB / "mini.ipynb"))
    assert r.returncode == 2 and "Cannot write into" in r.stderr and "--out" in r.stderr
    assert "Traceback" not in r.stderr


def test_one_run_at_a_time_per_folder(tmp_path):
    from uso_lib.factory.local import locked

    out = tmp_path / "reports"
    with locked(out):
        r = run_uso("report", "Juva", "--out", str(out), "--notebook", str(NB / "mini.ipynb"))
    assert r.returncode == 2 and "Another `uso report` run is writing into" in r.stderr
    assert not list(out.glob("*.html"))


def test_damaged_manifest_means_render_again(tmp_path):
    from uso_lib.factory.manifest import read_manifest

    (tmp_path / "manifest.json").write_text('{"format": 1, "reports": {"178-juva": {"st')
    manifest, warning = read_manifest(tmp_path)
    assert manifest["reports"] == {} and "could not be read" in warning
    assert "every report is rendered again" in warning


def test_disk_full_on_the_second_file_keeps_the_report_whole(tmp_path, monkeypatch):
    """#16: a report's page, appendix and manifest entry change together or not at all."""
    import errno

    from uso_lib import atomic, factory
    from uso_lib.errors import OutputError

    out = tmp_path / "reports"
    options = factory.Options(out=out, notebook=NB / "mini.ipynb", workers=1, force=True,
                              timeout=120, progress=False, index=False)
    assert factory.run(factory.plan_targets(["Juva"]), options).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}
    reports_before = _manifest(out)["reports"]
    assert {"178-juva.html", "178-juva-liite.csv", "178-juva-liite.xlsx"} <= set(before)

    class FullOnSecondFile:
        def __init__(self) -> None:
            self.writes = 0

        def __getattr__(self, name):
            return getattr(os, name)

        def fdopen(self, fd, *a, **kw):
            self.writes += 1
            if self.writes == 2:  # the appendix CSV went to its temporary; the XLSX fails
                os.close(fd)
                raise OSError(errno.ENOSPC, "No space left on device")
            return os.fdopen(fd, *a, **kw)

    monkeypatch.setattr(atomic, "os", FullOnSecondFile())
    with pytest.raises(OutputError) as info:
        factory.run(factory.plan_targets(["Juva"]), options)
    monkeypatch.undo()
    msg = str(info.value)
    assert msg.startswith("Cannot write the report 178-juva (178-juva-liite.xlsx): No space left "
                          "on device; no file of the set was replaced: ")
    assert ("178-juva-liite.csv, 178-juva-liite.xlsx, 178-juva.html, manifest.json are "
            "unchanged") in msg
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "manifest.json"}
    assert after == before  # the old page and appendix, and no temporary file
    assert _manifest(out)["reports"] == reports_before
