"""The spreadsheet loader: the shipped template, row-by-row validation naming file, row and
column, CSV and XLSX, and the import into the local store (origin 'file').

Figures are real: Juva (178) population 2021 = 5887 and 2022 = 5769 (Tilastokeskus)."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest
from conftest import write_catalog
from openpyxl import Workbook, load_workbook

from uso_lib import catalog, config, plausible
from uso_lib.cli import main
from uso_lib.errors import DataError, UnknownIndicator
from uso_lib.sources import files
from uso_lib.store import Store, normalize

HEADER = "kunta;vuosi;arvo;indikaattori;lahde;kategoria;tila\n"
SOURCE = "Tilastokeskus, StatFin 11ra"


@pytest.fixture
def cat(tmp_path):
    return write_catalog(tmp_path, [
        {"id": "vaesto", "theme": "vaestokehitys", "row": "1", "label": "Väkiluku",
         "unit": "henkeä", "kind": "count"},
        {"id": "vaesto_ika", "theme": "vaestokehitys", "row": "1", "label": "Väestö iän mukaan",
         "unit": "henkeä", "kind": "count", "categories": {"0-14": "0-14-vuotiaat"}},
    ])


def write(tmp_path, text, name="juva.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_templates_have_the_columns():
    csv = files.template_path("csv").read_text(encoding="utf-8").splitlines()
    assert csv == [HEADER.strip()]
    wb = load_workbook(files.template_path("xlsx"))
    assert [c.value for c in wb["aineisto"][1]] == list(files.COLUMNS)
    assert wb["aineisto"].max_row == 1  # empty: no figures in the template
    assert "ohje" in wb.sheetnames


def test_empty_template_is_rejected_clearly(cat):
    with pytest.raises(DataError, match="no data rows"):
        files.load(files.template_path("csv"), cat=cat)


def test_valid_csv_with_name_code_decimal_comma_and_status(tmp_path, cat):
    p = write(tmp_path, HEADER
              + f"Juva;2021;5 887;vaesto;{SOURCE};;\n"
              + f"178;2022;5769,0;vaesto;{SOURCE};;\n"
              + f"KU178;2023;;vaesto;{SOURCE};;..\n"
              + ";;;;;;\n")
    loaded = files.load(p, cat=cat)
    df = loaded.frame.set_index("year")
    assert list(df.index) == [2021, 2022, 2023]
    assert df.loc[2021, "value"] == 5887.0 and df.loc[2022, "value"] == 5769.0
    assert math.isnan(df.loc[2023, "value"]) and df.loc[2023, "status"] == ".."
    assert set(df["kunta"]) == {"178"} and set(df["origin"]) == {"file"}
    assert set(df["source"]) == {SOURCE} and set(df["table"]) == {"juva.csv"}


def test_bad_rows_are_reported_with_file_row_and_column(tmp_path, cat):
    p = write(tmp_path, HEADER
              + f"Juvaa;2021;5887;vaesto;{SOURCE};;\n"       # row 2: misspelt name
              + f"178;2021;viisi;vaesto;{SOURCE};;\n"        # row 3: not a number
              + f"178;21;5887;vaesto;{SOURCE};;\n"           # row 4: not a year
              + f"178;2022;5769;vaesto;{SOURCE};;\n"         # row 5: fine
              + f"178;2022;5769;vaesto;{SOURCE};;\n"         # row 6: duplicate of row 5
              + "178;2021;;vaesto;;;\n"                      # row 7: no value, no source
              + f"178;2021;12;vaesto_ika;{SOURCE};99-;\n"    # row 8: unknown category
              + f"178;2021;12;vaestoo;{SOURCE};;\n")         # row 9: unknown indicator
    with pytest.raises(files.SpreadsheetError) as info:
        files.load(p, cat=cat)
    msg = str(info.value)
    assert "nothing was imported" in msg
    assert "juva.csv, row 2, column 'kunta'" in msg and "Did you mean: Juva" in msg
    assert "juva.csv, row 3, column 'arvo': 'viisi' is not a number" in msg
    assert "row 4, column 'vuosi'" in msg
    assert "juva.csv, row 6: duplicates row 5" in msg
    assert "row 7, column 'arvo'" in msg and "never taken as 0" in msg
    assert "row 7, column 'lahde'" in msg
    assert "row 8, column 'kategoria'" in msg and "0-14" in msg
    assert "row 9, column 'indikaattori'" in msg and "vaesto" in msg
    assert [(p.row, p.column) for p in info.value.problems][:2] == [(2, "kunta"), (3, "arvo")]


def test_missing_column_is_named(tmp_path, cat):
    p = write(tmp_path, "kunta;vuosi;arvo;indikaattori\n178;2021;5887;vaesto\n")
    with pytest.raises(files.SpreadsheetError, match=r"row 1, column 'lahde': missing column"):
        files.load(p, cat=cat)


def test_merged_municipality_is_explained(tmp_path, cat):
    p = write(tmp_path, HEADER + f"Honkajoki;2021;1;vaesto;{SOURCE};;\n")
    with pytest.raises(files.SpreadsheetError, match="Kankaanpää"):
        files.load(p, cat=cat)


def test_indicator_option_fills_the_column(tmp_path, cat):
    p = write(tmp_path, "kunta,vuosi,arvo,lahde\nJuva,2021,5887,Tilastokeskus\n")
    loaded = files.load(p, indicator="vaesto", cat=cat)
    assert loaded.indicators == ["vaesto"] and loaded.frame["value"].tolist() == [5887.0]
    with pytest.raises(UnknownIndicator):
        files.load(p, indicator="vaestoo", cat=cat)


def test_xlsx_with_numeric_cells(tmp_path, cat):
    wb = Workbook()
    ws = wb.active
    ws.title = "aineisto"
    ws.append(list(files.COLUMNS))
    ws.append([178, 2021, 5887, "vaesto", SOURCE, None, None])
    ws.append(["Juva", 2022, "5769", "vaesto", SOURCE, None, None])
    p = tmp_path / "juva.xlsx"
    wb.save(p)
    df = files.load(p, cat=cat).frame
    assert df["kunta"].tolist() == ["178", "178"] and df["value"].tolist() == [5887.0, 5769.0]


def test_import_into_store_and_cli(tmp_path, cat, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    p = write(tmp_path, HEADER + f"Juva;2021;5887;vaesto;{SOURCE};;\n")
    loaded, written = files.import_file(p, store=Store("local"))
    assert written.name == "file-juva.parquet" and written.exists()
    assert loaded.summary().to_dict("records")[0]["rows"] == 1
    rows = normalize(pd.read_parquet(written)).to_dict("records")
    assert [(r["kunta"], r["year"], r["value"], r["origin"], r["source"], r["table"])
            for r in rows] == [("178", 2021, 5887.0, "file", SOURCE, "juva.csv")]
    # the command line: import, then `uso data get` sees it
    p2 = write(tmp_path, HEADER + f"Juva;2022;5769;vaesto;{SOURCE};;\n", "juva2022.csv")
    assert main(["data", "import", str(p2)]) == 0
    out = capsys.readouterr().out
    assert "Imported 1 row(s) from juva2022.csv" in out
    from uso_lib import store
    store._DEFAULT.clear()
    assert main(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2022", "--json"]) == 0
    got = capsys.readouterr().out
    assert '"value": 5769.0' in got and '"origin": "file"' in got


def test_cli_import_error_has_no_traceback(tmp_path, cat, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    p = write(tmp_path, HEADER + f"Juvaa;2021;5887;vaesto;{SOURCE};;\n")
    assert main(["data", "import", str(p)]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 'kunta'" in err and "Traceback" not in err
    assert not (config.data_dir() / "store" / "file-juva.parquet").exists()


def test_cli_template_writes_a_copy(tmp_path, cat, monkeypatch, capsys):
    out = tmp_path / "hyte.xlsx"
    assert main(["data", "template", "--out", str(out)]) == 0
    assert out.read_bytes() == files.template_path("xlsx").read_bytes()
    assert "uso data import" in capsys.readouterr().out
    assert main(["data", "template", "--out", str(out)]) == 2  # never overwrites silently
    assert "exists already" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["data", "template", "--format", "csv"]) == 0
    assert (tmp_path / "uso-aineistopohja.csv").read_text(encoding="utf-8") == HEADER


# -- plausibility at the door and import order (#16) -----------------------------------------
def _refused(tmp_path, rows: str, name: str = "juva.csv") -> list[str]:
    """The problems of a sheet checked against the real catalogue, as 'row/column: message'."""
    with pytest.raises(files.SpreadsheetError) as info:
        files.load(write(tmp_path, HEADER + rows, name))
    return [f"{p.row}/{p.column}: {p.message}" for p in info.value.problems]


def test_figure_too_large_for_a_number_is_refused(tmp_path):
    # 1e309 overflows to infinity: stored, it broke every report (decimal.InvalidOperation)
    [msg] = _refused(tmp_path, f"Juva;2021;1e309;vaesto;{SOURCE};;\n")
    assert msg.startswith("2/arvo: inf is not a finite number")


def test_population_of_1e308_is_outside_the_catalogue_range(tmp_path):
    [msg] = _refused(tmp_path, f"Juva;2021;1e308;vaesto;{SOURCE};;\n")
    assert msg.startswith("2/arvo: 1e+308 is outside the plausible range")
    assert "people, jobs or firms lies within 0-10 000 000" in msg


def test_negative_population_is_refused(tmp_path):
    [msg] = _refused(tmp_path, f"Juva;2021;-5000;vaesto;{SOURCE};;\n")
    assert msg.startswith("2/arvo: -5 000 is outside the plausible range")


def test_share_of_150_percent_is_refused_with_file_row_and_column(tmp_path):
    with pytest.raises(files.SpreadsheetError) as info:
        files.load(write(tmp_path, HEADER + f"Juva;2021;17,5;alle15_osuus;{SOURCE};;\n"
                         f"Juva;2022;150;alle15_osuus;{SOURCE};;\n", "osuudet.csv"))
    msg = str(info.value)
    assert "osuudet.csv: 1 problem; nothing was imported" in msg
    assert ("osuudet.csv, row 3, column 'arvo': 150 is outside the plausible range (a share "
            "in per cent lies within 0-100)") in msg


def test_negative_change_in_percent_is_plausible(tmp_path):
    # vaesto_muutos_pct says in the catalogue that it may be negative (bounds [-100, 1000])
    df = files.load(write(tmp_path, HEADER + f"Juva;2022;-2,0;vaesto_muutos_pct;{SOURCE};;\n"
                          )).frame
    assert df["value"].tolist() == [-2.0]
    [msg] = _refused(tmp_path, f"Juva;2022;-150;vaesto_muutos_pct;{SOURCE};;\n")
    assert "the catalogue's bounds for vaesto_muutos_pct are -100-1 000" in msg


def test_population_in_2100_is_refused_but_a_projection_for_2040_accepted(tmp_path):
    [msg] = _refused(tmp_path, f"Juva;2100;5000;vaesto;{SOURCE};;\n")
    assert msg == ("2/vuosi: 2100 is in the future (after "
                   f"{date.today().year}); only projections have figures for years to come")
    loaded = files.load(write(tmp_path, HEADER + f"Juva;2040;4321;vaestoennuste;{SOURCE};;\n",
                              "ennuste.csv"))
    assert loaded.frame[["year", "value"]].values.tolist() == [[2040, 4321.0]]


def test_next_years_tax_rate_is_accepted_but_not_the_year_after(tmp_path):
    nxt = date.today().year + 1
    ok = files.load(write(tmp_path, HEADER + f"Juva;{nxt};22,5;tuloveroprosentti;Vero;;\n"))
    assert ok.frame["year"].tolist() == [nxt]
    [msg] = _refused(tmp_path, f"Juva;{nxt + 1};22,5;tuloveroprosentti;Vero;;\n")
    assert msg.startswith(f"2/vuosi: {nxt + 1} is after {nxt}")


def test_status_must_be_a_publishers_symbol(tmp_path):
    [msg] = _refused(tmp_path, f"Juva;2021;;vaesto;{SOURCE};;puuttuu\n")
    assert msg.startswith("2/tila: 'puuttuu' is not a publisher's status symbol")
    assert "'..'" in msg and "'-'" in msg
    # the publishers' symbols pass; a typed en dash is the nil symbol "-"
    df = files.load(write(tmp_path, HEADER + f"Juva;2021;;vaesto;{SOURCE};;...\n"
                          f"Juva;2022;\u2013;vaesto;{SOURCE};;\n")).frame
    assert df["status"].tolist() == ["...", "-"] and df["value"].isna().all()


def test_newest_import_wins_whatever_the_file_names(tmp_path, capsys):
    # b.csv first, a.csv later: alphabetically b would win, but a is the newer import
    b = write(tmp_path, HEADER + "Juva;2021;5800;vaesto;Laskelma B;;\n", "b.csv")
    a = write(tmp_path, HEADER + f"Juva;2021;5887;vaesto;{SOURCE};;\n", "a.csv")
    assert main(["data", "import", str(b)]) == 0
    assert main(["data", "import", str(a)]) == 0
    capsys.readouterr()
    st = Store("local")
    obs = st.get("vaesto", "178", 2021)
    assert (obs.value, obs.table, obs.source) == (5887.0, "a.csv", SOURCE)
    # importing b again makes b the newest
    assert main(["data", "import", str(b)]) == 0
    st.reload()
    assert st.get("vaesto", "178", 2021).value == 5800.0
    from uso_lib import store
    store._DEFAULT.clear()
    capsys.readouterr()
    assert main(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021", "--origin"]) == 0
    out = capsys.readouterr().out
    assert "5\u00a0800\u00a0henkeä" in out
    assert "Origin: imported from b.csv on " in out and "UTC" in out
    assert main(["data", "get", "vaesto", "--kunta", "Juva", "--year", "2021", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["file"] == "b.csv" and got["origin"] == "file"
    assert got["retrieved"].startswith(str(date.today().year)) and "T" in got["retrieved"]


def test_implausible_rows_are_refused_by_the_store_itself(tmp_path):
    # the store's write path checks again (a refresh comes this way, not through load)
    rows = pd.DataFrame([{"indicator": "vaesto", "kunta": "178", "year": 2021, "category": "",
                          "value": -5000.0, "status": "", "source": SOURCE, "table": "11ra",
                          "vintage": "2025-03-19", "origin": "live",
                          "retrieved": "2025-03-19"}])
    st = Store("local", local_dir=tmp_path / "store")
    with pytest.raises(plausible.ImplausibleData) as info:
        st.write_local(rows, "live-vaesto")
    assert str(info.value).startswith("live-vaesto: 1 problem with its figures, nothing of it "
                                      "was written: table 11ra, vaesto, kunta 178, year 2021:")
    assert not (tmp_path / "store").exists()


def test_every_figure_of_the_embedded_snapshot_passes_the_door():
    # the bounds refuse absurd figures, never real ones: a catalogue range that would refuse a
    # published figure (a negative net migration, a debt ratio over 100 %) fails here
    snap = Store("snapshot").frame
    plausible.check_frame(snap, "the embedded snapshot")  # raises ImplausibleData otherwise
    assert len(snap) > 500_000 and snap["indicator"].nunique() > 60
    assert snap.loc[snap["indicator"] == "nettomuutto", "value"].min() < 0  # really checked
