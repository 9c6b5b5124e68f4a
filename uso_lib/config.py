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
=========================  ===============================================  ================
"""

from __future__ import annotations

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
