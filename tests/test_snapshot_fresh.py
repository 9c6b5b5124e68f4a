"""The two fresh files (recent/fresh/, SOURCES.md §5) in the snapshot: the 2023 parliamentary
turnout (a series break: no change drawn from 2019) and the 2026 municipal income-tax rates.

Expected values are the checks SOURCES.md lists for the files (Juva 65.6 %, Kumlinge 38.0 %,
Helsinki 5.3 %, Kauniainen 4.7 %, Pomarkku 10.9 %, ...).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from uso_lib import compare, regions, store, text
from uso_lib.cli import main
from uso_lib.snapshot import fresh
from uso_lib.store import Store

TURNOUT = "aanestysaktiivisuus_eduskuntavaalit"


@pytest.fixture(scope="module")
def built(raw_dir) -> pd.DataFrame:
    df = store.normalize(fresh.build(raw_dir))
    return df.sort_values(store.KEY, kind="stable").reset_index(drop=True)


def value(df: pd.DataFrame, indicator: str, kunta: str, year: int) -> float:
    hit = df[(df["indicator"] == indicator) & (df["kunta"] == kunta) & (df["year"] == year)]
    assert len(hit) == 1, (indicator, kunta, year)
    return float(hit["value"].iloc[0])


def test_turnout_2023_for_every_municipality_of_2023(built):
    t = built[built["indicator"] == TURNOUT]
    assert set(t["kunta"]) == set(regions.registry(2023).codes()) and len(t) == 309
    assert set(t["year"]) == {2023} and set(t["category"]) == {""}
    for kunta, pct in {"178": 65.6, "091": 71.7, "049": 74.1, "235": 79.7, "295": 38.0,
                       "051": 72.9, "153": 63.1, "851": 61.6, "272": 66.4}.items():
        assert value(built, TURNOUT, kunta, 2023) == pct, kunta
    assert t["value"].max() == 79.7 and t["value"].min() == 38.0  # Kauniainen, Kumlinge
    assert (t["table"] == "evaa 13sx").all()
    assert t["source"].str.contains("ulkomailla asuvat").all()
    assert "SSS" not in set(t["kunta"])  # no country figure is made up from municipal rates


def test_tax_rates_2026_and_the_merged_pair(built):
    t = built[built["indicator"] == "tuloveroprosentti"]
    assert set(t["year"]) == {2026} and len(t) == 309
    for kunta, pct in {"091": 5.3, "049": 5.3, "235": 4.7, "178": 9.1, "051": 6.4,
                       "153": 8.6, "851": 8.7, "272": 9.2, "608": 10.9}.items():
        assert value(built, "tuloveroprosentti", kunta, 2026) == pct, kunta
    aland = t[t["kunta"].isin([m.code for m in regions.registry(2023)
                               if m.maakunta_code == "21"])]
    assert len(aland) == 16 and aland["value"].between(17.0, 19.7).all()
    # Mäntyharju's 2026 rate is the merged municipality's: not shown for 2023's two areas
    pair = t[t["kunta"].isin(["507", "588"])]
    assert pair["value"].isna().all() and (pair["status"] == ".").all()
    assert pair["source"].str.contains("Pertunmaa").all()
    assert (t["source"].str.startswith("Verohallinto")).all()
    assert (t["vintage"] == "2026-09-24").all()


def test_committed_snapshot_is_the_build(built):
    committed = pd.read_parquet(Store("snapshot").snapshot_dir / "fresh.parquet")
    committed = store.normalize(committed).sort_values(store.KEY, kind="stable")
    pd.testing.assert_frame_equal(built, committed.reset_index(drop=True))
    manifest = json.loads((Store("snapshot").snapshot_dir / "MANIFEST.json").read_text())
    assert manifest["builders"]["fresh"]["indicators"] == [TURNOUT, "tuloveroprosentti"]


def test_cli_get_shows_the_fresh_figures(capsys):
    assert main(["data", "get", TURNOUT, "--kunta", "Juva", "--year", "2023", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["value"], got["year"], got["table"]) == (65.6, 2023, "evaa 13sx")
    assert main(["data", "get", "tuloveroprosentti", "--kunta", "Juva", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["value"], got["year"]) == (9.1, 2026)
    assert "Verohallinto" in got["source"]


def test_no_change_is_drawn_across_the_2023_break():
    st = Store("snapshot")
    c = compare.compare(TURNOUT, "Juva", year=2023, store=st)
    assert c.value == 65.6 and c.change is None
    assert any("Muutosta vuosina 2019–2023 ei lasketa" in n for n in text.comparison_notes(c))
    # an explicit period across the break is refused the same way
    c = compare.compare(TURNOUT, "Juva", year=2023, period=(2015, 2023), store=st)
    assert c.change is None
    # before the break the change is still drawn (2015 -> 2019, one definition)
    c = compare.compare(TURNOUT, "Juva", year=2019, store=st)
    assert c.change is not None and (c.change.start, c.change.end) == (2015, 2019)
    ov = text.overview_labels(compare.overview("Juva", ["Kuhmo", "Rautalampi"], None,
                                               store=st, indicators=[TURNOUT]))
    row = ov.iloc[0]
    assert row["year"] == 2023 and pd.isna(row["change_pct"]) and pd.isna(row["change_abs"])
    assert "ei lasketa" in row["note"]


def test_report_block_shows_no_change_or_line_across_the_break():
    from uso_lib import catalog, report
    from uso_lib.report import sections as report_sections

    r = report.start("Juva", store=Store("snapshot"))
    html = report_sections.indicator_block(r, catalog.get(TURNOUT))
    assert "Muutosta vuosina 2019–2023 ei lasketa" in html
    assert "Arvo 2023" in html and "Muutos 2019" not in html
    # one year of the new definition: the peers' ranking in 2023, not a 1983-2023 line
    assert "Äänestysaktiivisuus eduskuntavaaleissa: Juva ja vertailukunnat 2023" in html
    assert "–2023" not in re.sub(r"Muutosta vuosina 2019–2023", "", html)
