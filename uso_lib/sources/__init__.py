"""The live data sources, as a registry.

Each source that ``uso data refresh`` can fetch is one :class:`Source` entry: how to build its
service client, how to plan requests (``--dry-run``) and how to fetch a batch of catalogue
indicators into store rows. A source's quirks (PxWeb's cell limit and variable codes,
Sotkanet's one-indicator calls and region ids) live in its own module; the refresh only sees
this common shape. Adding a source is one module and one entry here.

Modules: :mod:`.http` (cached, retrying, rate-limited HTTP), :mod:`.pxweb`, :mod:`.sotkanet`,
:mod:`.geostat` (polygons), :mod:`.classifications` (regional keys), :mod:`.files`
(spreadsheets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uso_lib.catalog import Indicator
from uso_lib.errors import UsoError
from uso_lib.sources import pxweb, sotkanet
from uso_lib.sources.common import IndicatorResult, PlannedRequest
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter


@dataclass(frozen=True)
class Source:
    id: str  # the catalogue's live.source value
    title: str
    publisher: str
    url_variable: str  # environment variable of the base URL (uso_lib.config.url)
    create: Callable[[HttpClient | None], Any]  # service object from an optional client
    plan: Callable[[Any, list[Indicator]], list[PlannedRequest]]
    fetch: Callable[[Any, list[Indicator]], list[IndicatorResult]]
    client_name: str


SOURCES: dict[str, Source] = {
    "pxweb": Source("pxweb", "Statistics Finland PxWeb API v1", "Tilastokeskus",
                    "USO_PXWEB_URL", lambda client: pxweb.PxWeb(client), pxweb.plan,
                    pxweb.fetch, "PxWeb"),
    "sotkanet": Source("sotkanet", "THL Sotkanet REST API 1.1", "THL", "USO_SOTKANET_URL",
                       lambda client: sotkanet.Sotkanet.create(client), sotkanet.plan,
                       sotkanet.fetch, "Sotkanet"),
}


def get(source_id: str) -> Source:
    try:
        return SOURCES[source_id]
    except KeyError:
        raise UsoError(f"No live source {source_id!r}; uso can refresh from "
                       f"{', '.join(SOURCES)}.") from None


def is_refreshable(ind: Indicator) -> bool:
    return ind.live is not None and ind.live.source in SOURCES


__all__ = ["SOURCES", "Source", "get", "is_refreshable", "IndicatorResult", "PlannedRequest",
           "HttpCache", "HttpClient", "RateLimiter"]
