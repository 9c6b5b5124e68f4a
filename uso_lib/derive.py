"""Derived indicators follow a refresh: the rates per 1 000 residents and the commuting shares
(#17) are built by the snapshot builder from the embedded counts; when ``uso data refresh``
brings newer counts or populations, the same builders recompute the rates for the
municipality-years whose inputs came from the refresh, so a report compares current rates,
not the snapshot's.

Only those municipality-years are written (to the local store file ``derived-<name>``), with
origin ``live``: a rate whose inputs are all embedded stays the snapshot's own row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from uso_lib.store import Store


@dataclass(frozen=True)
class Derivation:
    name: str  # the local store file: derived-<name>.parquet
    inputs: frozenset[str]  # indicator ids whose figures it is computed from
    build: Callable[[Store], pd.DataFrame]  # store rows of the derived indicators


def _totals(store: Store, ids: Iterable[str]) -> pd.DataFrame:
    rows = [store.rows(i) for i in ids]
    df = pd.concat([r for r in rows if not r.empty], ignore_index=True) if rows else None
    if df is None or df.empty:
        return pd.DataFrame(columns=["indicator", "kunta", "year", "category", "value",
                                     "status", "source", "table", "vintage", "origin"])
    return df[df["category"] == ""]


def _vital_rates(store: Store) -> pd.DataFrame:
    from uso_lib.snapshot import vital_rates

    return vital_rates.rates(_totals(store, vital_rates.RATES), _totals(store, ["vaesto"]))


def _commuting_shares(store: Store) -> pd.DataFrame:
    from uso_lib.snapshot import commuting_shares

    return commuting_shares.shares(_totals(store, commuting_shares.FLOWS))


def _derivations() -> list[Derivation]:
    from uso_lib.snapshot import commuting_shares, vital_rates

    return [Derivation("vital-rates", frozenset(vital_rates.RATES) | {"vaesto"}, _vital_rates),
            Derivation("commuting-shares", frozenset(commuting_shares.FLOWS),
                       _commuting_shares)]


def after_refresh(store: Store, refreshed: Iterable[str]) -> list[Path]:
    """Recompute what depends on the ``refreshed`` indicators; the files written."""
    refreshed = set(refreshed)
    written = []
    for d in _derivations():
        if not d.inputs & refreshed:
            continue
        fresh = _totals(store, d.inputs)
        fresh = fresh[fresh["origin"] != "snapshot"]
        keys = set(zip(fresh["kunta"], fresh["year"].astype(int), strict=True))
        if not keys:
            continue
        df = d.build(store)
        df = df[[k in keys for k in zip(df["kunta"], df["year"].astype(int), strict=True)]]
        if df.empty:
            continue
        df = df.assign(origin="live", retrieved=date.today().isoformat())
        written.append(store.write_local(df, f"derived-{d.name}"))
    return written
