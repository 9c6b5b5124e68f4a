"""The tidy indicator store: schema, precedence of local over snapshot, missing values, faults."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from uso_lib import store
from uso_lib.errors import DataError, NoData, OutputError


def _rows(values: dict[tuple[str, int], float | None], *, origin: str, source: str,
          indicator: str = "vaesto", status: str = "") -> pd.DataFrame:
    return pd.DataFrame([
        {"indicator": indicator, "kunta": k, "year": y, "category": "",
         "value": math.nan if v is None else v, "status": status if v is None else "",
         "source": source, "table": "11re", "vintage": "2025-03-19", "origin": origin,
         "retrieved": "2025-03-19"}
        for (k, y), v in values.items()])


@pytest.fixture
def dirs(tmp_path):
    snap, local = tmp_path / "snap", tmp_path / "local"
    # Juva's real populations (StatFin 11re): 2021 5887, 2022 5769; one suppressed figure
    store.write_parquet(store.normalize(_rows(
        {("178", 2021): 5887, ("178", 2022): 5769, ("178", 2023): None},
        origin="snapshot", source="Tilastokeskus, StatFin 11re", status="..")),
        snap / "population.parquet")
    return snap, local


def test_get_latest_and_year(dirs):
    st = store.Store("local", snapshot_dir=dirs[0], local_dir=dirs[1])
    assert st.get("vaesto", "178", 2021).value == 5887
    latest = st.get("vaesto", "178")  # the latest year WITH a value
    assert latest.year == 2022 and latest.value == 5769


def test_missing_stays_missing_with_symbol(dirs):
    obs = store.Store("snapshot", snapshot_dir=dirs[0]).get("vaesto", "178", 2023)
    assert obs.missing and obs.status == ".."
    assert obs.to_dict()["value"] is None


def test_no_data_error_names_years(dirs):
    st = store.Store("snapshot", snapshot_dir=dirs[0])
    with pytest.raises(NoData, match="2021–2023"):
        st.get("vaesto", "178", 1999)


def test_local_overrides_snapshot_and_snapshot_mode_ignores_it(dirs):
    snap, local = dirs
    st = store.Store("local", snapshot_dir=snap, local_dir=local)
    live = _rows({("178", 2022): 5770}, origin="live", source="Tilastokeskus, StatFin 11ra")
    st.write_local(live, "vaesto")
    assert st.get("vaesto", "178", 2022).value == 5770
    assert st.get("vaesto", "178", 2022).origin == "live"
    assert st.get("vaesto", "178", 2021).origin == "snapshot"
    only_snap = store.Store("snapshot", snapshot_dir=snap, local_dir=local)
    assert only_snap.get("vaesto", "178", 2022).value == 5769


def test_corrupt_local_file_is_reported_and_snapshot_still_used(dirs):
    snap, local = dirs
    local.mkdir(parents=True)
    (local / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    st = store.Store("local", snapshot_dir=snap, local_dir=local)
    assert st.get("vaesto", "178", 2021).value == 5887
    assert any("broken.parquet" in w for w in st.warnings)


def test_missing_snapshot_is_a_clear_error(tmp_path):
    st = store.Store("snapshot", snapshot_dir=tmp_path / "none")
    with pytest.raises(DataError, match="snapshot is missing"):
        st.get("vaesto", "178")


def test_truncated_snapshot_is_a_clear_error(dirs, tmp_path):
    snap = dirs[0]
    data = (snap / "population.parquet").read_bytes()
    (snap / "population.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="population.parquet"):
        _ = store.Store("snapshot", snapshot_dir=snap).frame


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "x.parquet"
    good = store.normalize(_rows({("178", 2021): 5887}, origin="snapshot", source="s"))
    store.write_parquet(good, path)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)
    with pytest.raises(OutputError, match="No space left on device"):
        store.write_parquet(good, path)
    monkeypatch.undo()
    assert pd.read_parquet(path)["value"].tolist() == [5887.0]
    assert [p.name for p in tmp_path.iterdir()] == ["x.parquet"]  # no temp file left


def test_normalize_rejects_rows_without_provenance():
    with pytest.raises(DataError, match="source"):
        store.normalize(pd.DataFrame({"indicator": ["vaesto"], "kunta": ["178"], "year": [2021],
                                      "value": [5887.0]}))


def test_the_index_follows_the_figures(dirs):
    """Store.table/select read the loaded figures; a write builds a new index, so nothing
    memoised on the old one (per_store) is served after it."""
    snap, local = dirs
    st = store.Store("local", snapshot_dir=snap, local_dir=local)
    calls = []

    @store.index.per_store
    def total(s: store.Store) -> float:
        calls.append(1)
        return float(s.table("vaesto").values["178"].sum())

    tab = st.table("vaesto")
    assert tab.values["178"].tolist()[:2] == [5887, 5769] and tab.status[("178", 2023)] == ".."
    assert tab.years == [2021, 2022] and st.table("vaesto", "miehet") is None
    assert st.table("tyottomyysaste") is None and st.rows("tyottomyysaste").empty
    assert total(st) == total(st) == 5887 + 5769 and len(calls) == 1
    picked = st.select("vaesto", ["178", "999"], years=[2022, 2023])
    assert picked["year"].tolist() == [2022, 2023] and picked["status"].tolist() == ["", ".."]
    assert st.select("vaesto", ["178"], category=None).equals(st.rows("vaesto"))
    first = st.index
    rows = _rows({("178", 2022): 5770}, origin="live", source="Tilastokeskus, StatFin 11ra")
    breakdown = rows.assign(category="miehet", value=2900.0)
    st.write_local(pd.concat([rows, breakdown]), "vaesto")
    assert st.index is not first and st.table("vaesto").value("178", 2022) == (5770.0, "")
    assert total(st) == 5887 + 5770 and len(calls) == 2  # recomputed on the new figures
    assert st.index.has_categories("vaesto") and not first.has_categories("vaesto")
    assert st.index.category_years("vaesto", "178") == [2022]
    assert st.table("vaesto", "miehet").value("178", 2022) == (2900.0, "")
    assert first.distinct("origin") == ["snapshot"]  # what the report's data note names
    assert sorted(st.index.distinct("origin")) == ["live", "snapshot"]
    assert st.table("vaesto").kunta_years("178") == [2021, 2022]  # 2023 is suppressed
    assert st.table("vaesto").kunta_years("999") == []
    cross = st.cross_section("vaesto")  # the latest year with a value, the total only
    assert cross["year"].tolist() == [2022] and cross["value"].tolist() == [5770.0]
    assert st.cross_section("vaesto", 2022, "miehet")["value"].tolist() == [2900.0]
