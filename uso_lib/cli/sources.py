"""``uso data sources``: what each live source offers now, against what the local store holds.

The maintainer's tool for the first online run and the monthly check. It reads only metadata
-- one request per PxWeb table (its variables: the latest period is the time variable's last
value) and one per Sotkanet indicator (its ``range``) -- never data, so it is cheap and stays
within the servers' limits (the PxWeb client reads them from ``?config`` and rate-limits
itself). Answers go into the HTTP cache, so a second run the same day sends nothing.

Offline it must still answer at once: each service gets one client whose first failed
connection marks the host unreachable for the rest of the run (no retries per table; the two
clients share the run's :class:`~uso_lib.sources.http.Deadline`, so a host down for one is
down for both), the connect time-out is short and the whole run has a time limit. Every row
then says "unreachable", with what the store holds.

This is a ``data`` sub-command, added through :data:`uso_lib.cli.data._EXTENSIONS` like
``refresh`` (see that module's docstring).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from uso_lib import catalog, config
from uso_lib.catalog import Indicator
from uso_lib.cli import data as data_cli
from uso_lib.cli._output import print_json, print_table
from uso_lib.errors import SourceError
from uso_lib.sources import pxweb, sotkanet
from uso_lib.sources.http import Deadline, HttpCache, HttpClient
from uso_lib.store import Store, default_store

ORDER = 16  # before data.py (20), like refresh

CONNECT_TIMEOUT = 2.0  # seconds; a missing network is noticed once per host
RUN_SECONDS = 50.0  # the whole check, shared by both services: an answer within a minute
OK, NEWER, UNRESOLVED, UNREACHABLE = "ok", "newer data available", "unresolved", "unreachable"
NOT_CACHED = "not in the cache"  # cache_only: this table's metadata was never fetched
CACHE_ONLY = "cache only: no service asked"
_MONTH = re.compile(r"^(\d{4})M(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass
class SourceRow:
    """One live catalogue entry: what the service offers and what the store has."""

    indicator: str
    source: str  # "pxweb" or "sotkanet"
    table: str  # "StatFin/11re", "Kuntien_avainluvut/uusin/...", "Sotkanet 3219"
    confirmed: bool
    period: str | None = None  # the catalogue's rule for months or quarters
    region: str | None = None  # resolved variable code (PxWeb) / how regions are keyed
    time: str | None = None
    content: str | None = None  # resolved content value code
    latest_offered: str | None = None  # the service's latest period ("2024", "2026M08")
    latest_offered_year: int | None = None  # the latest whole year by the period rule
    store_latest_year: int | None = None
    status: str = UNRESOLVED
    reason: str | None = None
    metadata: str | None = None  # "live", "cached" or "cached, service unreachable"

    def to_dict(self) -> dict:
        return asdict(self)


def latest_year(periods: list[str], rule: str | None) -> int | None:
    """The latest year a table offers a whole figure for, by the indicator's period rule.

    Annual periods: the last year. Months: December's year ("december", the default) or a
    year with all twelve months ("mean"); quarters: the fourth quarter's year ("q4", the
    default) or all four ("mean")."""
    years: dict[int, set[int]] = {}
    kind = None
    for p in periods:
        for k, rx in (("year", _YEAR), ("month", _MONTH), ("quarter", _QUARTER)):
            m = rx.match(str(p).strip())
            if m:
                kind = k
                y = int(m.group(1))
                years.setdefault(y, set())
                if k != "year":
                    years[y].add(int(m.group(2)))
                break
    if not years:
        return None
    if kind == "year":
        return max(years)
    last = 12 if kind == "month" else 4
    whole = [y for y, parts in years.items()
             if (len(parts) == last if rule == "mean" else last in parts)]
    return max(whole) if whole else None


def store_latest(st, ind: Indicator) -> int | None:
    """The latest year with any figure of the indicator in the store (local over snapshot)."""
    df = st.rows(ind.id)
    df = df[df["value"].notna()]
    return int(df["year"].max()) if len(df) else None


def _status(row: SourceRow) -> None:
    if row.latest_offered_year is None:
        row.status = UNRESOLVED
        row.reason = row.reason or "the metadata has no annual, monthly or quarterly period"
    elif row.store_latest_year is None or row.latest_offered_year > row.store_latest_year:
        row.status = NEWER
    else:
        row.status = OK


def _failure(row: SourceRow, exc: SourceError, client: HttpClient,
             down_hosts: dict[str, str]) -> None:
    """Unreachable when the service could not be asked (and nothing was cached), else the
    answer could not be used for this entry. ``down_hosts`` (host -> why) carries the first
    client's reason to the other client on the same host, so every row says it alike."""
    if client.deadline.what == CACHE_ONLY:
        row.status = NOT_CACHED
        row.reason = "no cached metadata: run `uso data sources` online once"
        return
    host = urlsplit(client.base_url).netloc
    if client.unreachable:
        down_hosts.setdefault(host, str(client.unreachable))
    down = down_hosts.get(host)
    transport = down or "no cached copy to fall back on" in exc.message
    row.status = UNREACHABLE if transport else UNRESOLVED
    row.reason = (down or exc.message) if transport else exc.message


class _Origin:
    """Where a metadata answer came from: the network, the cache, or the cache because the
    network failed (read from the client's counters around the call)."""

    def __init__(self, client: HttpClient) -> None:
        self.client = client
        self.calls, self.hits, self.notes = client.calls, client.cache_hits, len(client.notes)

    def text(self) -> str | None:
        c = self.client
        if any("used the cached answer" in n for n in c.notes[self.notes:]):
            return "cached" if c.deadline.what == CACHE_ONLY else "cached, service unreachable"
        if c.calls > self.calls:
            return "live"
        if c.cache_hits > self.hits:
            return "cached"
        return None  # nothing asked: the run already had this table's metadata


def _client(name: str, url_variable: str, cache: HttpCache, deadline: Deadline, *,
            fresh: bool, connect_timeout: float) -> HttpClient:
    return HttpClient(name, config.url(url_variable), cache=cache, fresh=fresh,
                      connect_timeout=connect_timeout, connect_retries=0, max_retries=1,
                      backoff=0.5, max_backoff=5.0, deadline=deadline)


def _pxweb_rows(px: pxweb.PxWeb, inds: list[Indicator], st,
                down_hosts: dict[str, str]) -> list[SourceRow]:
    out: list[SourceRow] = []
    origins: dict[tuple[str, str], str | None] = {}
    for group in pxweb.group_indicators(inds):
        rows = {i.id: SourceRow(i.id, "pxweb", f"{group.database}/{group.table}",
                                i.live.confirmed, i.live.period, content=i.live.content,
                                store_latest_year=store_latest(st, i))
                for i in group.indicators}
        asked = _Origin(px.client)
        try:
            group, _found = pxweb.locate(px, group)
            meta = px.metadata(group.database, group.table)
        except SourceError as exc:
            for r in rows.values():
                _failure(r, exc, px.client, down_hosts)
            out += rows.values()
            continue
        origin = asked.text() or origins.get((group.database, group.table))
        origins[(group.database, group.table)] = origin
        time_var, region_var = meta.time, meta.region
        periods = list(time_var.values) if time_var else []
        try:
            resolved = pxweb.resolve(meta, group)
            problem, failed = None, resolved.failed
        except SourceError as exc:
            resolved, problem, failed = None, exc.message, {}
        for ind in group.indicators:
            r = rows[ind.id]
            r.table = f"{group.database}/{group.table}"
            r.metadata = origin
            r.time = time_var.code if time_var else None
            r.region = region_var.code if region_var else None
            r.latest_offered = max(periods) if periods else None
            if resolved is not None:
                r.region, r.time = resolved.region, resolved.time
                r.content = resolved.content_of.get(ind.id, r.content)
            r.latest_offered_year = latest_year(periods, ind.live.period)
            why = problem or (failed[ind.id].message if ind.id in failed else None)
            if why:
                r.status, r.reason = UNRESOLVED, why
            else:
                _status(r)
            out.append(r)
    return out


def _sotkanet_rows(sk: sotkanet.Sotkanet, inds: list[Indicator], st,
                   down_hosts: dict[str, str]) -> list[SourceRow]:
    out: list[SourceRow] = []
    for ind in inds:
        sid = ind.live.indicator
        r = SourceRow(ind.id, "sotkanet", f"Sotkanet {sid}", ind.live.confirmed,
                      region="KUNTA", time="year", content=f"gender {ind.live.gender}",
                      store_latest_year=store_latest(st, ind))
        asked = _Origin(sk.client)
        try:
            years = sotkanet.years_of(sk.indicator(sid))
        except SourceError as exc:
            _failure(r, exc, sk.client, down_hosts)
            out.append(r)
            continue
        r.metadata = asked.text()
        r.latest_offered = str(years[-1]) if years else None
        r.latest_offered_year = years[-1] if years else None
        _status(r)
        out.append(r)
    return out


def check(indicator_ids: list[str] | None = None, *, fresh: bool = False,
          cache_only: bool = False, connect_timeout: float = CONNECT_TIMEOUT,
          store: Store | None = None) -> list[SourceRow]:
    """One row per live (PxWeb or Sotkanet) catalogue entry, in catalogue order.

    ``cache_only``: ask no service, answer from the HTTP cache alone (however old), e.g. for
    a report that says whether newer figures are published; tables never fetched are
    "not in the cache". ``store``: the store whose latest years the rows give (default: the
    local store), so that a report compares with its own data and loads no second store."""
    cat = catalog.catalog()
    chosen = [cat.get(i) for i in indicator_ids] if indicator_ids else cat.indicators
    live = [i for i in chosen if i.live is not None and i.live.source in ("pxweb", "sotkanet")]
    st = store if store is not None else default_store("local")
    cache = HttpCache()
    # one run: a host that fails for one service is not asked again for the other
    deadline = (Deadline(0.0, what=CACHE_ONLY) if cache_only else
                Deadline(RUN_SECONDS, what="uso data sources' time limit"))
    px = pxweb.PxWeb(_client("PxWeb", "USO_PXWEB_URL", cache, deadline, fresh=fresh,
                             connect_timeout=connect_timeout))
    sk = sotkanet.Sotkanet.create(_client("Sotkanet", "USO_SOTKANET_URL", cache, deadline,
                                          fresh=fresh, connect_timeout=connect_timeout))
    try:
        down: dict[str, str] = {}
        by_id = {r.indicator: r for r in
                 _pxweb_rows(px, [i for i in live if i.live.source == "pxweb"], st, down)
                 + _sotkanet_rows(sk, [i for i in live if i.live.source == "sotkanet"], st,
                                  down)}
    finally:
        px.client.session.close()
        sk.client.session.close()
        cache.close()
    return [by_id[i.id] for i in live]


def _add_commands(dsub: argparse._SubParsersAction) -> None:
    s = dsub.add_parser(
        "sources", help="what the live sources offer now against the local store",
        description="For every live catalogue entry (PxWeb, Sotkanet): the table, the region, "
                    "time and content codes resolved from its metadata, the latest period the "
                    "service offers, the latest year in the local store, and a status (ok, "
                    "newer data available, unresolved and why, unreachable). Reads metadata "
                    "only, one request per table, cached for a day (USO_CACHE_DIR).")
    s.add_argument("--indicators", metavar="ID,...",
                   help="comma-separated indicator ids (default: every live indicator)")
    how = s.add_mutually_exclusive_group()
    how.add_argument("--fresh", action="store_true",
                     help="ask the services even when the cache holds a recent answer")
    how.add_argument("--cached", action="store_true",
                     help="ask no service: answer from the HTTP cache alone, however old")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_sources)


def _resolved_text(r: SourceRow) -> str:
    return " ".join(f"{k}={v}" for k, v in (("region", r.region), ("time", r.time),
                                            ("content", r.content)) if v)


def cmd_sources(args: argparse.Namespace) -> int:
    ids = [t.strip() for t in (args.indicators or "").split(",") if t.strip()] or None
    rows = check(ids, fresh=args.fresh, cache_only=args.cached)
    if args.json:
        print_json([r.to_dict() for r in rows])
        return 0
    print_table([(r.indicator, f"{r.source} {r.table}", _resolved_text(r) or "-",
                  r.latest_offered or "-", r.store_latest_year or "-", r.status)
                 for r in rows],
                ["indicator", "source and table", "resolved codes", "offered", "store",
                 "status"])
    shown: set[str] = set()
    for r in rows:
        if r.reason and r.status != OK and (r.status, r.reason) not in shown:
            shown.add((r.status, r.reason))
            same = [x.indicator for x in rows if (x.status, x.reason) == (r.status, r.reason)]
            who = ", ".join(same[:3]) + (f" and {len(same) - 3} more" if len(same) > 3 else "")
            print(f"{r.status} ({who}): {r.reason}")
    counts = {s: sum(r.status == s for r in rows)
              for s in (OK, NEWER, UNRESOLVED, UNREACHABLE, NOT_CACHED)}
    print("\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
          + f" ({len(rows)} live indicators).")
    if counts[NEWER]:
        print("Fetch the newer figures with: uso data refresh --indicators "
              + ",".join(r.indicator for r in rows if r.status == NEWER))
    return 0


if _add_commands not in data_cli._EXTENSIONS:
    data_cli._EXTENSIONS.append(_add_commands)
