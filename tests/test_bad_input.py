"""The bad-input battery: every way a user, a file or a service can go wrong, one test per case.

Each test checks the four things a person at the terminal needs: a non-zero exit code, a message
that says what was wrong, where and what to do, no traceback, and no half-written output.

Command-line cases run the real ``uso`` in a subprocess. They are declared with ``@case`` next
to their test (a function that prepares its folder and returns the command) and all run once,
in parallel, when the module starts -- each is a Python start-up of a second or two, and run one
after the other they would take minutes. Library paths (PxWeb and Sotkanet answers, writes that
fail half-way) are called in-process against the local test server of :mod:`httpfake`.

Real figures: Juva (178) population 2021 = 5887 and 2022 = 5769 (Tilastokeskus, 11ra); the
recorded PxWeb answer 11re (Espoo 325716, Helsinki 694392, Vantaa 252956 in 2025).
"""

from __future__ import annotations

import errno
import inspect
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import httpfake
import pandas as pd
import pytest
from conftest import run_uso
from test_sources_pxweb import BASE, LIMITS, TABLE, answer_from, metadata_of

from uso_lib import atomic, config, refresh, regions
from uso_lib.errors import MergedMunicipality, OutputError, SourceError
from uso_lib.sources import files, pxweb
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter
from uso_lib.store import Store

NB = Path(__file__).resolve().parent / "notebooks"
pytestmark = pytest.mark.slow  # some 50 command runs (two renders); parallel, about a minute
SOURCE = "Tilastokeskus, StatFin 11ra"
HEADER = "kunta;vuosi;arvo;indikaattori;lahde\n"
SOTKA = "other/sotkanet_api_examples"
NETWORK_OK = "name: USO 7\nperiod: 2023-2024\nmembers:\n  - kunta: Juva\n"


# -- the command-line cases, run in parallel once per module -------------------------------
@dataclass
class Case:
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Ran:
    """A finished command: its result and the files it added to its folder."""

    proc: subprocess.CompletedProcess | None
    folder: Path
    new_files: list[str]

    @property
    def out(self) -> str:
        return self.proc.stdout + self.proc.stderr


@dataclass
class Ctx:
    raw: Path
    server_url: str


CASES: dict[str, Callable[[Path, Ctx], Case | None]] = {}


def case(fn: Callable[[Path, Ctx], Case | None]) -> Callable[[Path, Ctx], Case | None]:
    CASES[fn.__name__] = fn
    return fn


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _run(name: str, folder: Path, ctx: Ctx) -> Ran:
    c = CASES[name](folder, ctx)
    if c is None:  # the case cannot be set up here (its test skips and says why)
        return Ran(None, folder, [])
    before = _files(folder)
    env = {"USO_DATA_DIR": str(folder / "data"), "USO_CACHE_DIR": str(folder / "cache"),
           **c.env}
    proc = run_uso(*c.args, env=env, timeout=300)
    return Ran(proc, folder, sorted(_files(folder) - before))


@pytest.fixture(scope="module")
def server(raw_dir):
    """PxWeb with the recorded 11re answer (for the refresh through the command line)."""
    doc = json.loads((raw_dir / "statfin/api_examples/api-query-three-cities.json")
                     .read_text(encoding="utf-8"))
    with httpfake.FakeServer() as srv:
        srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
        srv.route("GET", TABLE, httpfake.Reply(json=metadata_of(doc)))
        srv.route("POST", TABLE, answer_from(doc))
        yield srv


@pytest.fixture(scope="module")
def cli(request, tmp_path_factory, raw_dir, server):
    """``cli(name)``: the finished command of a case. The cases the selected tests name are
    all started at once, in parallel; any other is started when asked for."""
    base = tmp_path_factory.mktemp("bad_input")
    ctx = Ctx(raw_dir, server.url)
    here = [i for i in request.session.items if i.module is request.module]
    named = "".join(inspect.getsource(i.function) for i in here)
    with ThreadPoolExecutor(max_workers=min(6, 2 * (os.cpu_count() or 1))) as pool:
        futures = {}

        def start(name: str) -> None:
            folder = base / name
            folder.mkdir()
            futures[name] = pool.submit(_run, name, folder, ctx)

        for name in CASES:
            if f'"{name}"' in named:
                start(name)

        def result(name: str) -> Ran:
            if name not in futures:
                start(name)
            return futures[name].result()

        try:
            yield result
        finally:
            wait(list(futures.values()))
            writable_again(base)


def assert_clean_error(r: Ran, *needles: str, code: int = 2) -> None:
    """Exit code, the message's parts, no traceback, nothing written."""
    assert r.proc.returncode == code, r.out
    assert "Traceback" not in r.out, r.out
    assert r.proc.stderr.startswith("uso: error: "), r.out
    for n in needles:
        assert n in r.proc.stderr, (n, r.proc.stderr)
    assert r.new_files == [], r.new_files


def _write(folder: Path, name: str, text: str) -> str:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return str(p)


# -- municipalities ------------------------------------------------------------------------
@case
def unknown_municipality(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "Atlantis"])


def test_unknown_municipality(cli):
    assert_clean_error(cli("unknown_municipality"), "Unknown municipality: 'Atlantis'",
                       "uso municipalities")


@case
def misspelt_name(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "Jyvaskyl"])


def test_misspelt_name_gets_suggestions(cli):
    assert_clean_error(cli("misspelt_name"), "'Jyvaskyl'", "Did you mean: Jyväskylä")


@case
def ambiguous_name(d, ctx):
    return Case(["compare", "Uusi"])  # Uusikaupunki or Uusikaarlepyy?


def test_ambiguous_name_lists_both_candidates(cli):
    assert_clean_error(cli("ambiguous_name"), "Unknown municipality: 'Uusi'",
                       "Uusikaupunki", "Uusikaarlepyy", "three-digit code")


@case
def code_too_short(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "17"])


def test_code_too_short(cli):
    assert_clean_error(cli("code_too_short"), "'17' is not a municipality code",
                       "three digits", "'178'")


@case
def code_too_long(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "KU1780"])


def test_code_too_long(cli):
    assert_clean_error(cli("code_too_long"), "'KU1780' is not a municipality code",
                       "'KU178'")


@case
def code_letters(d, ctx):
    return Case(["compare", "abc", "--indicator", "vaesto"])


def test_code_of_letters_is_neither_name_nor_code(cli):
    assert_clean_error(cli("code_letters"), "Unknown municipality: 'abc'",
                       "three-digit code", "uso municipalities")


@case
def code_of_no_municipality(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "000"])


def test_code_of_no_municipality(cli):
    assert_clean_error(cli("code_of_no_municipality"), "No municipality has the code '000'",
                       "2023 division", "uso municipalities")


@case
def merged_honkajoki(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "Honkajoki"])


def test_merged_municipality_points_to_its_successor(cli):
    assert_clean_error(cli("merged_honkajoki"), "Honkajoki (099)",
                       "merged into Kankaanpää (214) on 1.1.2021", "Use 'Kankaanpää'")


def test_pertunmaa_after_2025_points_to_mantyharju():
    reg = regions.registry(2025)
    with pytest.raises(MergedMunicipality) as info:
        reg.get("Pertunmaa")
    assert info.value.new_code == "507" and info.value.suggestions == ["Mäntyharju"]
    assert "merged into Mäntyharju (507) on 1.1.2025" in str(info.value)
    with pytest.raises(MergedMunicipality):
        reg.get("588")  # by its old code too
    assert regions.registry(2023).get("Pertunmaa").code == "588"  # still there in 2023


# -- peers -----------------------------------------------------------------------------------
@case
def peers_include_self(d, ctx):
    return Case(["compare", "Juva", "--peers", "Joroinen,juva", "--network", "none"])


def test_peer_list_containing_the_municipality_itself(cli):
    assert_clean_error(cli("peers_include_self"), "'--peers[2]'",
                       "Juva is the municipality being analysed", "Remove it")


@case
def peers_duplicate(d, ctx):
    return Case(["compare", "Juva", "--peers", "Joroinen,Rantasalmi,171", "--network", "none"])


def test_peer_list_with_a_duplicate(cli):
    assert_clean_error(cli("peers_duplicate"), "'--peers[3]'", "Joroinen (171) is listed twice",
                       "Give each comparison municipality once")


@case
def peers_unknown(d, ctx):
    return Case(["compare", "Juva", "--peers", "Joroinen,Rantasalmii", "--network", "none"])


def test_peer_list_with_an_unknown_name(cli):
    assert_clean_error(cli("peers_unknown"), "--peers, entry 2",
                       "Unknown municipality: 'Rantasalmii'", "Did you mean: Rantasalmi")


@case
def peers_empty(d, ctx):
    return Case(["compare", "Juva", "--peers", " , ", "--network", "none"])


def test_empty_peer_list(cli):
    assert_clean_error(cli("peers_empty"), "'--peers'", "The peer list is empty",
                       "leave --peers out")


def _network_with_peers(d: Path, peers: str) -> str:
    return _write(d, "network.yaml", "name: USO 7\nperiod: 2023-2024\nmembers:\n"
                  f"  - kunta: Tornio\n  - kunta: Juva\n    verrokit: [{peers}]\n")


@case
def network_peers_include_self(d, ctx):
    return Case(["compare", "Juva", "--network", _network_with_peers(d, "Joroinen, Juva")])


def test_network_peers_containing_the_member_itself(cli):
    r = cli("network_peers_include_self")
    assert_clean_error(r, "network.yaml, line 6", "members[1].verrokit[1]",
                       "Juva cannot be its own comparison municipality",
                       "Remove it from 'verrokit'")


@case
def network_peers_duplicate(d, ctx):
    return Case(["compare", "Juva", "--network", _network_with_peers(d, "Joroinen, '171'")])


def test_network_peers_with_a_duplicate(cli):
    assert_clean_error(cli("network_peers_duplicate"), "line 6", "members[1].verrokit[1]",
                       "Joroinen is listed twice", "Remove one")


@case
def network_peers_unknown(d, ctx):
    return Case(["compare", "Juva", "--network", _network_with_peers(d, "Joroinen, Atlantis")])


def test_network_peers_with_an_unknown_name(cli):
    assert_clean_error(cli("network_peers_unknown"), "line 6", "members[1].verrokit[1]",
                       "Unknown municipality: 'Atlantis'", "uso municipalities")


@case
def network_without_members(d, ctx):
    p = _write(d, "network.yaml", "name: USO 7\nperiod: 2023-2024\nmembers: []\n")
    return Case(["compare", "Juva", "--network", p])


def test_network_with_an_empty_member_list(cli):
    assert_clean_error(cli("network_without_members"), "network.yaml, line 3",
                       "'members'", "The network has no members",
                       "List at least one under 'members'")


# -- years and indicators --------------------------------------------------------------------
@case
def year_too_early(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "1900"])


def test_year_before_the_data(cli):
    assert_clean_error(cli("year_too_early"), "No 'vaesto' figure for 1900",
                       "the store has the years 1972–2025")


@case
def year_in_future(d, ctx):
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2090"])


def test_year_in_the_future(cli):
    assert_clean_error(cli("year_in_future"), "No 'vaesto' figure for 2090", "1972–2025")


@case
def compare_year_too_early(d, ctx):
    return Case(["compare", "Juva", "--year", "1900", "--network", "none"])


def test_compare_year_before_the_data(cli):
    r = cli("compare_year_too_early")
    assert_clean_error(r, "--year 1900 is outside the data", "1972–", "leave --year out")
    assert r.proc.stdout == ""  # not a table of 'ei tietoa' rows


@case
def compare_year_in_future(d, ctx):
    return Case(["compare", "Juva", "--year", "2090", "--network", "none"])


def test_compare_year_in_the_future(cli):
    assert_clean_error(cli("compare_year_in_future"), "--year 2090 is outside the data",
                       "Choose a year in that range")


@case
def compare_indicator_year(d, ctx):
    return Case(["compare", "Juva", "--indicator", "vaesto", "--year", "2090",
                 "--network", "none"])


def test_compare_one_indicator_year_in_the_future(cli):
    assert_clean_error(cli("compare_indicator_year"), "No 'vaesto' figures for 2090",
                       "1972–2025", "Choose one of those years")


@case
def unknown_indicator(d, ctx):
    return Case(["data", "get", "vaeston", "--kunta", "Juva"])


def test_unknown_indicator(cli):
    assert_clean_error(cli("unknown_indicator"), "Unknown indicator: 'vaeston'",
                       "Did you mean: vaesto", "uso indicators")


@case
def unknown_category(d, ctx):
    return Case(["data", "get", "aanestysaktiivisuus_kuntavaalit", "--kunta", "Juva",
                 "--category", "naiset"])


def test_unknown_breakdown_category(cli):
    assert_clean_error(cli("unknown_category"), "'naiset' is not a category of "
                       "'aanestysaktiivisuus_kuntavaalit'", "Its categories: m, n")


# -- the network parameter file --------------------------------------------------------------
@case
def params_yaml_syntax(d, ctx):
    p = _write(d, "network.yaml", "name: USO 7\nperiod: 2023-2024\nmembers:\n"
               "  - kunta: Juva\n    verrokit: [Joroinen\n  - kunta: Tornio\n")
    return Case(["report", "--members", "--params", p, "--out", str(d / "reports")])


def test_params_yaml_syntax_error_names_the_line(cli):
    assert_clean_error(cli("params_yaml_syntax"), "network.yaml, line 6", "YAML syntax error",
                       "Check the indentation and quoting")


@case
def params_missing_field(d, ctx):
    p = _write(d, "network.yaml", "name: USO 7\nmembers:\n  - kunta: Juva\n")
    return Case(["report", "--members", "--params", p, "--out", str(d / "reports")])


def test_params_missing_required_field(cli):
    assert_clean_error(cli("params_missing_field"), "network.yaml",
                       "The required field 'period' is missing")


@case
def params_wrong_type(d, ctx):
    p = _write(d, "network.yaml", NETWORK_OK + "    verrokit: 5\n")
    return Case(["compare", "Juva", "--network", p])


def test_params_wrong_type(cli):
    assert_clean_error(cli("params_wrong_type"), "network.yaml, line 5",
                       "members[0].verrokit", "Expected a list", "found a number")


@case
def params_bad_period(d, ctx):
    p = _write(d, "network.yaml", NETWORK_OK.replace("2023-2024", "2024-2023"))
    return Case(["compare", "Juva", "--network", p])


def test_params_period_that_ends_before_it_starts(cli):
    assert_clean_error(cli("params_bad_period"), "line 2", "'period'",
                       "The period ends (2023) before it starts (2024)")


@case
def params_empty(d, ctx):
    p = _write(d, "network.yaml", "")
    return Case(["report", "--members", "--params", p, "--out", str(d / "reports")])


def test_params_file_empty(cli):
    assert_clean_error(cli("params_empty"), "network.yaml", "The file is empty",
                       "'name', 'period' and 'members'")


@case
def params_missing_file(d, ctx):
    return Case(["compare", "Juva", "--network", str(d / "verkosto.yaml")])


def test_params_file_that_does_not_exist(cli):
    assert_clean_error(cli("params_missing_file"), "verkosto.yaml", "does not exist",
                       "Give the path of the network YAML")


# -- spreadsheets ----------------------------------------------------------------------------
def _import(d: Path, text: str) -> Case:
    return Case(["data", "import", _write(d, "juva.csv", text)])


@case
def sheet_missing_column(d, ctx):
    return _import(d, "kunta;vuosi;indikaattori;lahde\n" f"Juva;2021;vaesto;{SOURCE}\n")


def test_spreadsheet_missing_column(cli):
    r = cli("sheet_missing_column")
    assert_clean_error(r, "nothing was imported", "juva.csv, row 1, column 'arvo'",
                       "missing column", "uso-aineistopohja.csv")
    assert not (r.folder / "data" / "store").exists()


@case
def sheet_not_a_number(d, ctx):
    return _import(d, HEADER + f"Juva;2021;5 887;vaesto;{SOURCE}\n"
                   f"Juva;2022;viisi;vaesto;{SOURCE}\n")


def test_spreadsheet_non_numeric_value(cli):
    r = cli("sheet_not_a_number")
    assert_clean_error(r, "1 problem; nothing was imported", "row 3, column 'arvo'",
                       "'viisi' is not a number", "write e.g. 19,7 or 5887")
    assert not (r.folder / "data" / "store").exists()  # not even the good row 2


@case
def sheet_duplicate_row(d, ctx):
    return _import(d, HEADER + f"Juva;2021;5887;vaesto;{SOURCE}\n"
                   f"Juva;2022;5769;vaesto;{SOURCE}\n178;2021;5887;vaesto;{SOURCE}\n")


def test_spreadsheet_duplicated_row(cli):
    r = cli("sheet_duplicate_row")
    assert_clean_error(r, "juva.csv, row 4: duplicates row 2",
                       "same indicator, municipality, year and category")
    assert not (r.folder / "data" / "store").exists()


@case
def sheet_unknown_municipality(d, ctx):
    return _import(d, HEADER + f"Juvaa;2021;5887;vaesto;{SOURCE}\n")


def test_spreadsheet_unknown_municipality(cli):
    r = cli("sheet_unknown_municipality")
    assert_clean_error(r, "row 2, column 'kunta'", "Unknown municipality: 'Juvaa'",
                       "Did you mean: Juva")
    assert not (r.folder / "data" / "store").exists()


@case
def sheet_every_problem(d, ctx):
    return _import(d, HEADER + f"Atlantis;2021;5887;vaesto;{SOURCE}\n"
                   f"Juva;21;5887;vaesto;{SOURCE}\nJuva;2022;5769;vaeston;{SOURCE}\n"
                   "Juva;2022;5769;vaesto;\n")


def test_spreadsheet_reports_every_problem_at_once(cli):
    r = cli("sheet_every_problem")
    assert_clean_error(r, "4 problems; nothing was imported", "row 2, column 'kunta'",
                       "row 3, column 'vuosi'", "row 4, column 'indikaattori'",
                       "row 5, column 'lahde'")


@case
def sheet_not_a_spreadsheet(d, ctx):
    (d / "juva.xlsx").write_bytes(b"PK\x03\x04 half of a zip file")  # a truncated download
    return Case(["data", "import", str(d / "juva.xlsx")])


def test_spreadsheet_that_is_not_one(cli):
    r = cli("sheet_not_a_spreadsheet")
    assert_clean_error(r, "juva.xlsx: cannot read the spreadsheet", "save it again as .xlsx")
    assert not (r.folder / "data" / "store").exists()


# -- damaged data files ----------------------------------------------------------------------
def _snapshot_copy(d: Path) -> Path:
    snap = d / "snapshot"
    shutil.copytree(config.SNAPSHOT_DIR, snap)
    return snap


@case
def snapshot_part_missing(d, ctx):
    snap = _snapshot_copy(d)
    (snap / "population.parquet").unlink()
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021"],
                env={"USO_SNAPSHOT_DIR": str(snap)})


def test_snapshot_file_missing(cli):
    assert_clean_error(cli("snapshot_part_missing"), "snapshot", "is incomplete",
                       "population.parquet", "MANIFEST.json", "uso snapshot build")


@case
def snapshot_truncated(d, ctx):
    snap = _snapshot_copy(d)
    vital = snap / "vital.parquet"
    vital.write_bytes(vital.read_bytes()[:5000])
    return Case(["compare", "Juva", "--indicator", "vaesto", "--network", "none"],
                env={"USO_SNAPSHOT_DIR": str(snap)})


def test_snapshot_file_truncated(cli):
    assert_clean_error(cli("snapshot_truncated"), "The embedded snapshot is damaged",
                       "vital.parquet", "Reinstall uso", "uso snapshot build")


@case
def snapshot_empty(d, ctx):
    (d / "snapshot").mkdir()
    return Case(["data", "get", "vaesto", "--kunta", "Juva"],
                env={"USO_SNAPSHOT_DIR": str(d / "snapshot")})


def test_snapshot_folder_empty(cli):
    assert_clean_error(cli("snapshot_empty"), "The embedded snapshot is missing",
                       "uso snapshot build")


@case
def local_store_corrupt(d, ctx):
    store = d / "data" / "store"
    store.mkdir(parents=True)
    (store / "file-juva.parquet").write_bytes(b"PAR1 this is no parquet file")
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021"])


def test_corrupt_local_store_file_is_reported_and_the_snapshot_used(cli):
    r = cli("local_store_corrupt")
    assert r.proc.returncode == 0 and "Traceback" not in r.out
    assert "Väkiluku 31.12., Juva (178), 2021: 5\u00a0887\u00a0henkeä" in r.proc.stdout
    warning = r.proc.stderr
    assert warning.startswith("uso: warning: Cannot read store file")
    assert "file-juva.parquet" in warning and "snapshot figures are used instead" in warning
    assert "Delete the file" in warning
    assert r.new_files == []


@case
def local_store_corrupt_compare(d, ctx):
    local_store_corrupt(d, ctx)
    return Case(["compare", "Juva", "--indicator", "vaesto", "--network", "none", "--json"])


def test_corrupt_local_store_file_is_reported_by_compare(cli):
    r = cli("local_store_corrupt_compare")
    assert r.proc.returncode == 0 and "Traceback" not in r.out
    assert "file-juva.parquet" in r.proc.stderr and "skipped" in r.proc.stderr
    got = json.loads(r.proc.stdout)
    assert got["kunta"] == "178" and got["value"] > 0 and "Tilastokeskus" in got["source"]


@case
def http_cache_corrupt(d, ctx):
    cache = d / "cache"
    cache.mkdir()
    (cache / "http_cache.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    return Case(["data", "refresh", "--indicators", "vaesto"],
                env={"USO_PXWEB_URL": ctx.server_url + BASE})


def test_corrupt_http_cache_is_moved_aside_and_the_refresh_works(cli):
    r = cli("http_cache_corrupt")
    assert r.proc.returncode == 0, r.out
    assert "Traceback" not in r.out
    assert "HTTP cache" in r.proc.stdout and "moved it aside" in r.proc.stdout
    assert "1 of 1 indicator(s) refreshed" in r.proc.stdout
    aside = [f for f in r.new_files if ".corrupt-" in f]
    assert len(aside) == 1 and (r.folder / aside[0]).read_bytes().startswith(b"SQLite format")
    rows = pd.read_parquet(r.folder / "data" / "store" / "live-vaesto.parquet")
    got = dict(zip(rows["kunta"], rows["value"], strict=True))
    assert got == {"049": 325716.0, "091": 694392.0, "092": 252956.0}


# -- outputs that cannot be written ----------------------------------------------------------
@case
def out_below_a_file(d, ctx):
    (d / "reports").write_text("a file, not a folder")
    return Case(["report", "Juva", "--out", str(d / "reports" / "juva"),
                 "--notebook", str(NB / "mini.ipynb")])


def test_report_out_below_a_regular_file(cli):
    assert_clean_error(cli("out_below_a_file"), "Cannot write into", "reports/juva",
                       "Not a directory", "--out")


@case
def template_out_below_a_file(d, ctx):
    (d / "pohjat").write_text("a file, not a folder")
    return Case(["data", "template", "--out", str(d / "pohjat" / "pohja.xlsx")])


def test_template_out_below_a_regular_file(cli):
    assert_clean_error(cli("template_out_below_a_file"), "Cannot write", "pohja.xlsx",
                       "Not a directory", "--out")


@case
def import_store_below_a_file(d, ctx):
    (d / "data").write_text("a file, not a folder")
    return _import(d, HEADER + f"Juva;2021;5887;vaesto;{SOURCE}\n")


def test_import_into_a_store_that_cannot_be_written(cli):
    assert_clean_error(cli("import_store_below_a_file"), "Cannot write",
                       "file-juva.parquet", "nothing was written", "USO_DATA_DIR")


def read_only(folder: Path) -> Path | None:
    """A folder nobody may write into, root included: read-only mode for a normal user, the
    immutable attribute for root (CI runs as root, and chmod does not stop root). None where
    the file system cannot do it; :func:`writable_again` undoes it."""
    ro = folder / "readonly"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        return ro
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", str(ro)], capture_output=True).returncode == 0:
        return ro
    return None


def writable_again(base: Path) -> None:
    for ro in base.glob("*/readonly"):
        if os.geteuid() != 0:
            ro.chmod(0o755)
        else:
            subprocess.run([shutil.which("chattr") or "chattr", "-i", str(ro)],
                           capture_output=True)


def _needs_read_only(r: Ran) -> None:
    if r.proc is None:
        pytest.skip("this file system cannot make a folder read-only for root (chattr +i)")


@case
def report_out_read_only(d, ctx):
    ro = read_only(d)
    return ro and Case(["report", "Juva", "--out", str(ro / "reports"), "--notebook",
                        str(NB / "mini.ipynb")])


def test_report_out_in_a_read_only_folder(cli):
    r = cli("report_out_read_only")
    _needs_read_only(r)
    assert_clean_error(r, "Cannot write into", "readonly/reports", "--out")


@case
def template_out_read_only(d, ctx):
    ro = read_only(d)
    return ro and Case(["data", "template", "--out", str(ro / "pohja.xlsx")])


def test_template_into_a_read_only_folder(cli):
    r = cli("template_out_read_only")
    _needs_read_only(r)
    assert_clean_error(r, "Cannot write", "readonly/pohja.xlsx", "--out")


class _FailingOs:
    """``os`` for :mod:`uso_lib.atomic` whose file writes fail after half the bytes, as a full
    disk or a revoked permission does."""

    def __init__(self, error: OSError) -> None:
        self.error = error

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, mode="r", *a, **kw):
        fh = os.fdopen(fd, mode, *a, **kw)
        error = self.error

        class Half:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                fh.close()

            def write(self, data):
                fh.write(data[: len(data) // 2])
                fh.flush()
                raise error
        return Half()


def _write_fails(monkeypatch, error: OSError) -> None:
    monkeypatch.setattr(atomic, "os", _FailingOs(error))


def test_report_write_permission_denied_in_process(tmp_path, monkeypatch):
    old = "<html><body>Juva, edellinen raportti</body></html>"
    (tmp_path / "178-juva.html").write_text(old, encoding="utf-8")
    _write_fails(monkeypatch, PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(OutputError) as info:
        atomic.atomic_write(tmp_path / "178-juva.html", "<html>" + "uusi " * 1000 + "</html>")
    assert "Cannot write" in str(info.value) and "Permission denied" in str(info.value)
    assert "nothing was written" in str(info.value) and "permissions" in str(info.value)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["178-juva.html"]
    assert (tmp_path / "178-juva.html").read_text(encoding="utf-8") == old


def test_report_disk_full_in_process(tmp_path, monkeypatch):
    old = "<html><body>Juva, edellinen raportti</body></html>"
    (tmp_path / "178-juva.html").write_text(old, encoding="utf-8")
    _write_fails(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OutputError, match="No space left on device") as info:
        atomic.atomic_write(tmp_path / "178-juva.html", b"<html>" + b"x" * 100_000)
    assert "free disk space" in str(info.value)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["178-juva.html"]  # no temporary file
    assert (tmp_path / "178-juva.html").read_text(encoding="utf-8") == old  # old one intact


def test_batch_disk_full_keeps_the_previous_reports(tmp_path, monkeypatch):
    from uso_lib import factory as batch
    from uso_lib.factory.jobs import STOPPING

    out = tmp_path / "reports"
    options = batch.Options(out=out, notebook=NB / "mini.ipynb", workers=1, force=True,
                            timeout=120, progress=False)
    assert batch.run(batch.plan_targets(["Juva"]), options).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "178-juva.html" in before and "178-juva-liite.csv" in before
    _write_fails(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(OutputError, match="No space left on device") as info:
        batch.run(batch.plan_targets(["Juva"]), options)  # --force: everything is rewritten
    assert "no file of the set was replaced" in str(info.value)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no file touched
    # the stopped run leaves no stop flag behind for the next jobs of this process
    assert not STOPPING.is_set()


def _sheet(tmp_path: Path, rows: str) -> Path:
    p = tmp_path / "juva.csv"
    p.write_text(HEADER + rows, encoding="utf-8")
    return p


def _half_parquet(error: OSError):
    real = pd.DataFrame.to_parquet

    def write(self, path, *a, **kw):
        real(self, path, *a, **kw)
        Path(path).write_bytes(Path(path).read_bytes()[:100])  # half a file on disk ...
        raise error  # ... when the disk fills up
    return write


def test_import_disk_full_keeps_the_earlier_import(tmp_path, monkeypatch):
    st = Store("local", local_dir=tmp_path / "store")
    files.import_file(_sheet(tmp_path, f"Juva;2021;5887;vaesto;{SOURCE}\n"), store=st)
    monkeypatch.setattr(pd.DataFrame, "to_parquet",
                        _half_parquet(OSError(errno.ENOSPC, "No space left on device")))
    sheet = _sheet(tmp_path, f"Juva;2021;5887;vaesto;{SOURCE}\nJuva;2022;5769;vaesto;{SOURCE}\n")
    with pytest.raises(OutputError, match="No space left on device") as info:
        files.import_file(sheet, store=st)
    assert "earlier file of that name is unchanged" in str(info.value)
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "store").iterdir()] == ["file-juva.parquet"]
    kept = pd.read_parquet(tmp_path / "store" / "file-juva.parquet")
    assert kept["year"].tolist() == [2021] and kept["value"].tolist() == [5887.0]


def test_import_permission_denied_in_process(tmp_path, monkeypatch):
    st = Store("local", local_dir=tmp_path / "store")
    monkeypatch.setattr(pd.DataFrame, "to_parquet",
                        _half_parquet(PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(OutputError, match="Permission denied") as info:
        files.import_file(_sheet(tmp_path, f"Juva;2021;5887;vaesto;{SOURCE}\n"), store=st)
    assert "USO_DATA_DIR" in str(info.value)
    assert list((tmp_path / "store").iterdir()) == []


# -- a template notebook that raises in one cell ---------------------------------------------
@case
def notebook_raises(d, ctx):
    return Case(["report", "Juva", "Imatra", "--out", str(d / "reports"), "--notebook",
                 str(NB / "faults.ipynb"), "--workers", "1", "--timeout", "120"],
                env={"USO_TEST_FAULTS": json.dumps({"153": "raise"})})


def test_notebook_cell_raising_is_named_and_the_batch_continues(cli):
    r = cli("notebook_raises")
    assert r.proc.returncode == 1, r.out
    assert "Traceback" not in r.out
    line = next(ln for ln in r.proc.stdout.splitlines() if ln.startswith("153"))
    assert "Imatra" in line and "FAILED (error)" in line
    assert "cell 5" in line and "ZeroDivisionError: division by zero" in line
    assert "1 rendered, 1 failed" in r.proc.stdout
    reports = sorted(f for f in r.new_files if f.startswith("reports/"))
    assert "reports/178-juva.html" in reports and "reports/index.html" in reports
    assert not any("153" in f for f in reports)  # nothing of Imatra's report
    assert not any(f.endswith(".tmp") for f in reports)
    manifest = json.loads((r.folder / "reports" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"]["153-imatra"]["cell"] == 5


# -- PxWeb and Sotkanet answers (library, against the local server) --------------------------
@pytest.fixture
def doc(raw_dir):
    return json.loads((raw_dir / "statfin/api_examples/api-query-three-cities.json")
                      .read_text(encoding="utf-8"))


def _client(name: str, url: str, **kw) -> HttpClient:
    return HttpClient(name, url, sleep=lambda s: None, backoff=0.0,
                      limiter=RateLimiter(1000, 1), cache=HttpCache(), **kw)


def _refresh_pxweb(tmp_path, doc, reply, **client_kw):
    """``uso data refresh --indicators vaesto`` with the data POST answered by ``reply``."""
    with httpfake.FakeServer() as srv:
        srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
        srv.route("GET", TABLE, httpfake.Reply(json=metadata_of(doc)))
        srv.route("POST", TABLE, reply)
        client = _client("PxWeb", srv.url + BASE, **client_kw)
        st = Store("local", local_dir=tmp_path / "store")
        report = refresh.refresh(["vaesto"], store=st,
                                 services=refresh.make_services(clients={"pxweb": client}))
        posts = len(srv.calls("POST", TABLE))
    assert report.all_failed and not report.written
    assert not (tmp_path / "store").exists()  # nothing written, not even an empty file
    [res] = report.results
    assert res.indicator == "vaesto" and "PxWeb table StatFin/11re" in res.error
    return res.error, posts


def test_pxweb_400(tmp_path, doc):
    err, posts = _refresh_pxweb(tmp_path, doc,
                                httpfake.Reply(400, json={"error": "Bad request"}))
    assert "HTTP 400" in err and "renamed" in err and "catalogue definition" in err
    assert posts == 1  # a client error is not retried


def test_pxweb_403(tmp_path, doc):
    err, posts = _refresh_pxweb(tmp_path, doc, httpfake.Reply(403, body="Forbidden"))
    assert "HTTP 403" in err and "refused access" in err and "try again later" in err
    assert posts == 1


def test_pxweb_429_repeatedly(tmp_path, doc):
    err, posts = _refresh_pxweb(tmp_path, doc, httpfake.Reply(
        429, json={"error": "Too many requests"}, headers={"Retry-After": "2"}))
    assert "HTTP 429" in err and "after 4 attempts" in err
    assert "no cached copy" in err and "wait a few minutes" in err
    assert posts == 4


def test_pxweb_500(tmp_path, doc):
    err, posts = _refresh_pxweb(tmp_path, doc, httpfake.Reply(500, json={"error": "boom"}))
    assert "HTTP 500" in err and "after 4 attempts" in err and "try again" in err
    assert posts == 4


def test_pxweb_time_out(tmp_path, doc):
    def slow(rec):
        time.sleep(1.0)
        return httpfake.Reply(json=doc)
    err, posts = _refresh_pxweb(tmp_path, doc, slow, read_timeout=0.2)
    assert "no answer from 127.0.0.1" in err and "within 0.2 s" in err
    assert "after 4 attempts" in err and "Check the network connection" in err


def test_pxweb_html_instead_of_json(tmp_path, doc):
    err, _ = _refresh_pxweb(tmp_path, doc, httpfake.Reply(
        body="<html><body><h1>Huoltokatko</h1></body></html>",
        headers={"Content-Type": "text/html"}))
    assert "not valid JSON" in err and "<html><body><h1>Huoltokatko" in err
    assert "try again later" in err


def test_pxweb_truncated_json(tmp_path, doc):
    err, _ = _refresh_pxweb(tmp_path, doc, httpfake.Reply(body=json.dumps(doc)[:300]))
    assert "not valid JSON" in err and "character" in err and "at at" not in err


def test_pxweb_jsonstat_with_wrong_size(tmp_path, doc):
    err, _ = _refresh_pxweb(tmp_path, doc, httpfake.Reply(json={**doc, "size": [5, 1, 1, 1, 1]}))
    assert "has 3 cells, its size says 5" in err and "none of it is used" in err


def test_pxweb_jsonstat_with_size_of_wrong_length(tmp_path, doc):
    err, _ = _refresh_pxweb(tmp_path, doc, httpfake.Reply(json={**doc, "size": [3, 1]}))
    assert "'id' and 'size' do not match" in err and "5 dimensions but 2 sizes" in err


def test_pxweb_decode_refuses_wrong_size_directly(doc):
    with pytest.raises(SourceError, match=r"11re: the json-stat2 answer has 3 cells"):
        pxweb.decode({**doc, "size": [2, 1, 1, 1, 1]}, what="11re")


@pytest.fixture
def sotka_regions(raw_dir):
    return json.loads((raw_dir / SOTKA / "SotkaRegions.json").read_text(encoding="utf-8"))


def _refresh_sotkanet(tmp_path, regions_doc, data_reply):
    """``uso data refresh --indicators syrjaytymisriski_nuoret`` (Sotkanet 3219)."""
    with httpfake.FakeServer() as srv:
        srv.route("GET", "/rest/1.1/regions", httpfake.Reply(json=regions_doc))
        srv.route("GET", "/rest/1.1/indicators/3219", httpfake.Reply(json={
            "id": 3219, "range": {"start": 2019, "end": 2023}}))
        srv.route("GET", "/rest/1.1/json", data_reply)
        client = _client("Sotkanet", srv.url + "/rest/1.1")
        st = Store("local", local_dir=tmp_path / "store")
        report = refresh.refresh(["syrjaytymisriski_nuoret"], store=st,
                                 services=refresh.make_services(clients={"sotkanet": client}))
        calls = srv.calls("GET", "/rest/1.1/json")
    assert report.all_failed and not report.written
    assert not (tmp_path / "store").exists()
    [res] = report.results
    return res.error, calls


def test_sotkanet_403(tmp_path, sotka_regions):
    err, calls = _refresh_sotkanet(tmp_path, sotka_regions, httpfake.Reply(403, body="Forbidden"))
    assert "Sotkanet indicator 3219" in err and "HTTP 403" in err and "refused access" in err
    assert len(calls) == 1


def test_sotkanet_empty_list(tmp_path, sotka_regions):
    err, calls = _refresh_sotkanet(tmp_path, sotka_regions, httpfake.Reply(json=[]))
    assert err == "the answer held no municipal figures"
    # the all-genders fallback was tried before giving up
    assert [c.params.get("genders") for c in calls] == [["total"], None]
    assert calls[0].params["years"] == ["2019", "2020", "2021", "2022", "2023"]


# -- #16: implausible figures, status symbols, import order, YAML as written ------------------
@case
def sheet_infinite_value(d, ctx):
    return _import(d, HEADER + f"Juva;2021;1e309;vaesto;{SOURCE}\n")


def test_spreadsheet_value_1e309_is_refused(cli):
    r = cli("sheet_infinite_value")
    assert_clean_error(r, "juva.csv: 1 problem; nothing was imported",
                       "juva.csv, row 2, column 'arvo': inf is not a finite number")
    assert not (r.folder / "data" / "store").exists()


@case
def sheet_population_1e308(d, ctx):
    return _import(d, HEADER + f"Juva;2021;5887;vaesto;{SOURCE}\n"
                   f"Juva;2022;1e308;vaesto;{SOURCE}\n")


def test_spreadsheet_population_of_1e308_is_refused(cli):
    r = cli("sheet_population_1e308")
    assert_clean_error(r, "row 3, column 'arvo': 1e+308 is outside the plausible range",
                       "0-10 000 000")
    assert not (r.folder / "data" / "store").exists()  # not even the good row 2


@case
def sheet_negative_population(d, ctx):
    return _import(d, HEADER + f"Juva;2021;-5000;vaesto;{SOURCE}\n")


def test_spreadsheet_negative_population_is_refused(cli):
    assert_clean_error(cli("sheet_negative_population"),
                       "row 2, column 'arvo': -5 000 is outside the plausible range")


@case
def sheet_population_in_2100(d, ctx):
    return _import(d, HEADER + f"Juva;2100;5887;vaesto;{SOURCE}\n")


def test_spreadsheet_population_in_2100_is_refused(cli):
    assert_clean_error(cli("sheet_population_in_2100"), "row 2, column 'vuosi'",
                       "2100 is in the future", "only projections have figures for years")


@case
def sheet_projection_2040(d, ctx):
    return _import(d, HEADER + f"Juva;2040;4321;vaestoennuste;{SOURCE}\n")


def test_spreadsheet_projection_for_2040_is_accepted(cli):
    r = cli("sheet_projection_2040")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    assert "Imported 1 row(s) from juva.csv" in r.proc.stdout
    rows = pd.read_parquet(r.folder / "data" / "store" / "file-juva.parquet")
    assert rows[["indicator", "kunta", "year", "value"]].values.tolist() == [
        ["vaestoennuste", "178", 2040, 4321.0]]


@case
def sheet_bad_status(d, ctx):
    return _import(d, "kunta;vuosi;arvo;indikaattori;lahde;tila\n"
                   f"Juva;2021;;vaesto;{SOURCE};n/a\n")


def test_spreadsheet_status_that_is_no_publishers_symbol(cli):
    assert_clean_error(cli("sheet_bad_status"), "row 2, column 'tila'",
                       "'n/a' is not a publisher's status symbol", "'..' = not available")


@case
def sheet_share_150(d, ctx):
    return _import(d, HEADER + f"Juva;2021;150;alle15_osuus;{SOURCE}\n")


def test_spreadsheet_share_of_150_percent_is_refused(cli):
    assert_clean_error(cli("sheet_share_150"), "row 2, column 'arvo': 150 is outside",
                       "a share in per cent lies within 0-100")


@case
def two_imports_newest_wins(d, ctx):
    env = {"USO_DATA_DIR": str(d / "data"), "USO_CACHE_DIR": str(d / "cache")}
    # z.csv first, a.csv a moment later: alphabetically z would win
    for name, value in (("z.csv", 5800), ("a.csv", 5887)):
        sheet = _write(d, name, HEADER + f"Juva;2021;{value};vaesto;{SOURCE}\n")
        assert run_uso("data", "import", sheet, env=env).returncode == 0
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021", "--origin"])


def test_two_files_importing_one_figure_the_newest_wins(cli):
    r = cli("two_imports_newest_wins")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    assert "Juva (178), 2021: 5\u00a0887\u00a0henkeä" in r.proc.stdout
    assert "Origin: imported from a.csv on " in r.proc.stdout


def _odd_store(d: Path) -> None:
    """A local store file written before the checks existed: Juva's 2021 population infinite,
    Helsinki's negative, and a population for 2100."""
    store = d / "data" / "store"
    store.mkdir(parents=True)
    odd = [("178", 2021, float("inf")), ("091", 2021, -5000.0), ("178", 2100, 5887.0)]
    pd.DataFrame([{"indicator": "vaesto", "kunta": k, "year": y, "category": "", "value": v,
                   "status": "", "source": "Vanha tuonti", "table": "vanha.csv",
                   "vintage": "2026-01-01", "origin": "file", "retrieved": "2026-01-01"}
                  for k, y, v in odd]).to_parquet(store / "file-vanha.parquet", index=False)


@case
def odd_figures_in_store_get(d, ctx):
    _odd_store(d)
    return Case(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021", "--json"])


def test_infinite_figure_already_in_the_store_is_shown_as_missing(cli):
    r = cli("odd_figures_in_store_get")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    got = json.loads(r.proc.stdout)  # no "Infinity" in the JSON
    assert got["value"] is None and got["file"] == "vanha.csv"
    assert r.proc.stderr.startswith("uso: warning: store/file-vanha.parquet: 3 implausible "
                                    "figures shown as missing")
    assert "inf is not a finite number" in r.proc.stderr
    assert "-5 000 is outside the plausible range" in r.proc.stderr
    assert str(r.folder) not in r.out  # the data directory is not named in full


@case
def odd_figures_in_store_compare(d, ctx):
    _odd_store(d)
    return Case(["compare", "Juva", "--indicator", "vaesto", "--network", "none", "--json"])


def test_odd_figures_in_the_store_do_not_break_a_comparison(cli):
    # before #16, 2100 became the latest year and Helsinki's -5000 pulled the averages down
    r = cli("odd_figures_in_store_compare")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    got = json.loads(r.proc.stdout)
    assert got["year"] == 2025 and got["value"] == 5569.0  # the snapshot's latest (11ra)
    assert "implausible figures shown as missing" in r.proc.stderr


def _network(d: Path, members: str) -> str:
    return _write(d, "network.yaml", f"name: USO 7\nperiod: 2023-2024\nmembers:\n{members}")


@case
def network_code_with_leading_zero(d, ctx):
    p = _network(d, "  - kunta: 020\n    verrokit: [046, 178]\n")
    return Case(["compare", "Akaa", "--indicator", "vaesto", "--network", p, "--json"])


def test_unquoted_020_in_the_network_file_is_akaa_not_asikkala(cli):
    # YAML 1.1 reads 020 as octal 16 (Asikkala), and 046 as 38 ("no municipality has '038'")
    r = cli("network_code_with_leading_zero")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    got = json.loads(r.proc.stdout)
    assert got["kunta"] == "020" and got["peers"]["method"] == "params"
    assert [p["code"] for p in got["peers"]["peers"]] == ["046", "178"]


def _alias_bomb(d: Path) -> str:
    levels = "".join(f"{k}: &{k} [" + ", ".join([f"*{p}"] * 9 if p else ['"lol"'] * 9) + "]\n"
                     for p, k in zip([None, *"abcdefgh"], "abcdefghi", strict=True))
    return _write(d, "network.yaml", "name: USO 7\nperiod: 2023-2024\n" + levels
                  + "members:\n  - kunta: *i\n")


@case
def network_alias_bomb(d, ctx):
    return Case(["compare", "Juva", "--network", _alias_bomb(d)])


def test_yaml_alias_bomb_is_refused(cli):
    assert_clean_error(cli("network_alias_bomb"), "network.yaml, line",
                       "expand this file to more than 100 000 values", "alias bomb")


def test_refresh_answer_with_a_negative_population_is_refused(tmp_path, doc):
    # the recorded 11re answer (Espoo, Helsinki, Vantaa 2025) with Helsinki's figure negated
    bad = {**doc, "value": [v if i != 1 else -v for i, v in enumerate(doc["value"])]}
    with httpfake.FakeServer() as srv:
        srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
        srv.route("GET", TABLE, httpfake.Reply(json=metadata_of(doc)))
        srv.route("POST", TABLE, httpfake.Reply(json=bad))
        client = _client("PxWeb", srv.url + BASE)
        st = Store("local", local_dir=tmp_path / "store")
        report = refresh.refresh(["vaesto"], store=st,
                                 services=refresh.make_services(clients={"pxweb": client}))
    [res] = report.results
    assert res.origin == "failed" and not report.written
    assert res.error.startswith("live-vaesto: 1 problem with its figures, nothing of it was "
                                "written: table 11re, vaesto, kunta 091, year 2025: "
                                "-694 392 is outside the plausible range")
    assert not (tmp_path / "store").exists()


# -- #16: no local paths in reports, appendix safety -----------------------------------------
@case
def corrupt_store_report_summary(d, ctx):
    local_store_corrupt(d, ctx)
    return Case(["report", "Juva", "--aineisto", "local", "--out", str(d / "reports"),
                 "--notebook", str(NB / "mini.ipynb"), "--workers", "1", "--no-progress"])


def test_corrupt_store_file_is_a_warning_in_the_run_summary(cli):
    r = cli("corrupt_store_report_summary")
    assert r.proc.returncode == 0 and "Traceback" not in r.out, r.out
    assert ("uso: warning: Cannot read store file store/file-juva.parquet: " in r.proc.stderr
            and "-- skipped; the snapshot figures are used instead" in r.proc.stderr)
    assert str(r.folder) not in r.proc.stderr  # named relative to the data directory
    assert "1 rendered, 0 failed" in r.proc.stdout


def test_corrupt_store_file_note_in_a_report_names_no_local_path(tmp_path):
    from uso_lib import report

    store = config.data_dir() / "store"
    store.mkdir(parents=True)
    (store / "file-juva.parquet").write_bytes(b"PAR1 this is no parquet file")
    r = report.start("Juva", aineisto="local")
    html = report.cover(r).data
    assert "Paikallinen tietovarasto (USO_DATA_DIR): Cannot read store file " \
           "store/file-juva.parquet" in html
    assert str(config.data_dir()) not in html and str(tmp_path.parent) not in html


def test_csv_appendix_neutralises_formulas_and_keeps_numbers(tmp_path):
    from uso_lib.report import appendix

    df = pd.DataFrame({"indicator": ["hyte_kerroin"] * 4, "kunta": ["178"] * 4,
                       "year": [2021, 2022, 2023, 2024], "value": [61.0, -2.5, 70.0, None],
                       "status": ["", "", "", "-"],
                       "source": ["=1+1", "=cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1"],
                       "table": ["+hyte.csv", "-2+3+cmd|' /C calc'!A0", "hyte.csv", "-5"]})
    csv_path, xlsx_path = appendix.write(df, tmp_path / "liite")
    got = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert got["source"].tolist() == ["'=1+1", "'=cmd|' /C calc'!A0", "'@SUM(A1:A9)",
                                      "'\t=1+1"]
    assert got["table"].tolist() == ["'+hyte.csv", "'-2+3+cmd|' /C calc'!A0", "hyte.csv", "-5"]
    assert got["status"].tolist() == ["", "", "", "-"]  # the nil symbol stays itself
    # numbers stay numbers (no quote), a missing value an empty cell
    assert got["value"].tolist() == ["61.0", "-2.5", "70.0", ""]
    assert got["year"].tolist() == ["2021", "2022", "2023", "2024"]
    assert pd.read_excel(xlsx_path, engine="openpyxl")["source"].tolist()[0] == "=1+1"  # text


def test_formatting_an_absurd_figure_does_not_stop_a_report():
    # inf and 1e308 used to end a report in decimal.InvalidOperation (Decimal's 28 digits)
    from uso_lib import fmt

    assert fmt.number(float("inf")) == fmt.MISSING == fmt.with_unit(float("-inf"), "%", 1)
    assert fmt.number(1e308, 1).startswith("100\u00a0000\u00a0000")
    assert fmt.number(1e28) == "10\u00a0000\u00a0000\u00a0000\u00a0000\u00a0000\u00a0000" \
                               "\u00a0000\u00a0000\u00a0000"
    assert fmt.number(5887) == "5\u00a0887" and fmt.number(3.25, 1) == "3,3"


def test_sotkanet_answer_with_a_share_over_100_percent_is_refused(tmp_path, sotka_regions):
    # Isojoki (Sotkanet region 69, code 151) served 1e308 % of young people outside education
    row = {"indicator": 3219, "region": 69, "year": 2021, "gender": "total", "value": 1e308,
           "absValue": None}
    rows = [row, {**row, "year": 2022, "value": 7.9}]
    err, _ = _refresh_sotkanet(tmp_path, sotka_regions, httpfake.Reply(json=rows))
    assert err.startswith("live-syrjaytymisriski_nuoret: 1 problem with its figures, nothing "
                          "of it was written: table Sotkanet 3219, syrjaytymisriski_nuoret, "
                          "kunta 151, year 2021: 1e+308 is outside the plausible range (a "
                          "share in per cent lies within 0-100)")


def test_json_output_never_prints_infinity(capsys):
    from uso_lib.cli._output import print_json

    print_json({"value": float("inf"), "values": [float("-inf"), 5887.0, float("nan")]})
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    assert json.loads(out) == {"value": None, "values": [None, 5887.0, None]}


def test_figures_summed_over_a_merger_keep_a_publishers_status_symbol():
    # Jalasjärvi (164) merged into Kurikka (301) in 2016: a 2015 sum of a nil ("-") and a
    # missing ("..") part used to get the joined symbol "-.", which no publisher uses
    from uso_lib.sources.common import map_regions

    frame = pd.DataFrame({"kunta": ["164", "301"], "year": [2015, 2015],
                          "value": [float("nan"), float("nan")], "status": ["-", ".."]})
    out, notes = map_regions(frame, kind="count", division=2015, what="11ra")
    assert out[["kunta", "status"]].values.tolist() == [["301", ".."]]
    assert "summed into 301" in notes[-1]
