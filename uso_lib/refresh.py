"""``uso data refresh``: fetch every live indicator of the catalogue into the local store.

One query per table (PxWeb) or per indicator (Sotkanet) covers all municipalities at once; the
reports are then rendered from the local store, never one API call per municipality. Each
indicator is written to its own local store file (``USO_DATA_DIR/store/live-<id>.parquet``)
only when it was fetched (live, or from the HTTP cache), so a failure leaves the figures of the
previous refresh -- or the embedded snapshot -- in place. The package itself is never written.

A refresh has one deadline (``timeout``, ``USO_REFRESH_TIMEOUT``, default a couple of minutes per
table), shared by every request it sends: once it has passed, nothing more is sent, every
further indicator takes its cached answer where there is one (said in its notes) or keeps its
previous figures, and the report says the time ran out. A server that trickles or hangs thus
cannot hold a refresh for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from uso_lib import catalog as catalog_mod
from uso_lib import config, derive
from uso_lib.catalog import Catalog, Indicator
from uso_lib.plausible import ImplausibleData
from uso_lib.sources import SOURCES, HttpCache, HttpClient, get, is_refreshable
from uso_lib.sources.common import IndicatorResult, PlannedRequest
from uso_lib.sources.http import Deadline
from uso_lib.store import Store, default_store

TIMEOUT_HINT = ("Allow more time with `uso data refresh --timeout SECONDS` (or "
                f"USO_REFRESH_TIMEOUT); the default is {config.REFRESH_SECONDS_PER_TABLE:g} s per "
                "table.")


@dataclass
class RefreshReport:
    results: list[IndicatorResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (indicator, why)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)  # per source: network requests
    timed_out: str | None = None  # the refresh's time limit, when it ran out

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
    clients = dict(clients or {})
    shared = cache or HttpCache()
    out = {}
    for sid, src in SOURCES.items():
        client = clients.get(sid) or HttpClient(src.client_name, config.url(src.url_variable),
                                                cache=shared, fresh=fresh, **client_options)
        out[sid] = src.create(client)
    return out


def tables(indicators: list[Indicator]) -> int:
    """How many tables (PxWeb) or indicators (Sotkanet) a refresh of these asks for."""
    return len({(i.live.source, i.live.database, i.live.table or i.live.table_query,
                 i.live.indicator) for i in indicators})


def deadline(indicators: list[Indicator], timeout: float | None = None) -> Deadline:
    """The refresh's deadline: ``timeout`` seconds, else USO_REFRESH_TIMEOUT, else a couple of
    minutes per table."""
    seconds = timeout if timeout is not None else config.refresh_timeout(tables(indicators))
    return Deadline(seconds, what="the refresh's time limit", hint=TIMEOUT_HINT)


def _bound(services: dict[str, object], limit: Deadline) -> None:
    """The refresh owns the deadline: all its clients share one (and its list of dead hosts)."""
    for service in services.values():
        service.client.deadline = limit


def _by_source(indicators: list[Indicator]) -> dict[str, list[Indicator]]:
    out: dict[str, list[Indicator]] = {}
    for ind in indicators:
        out.setdefault(ind.live.source, []).append(ind)
    return out


def plan(ids: list[str] | None = None, *, cat: Catalog | None = None,
         services: dict[str, object] | None = None,
         timeout: float | None = None) -> tuple[list[PlannedRequest], list[tuple[str, str]]]:
    """The data requests a refresh would send, with cell counts (sends no data query; reads
    table metadata and limits, which are cached)."""
    cat = cat or catalog_mod.catalog()
    chosen, skipped = select(ids, cat)
    services = services or make_services()
    _bound(services, deadline(chosen, timeout))
    planned: list[PlannedRequest] = []
    for sid, inds in _by_source(chosen).items():
        planned += get(sid).plan(services[sid], inds)
    return planned, skipped


def refresh(ids: list[str] | None = None, *, cat: Catalog | None = None,
            store: Store | None = None, services: dict[str, object] | None = None,
            fresh: bool = False, progress: Callable[[str], None] | None = None,
            timeout: float | None = None, **client_options) -> RefreshReport:
    """Fetch the chosen (default: every live) indicator and write the fetched ones locally,
    within ``timeout`` seconds in all (see the module docstring)."""
    cat = cat or catalog_mod.catalog()
    chosen, skipped = select(ids, cat)
    report = RefreshReport(skipped=skipped)
    limit = deadline(chosen, timeout)
    services = services or make_services(fresh=fresh, **client_options)
    _bound(services, limit)
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
    refreshed = [r.indicator for r in report.results if r.origin != "failed"]
    if refreshed:  # rates and shares follow the counts they are computed from
        try:
            report.written += derive.after_refresh(store, refreshed)
        except ImplausibleData as exc:
            report.warnings.append(f"The derived rates were not recomputed: {exc.message}")
    if limit.expired:
        report.timed_out = limit.describe()
        report.warnings.append(
            f"{limit.describe()} ran out: the requests after it were not sent. The indicators "
            "concerned took their cached answer where there was one (see their notes), "
            "otherwise they keep their previous figures (an earlier refresh, or the embedded "
            f"snapshot). {TIMEOUT_HINT}")
    return report
