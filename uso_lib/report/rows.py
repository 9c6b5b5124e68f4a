"""The store rows behind what a report shows: a chart's or table's figures, for its source
line and the data appendix, and the years a chart spans."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from uso_lib.catalog import Indicator

if TYPE_CHECKING:
    from uso_lib.report.state import Report


Chart = tuple[str, pd.DataFrame]  # (figure HTML, the store rows it draws: the appendix's)
CHART_YEARS = 20  # a time-series chart shows at most this many latest years


# -- data access ------------------------------------------------------------------------------
def store_rows(r: Report, ind_id: str) -> pd.DataFrame:
    return r.store.rows(ind_id)


def select(r: Report, ind_id: str, codes: Sequence[str], years: Iterable[int] | None = None,
           category: str | None = "") -> pd.DataFrame:
    """The store rows behind what a chart or table shows (for source lines and the appendix):
    those of ``codes``, of ``years`` when given, of ``category`` (None: every category)."""
    return r.store.select(ind_id, codes, years, category)


def has_total(r: Report, ind: Indicator) -> bool:
    tab = r.store.table(ind.id)
    return tab is not None and bool(tab.years)


def has_categories(r: Report, ind: Indicator) -> bool:
    return r.store.index.has_categories(ind.id)


def own_years(r: Report, ind: Indicator, until: int | None = None) -> list[int]:
    tab = r.store.table(ind.id)
    if tab is None:
        return []
    ys = tab.kunta_years(r.kunta.code)
    return [y for y in ys if until is None or y <= until][-CHART_YEARS:]


def comparison_codes(r: Report) -> list[str]:
    """The municipalities whose figures a comparison shows: the municipality, its peers and
    the network members."""
    return list(dict.fromkeys([r.kunta.code, *r.peer_codes, *r.network_codes]))


