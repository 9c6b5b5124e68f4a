"""``uso data refresh``: fetch every live indicator of the catalogue into the local store.

One query per table (PxWeb) or per indicator (Sotkanet) covers all municipalities at once; the
reports are then rendered from the local store, never one API call per municipality. Each
indicator is written to its own local store file (``USO_DATA_DIR/store/live-<id>.parquet``)
only when it was fetched (live, or from the HTTP cache), so a failure leaves the figures of the
previous refresh -- or the embedded snapshot -- in place. The package itself is never written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from uso_lib import catalog as catalog_mod
from uso_lib.catalog import Catalog, Indicator
from uso_lib.plausible import ImplausibleData
from uso_lib.sources import SOURCES, HttpCache, HttpClient, get, is_refreshable
from uso_lib.sources.common import IndicatorResult, PlannedRequest
from uso_lib.store import Store, default_store


@dataclass
class RefreshReport:
    results: list[IndicatorResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (indicator, why)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # per source: network requests

    @property
    def failed(self) -> list[IndicatorResult]:
        return [r for r in self.results if r.origin == "failed"]

    @property
    def all_failed(self) -> bool:
        return bool(self.results) and len(self.failed) == len(self.results)


def select(ids: list[str] | None, cat: Catalog) -> tuple[list[Indicator],
                                                          list[tuple[str, str]]]:
    """The indicators to refresh, and the requested ones that have no live source (why)."""
    if not ids:
        return [i for i in cat.indicators if is_refreshable(i)], []
    chosen, skipped = [], []
    for ind_id in dict.fromkeys(ids):
        ind = cat.get(ind_id)  # UnknownIndicator with suggestions
        if is_refreshable(ind):
            chosen.append(ind)
        else:
            how = ind.live.source if ind.live else "none"
            why = {"file": "comes from a spreadsheet: uso data import FILE",
                   "derived": "is derived from other indicators when reports are built"}.get(
                how, "has no live source")
            skipped.append((ind.id, why + (f" ({ind.how_to_get})" if ind.how_to_get else "")))
    return chosen, skipped


def make_services(*, fresh: bool = False, clients: dict[str, HttpClient] | None = None,
                  cache: HttpCache | None = None, **client_options) -> dict[str, object]:
    """One service object per source, sharing one HTTP cache (tests inject ``clients``)."""
    from uso_lib import config

    clients = dict(clients or {})
    shared = cache or HttpCache()
    out = {}
    for sid, src in SOURCES.items():
        client = clients.get(sid) or HttpClient(src.client_name, config.url(src.url_variable),
                                                cache=shared, fresh=fresh, **client_options)
        out[sid] = src.create(client)
    return out


def _by_source(indicators: list[Indicator]) -> dict[str, list[Indicator]]:
    out: dict[str, list[Indicator]] = {}
    for ind in indicators:
        out.setdefault(ind.live.source, []).append(ind)
    return out


def plan(ids: list[str] | None = None, *, cat: Catalog | None = None,
         services: dict[str, object] | None = None) -> tuple[list[PlannedRequest],
                                                               list[tuple[str, str]]]:
    """The data requests a refresh would send, with cell counts (sends no data query; reads
    table metadata and limits, which are cached)."""
    cat = cat or catalog_mod.catalog()
    chosen, skipped = select(ids, cat)
    services = services or make_services()
    planned: list[PlannedRequest] = []
    for sid, inds in _by_source(chosen).items():
        planned += get(sid).plan(services[sid], inds)
    return planned, skipped


def refresh(ids: list[str] | None = None, *, cat: Catalog | None = None,
            store: Store | None = None, services: dict[str, object] | None = None,
            fresh: bool = False, progress: Callable[[str], None] | None = None,
            **client_options) -> RefreshReport:
    """Fetch the chosen (default: every live) indicator and write the fetched ones locally."""
    cat = cat or catalog_mod.catalog()
    chosen, skipped = select(ids, cat)
    report = RefreshReport(skipped=skipped)
    services = services or make_services(fresh=fresh, **client_options)
    store = store or default_store("local")
    for sid, inds in _by_source(chosen).items():
        if progress:
            progress(f"{get(sid).title}: {len(inds)} indicator(s)")
        service = services[sid]
        results = get(sid).fetch(service, inds)
        client: HttpClient = service.client
        report.calls[sid] = client.calls
        by_id = {i.id: i for i in inds}
        for res in results:
            if res.origin != "failed" and res.rows == 0:
                res.origin, res.error = "failed", "the answer held no municipal figures"
            live = by_id[res.indicator].live
            if res.origin == "failed" and not live.confirmed and live.note:
                res.notes.append(f"{res.source}: the catalogue's live definition is not "
                                 f"confirmed yet: {live.note}")
            if res.origin != "failed":
                try:  # an implausible figure refuses the indicator's whole answer
                    report.written.append(store.write_local(res.frame, f"live-{res.indicator}"))
                except ImplausibleData as exc:
                    res.origin, res.error = "failed", exc.message
            report.results.append(res)
        for w in client.warnings:
            if w not in report.warnings:
                report.warnings.append(w)
    return report
