"""The derived rates follow a refresh (uso_lib.derive): newer counts or populations in the local
store give newer rates for exactly those municipality-years, with the same formula and source
line as the snapshot's."""
from __future__ import annotations

import pytest

from uso_lib import derive
from uso_lib.store import Store


@pytest.fixture
def local() -> Store:
    return Store("local")


def _as_refreshed(store: Store, indicator: str, kunta: str, year: int):
    """A real snapshot row of Juva written back as a refresh would bring it (origin live)."""
    rows = store.rows(indicator)
    row = rows[(rows["kunta"] == kunta) & (rows["year"] == year) & (rows["category"] == "")]
    assert len(row) == 1
    return row.assign(origin="live", retrieved="2026-12-04")


def test_refreshed_births_give_the_rate_of_those_years_only(local):
    # Juva's 28 births of 2022 (StatFin 11ae) over its 5 769 residents (11re): 4.8535 per 1 000
    local.write_local(_as_refreshed(local, "syntyneet", "178", 2022), "live-syntyneet")
    written = derive.after_refresh(local, ["syntyneet"])
    assert [p.name for p in written] == ["derived-vital-rates.parquet"]
    local.reload()
    rate = local.get("syntyneet_1000as", "178", 2022)
    assert rate.value == pytest.approx(28 / 5769 * 1000, abs=1e-4) and rate.origin == "live"
    assert rate.source.startswith("Laskettu: elävänä syntyneet (Tilastokeskus, StatFin 11ae")
    assert "/ väkiluku 31.12. samalta vuodelta" in rate.source
    # other years and municipalities keep the snapshot's own rows
    assert local.get("syntyneet_1000as", "178", 2021).origin == "snapshot"
    assert local.get("syntyneet_1000as", "091", 2022).origin == "snapshot"


def test_nothing_is_derived_when_no_input_came_from_a_refresh(local):
    assert derive.after_refresh(local, ["vaesto", "tulopendelointi"]) == []
    assert derive.after_refresh(local, ["tyopaikat"]) == []
