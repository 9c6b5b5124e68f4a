"""Where things live, read from the environment at call time (so tests and mirrors can point
elsewhere without touching code).

=========================  ===============================================  ================
variable                   meaning                                          default
=========================  ===============================================  ================
USO_DATA_DIR               the local indicator store (live refreshes,       user data dir
                           imported spreadsheets)
USO_CACHE_DIR              the HTTP cache                                   user cache dir
USO_SNAPSHOT_DIR           an alternative embedded snapshot (tests, a       the package's
                           snapshot built elsewhere)                        data/snapshot
USO_PXWEB_URL              Statistics Finland PxWeb API v1 base             pxdata.stat.fi
USO_SOTKANET_URL           THL Sotkanet REST 1.1 base                       sotkanet.fi
USO_GEOSTAT_URL            Statistics Finland WFS                           geo.stat.fi
USO_CLASSIFICATION_URL     Statistics Finland classification API v2         data.stat.fi
USO_HTTP_TIMEOUT           seconds one attempt may take: connecting,        60
                           waiting, and receiving the whole body
USO_HTTP_BUDGET            seconds one request may take with its retries    90
                           and waits (rate limit, Retry-After)
USO_HTTP_MAX_MB            largest answer accepted, in megabytes            200
USO_REFRESH_TIMEOUT        seconds a whole ``uso data refresh`` may take    120 per table
                           (``--timeout`` overrides)
=========================  ===============================================  ================
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from platformdirs import user_cache_dir, user_data_dir

APP = "uso"

DEFAULT_URLS = {
    "USO_PXWEB_URL": "https://pxdata.stat.fi/PXWeb/api/v1/fi",
    "USO_SOTKANET_URL": "https://sotkanet.fi/rest/1.1",
    "USO_GEOSTAT_URL": "https://geo.stat.fi/geoserver/wfs",
    "USO_CLASSIFICATION_URL": "https://data.stat.fi/api/classifications/v2",
}

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_DATA = PACKAGE_DIR / "data"
SNAPSHOT_DIR = PACKAGE_DATA / "snapshot"

# Why these defaults: a large PxWeb query is computed in seconds to tens of seconds, so a minute
# per attempt is ample; one request with its retries stays under a minute and a half, so that a
# refresh against a server that trickles or hangs ends within two minutes (the host is then
# skipped for the rest of the run); 200 MB is far above any answer within the cell limits.
HTTP_DEFAULTS = {"USO_HTTP_TIMEOUT": 60.0, "USO_HTTP_BUDGET": 90.0, "USO_HTTP_MAX_MB": 200.0}
REFRESH_SECONDS_PER_TABLE = 120.0


def data_dir() -> Path:
    return Path(os.environ.get("USO_DATA_DIR") or user_data_dir(APP))


def snapshot_dir() -> Path:
    return Path(os.environ.get("USO_SNAPSHOT_DIR") or SNAPSHOT_DIR)


def cache_dir() -> Path:
    return Path(os.environ.get("USO_CACHE_DIR") or user_cache_dir(APP))


def url(name: str) -> str:
    """Base URL of a service, without a trailing slash. ``name`` is e.g. ``"USO_PXWEB_URL"``."""
    if name not in DEFAULT_URLS:
        raise KeyError(name)
    return (os.environ.get(name) or DEFAULT_URLS[name]).rstrip("/")


def user_agent() -> str:
    from uso_lib import __version__

    return f"uso/{__version__} (Kuntaliitto USO situation analysis; +https://www.kuntaliitto.fi/uso)"


def number(name: str, default: float | None = None) -> float | None:
    """A positive number from the environment (``USO_HTTP_TIMEOUT=30``; a decimal comma is
    accepted); ``default`` when unset. A bad value is a :class:`UsoError` naming the variable,
    never silently replaced."""
    from uso_lib.errors import UsoError

    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return HTTP_DEFAULTS.get(name, default)
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsoError(f"{name}={raw!r} is not a positive number.",
                       hint=f"Give seconds (or megabytes for USO_HTTP_MAX_MB), e.g. {name}=60, "
                            "or unset it for the default.")
    return value


def http_timeout() -> float:
    """Seconds one HTTP attempt may take, the whole body included."""
    return number("USO_HTTP_TIMEOUT")


def http_budget() -> float:
    """Seconds one HTTP request may take including its retries and waits."""
    return number("USO_HTTP_BUDGET")


def http_max_bytes() -> int:
    """The largest HTTP answer accepted."""
    return int(number("USO_HTTP_MAX_MB") * 1_000_000)


def refresh_timeout(tables: int) -> float:
    """Seconds a refresh of ``tables`` tables (or Sotkanet indicators) may take."""
    return number("USO_REFRESH_TIMEOUT", REFRESH_SECONDS_PER_TABLE * max(1, tables))
