"""A local PxWeb stand-in built from real recorded metadata (tests/fixtures/pxweb/).

The stand-in answers ``?config``, the table's metadata and its data POST; the data answer is a
json-stat2 dataset of exactly what the POST asked for, each cell's value given by a function
of its codes, so a test can say which figure belongs to which municipality, item and year.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import httpfake

FIXTURES = Path(__file__).parent / "fixtures" / "pxweb"
BASE = "/PXWeb/api/v1/fi"
LIMITS = {"maxValues": 120000, "maxCells": 120000, "maxCalls": 40, "timeWindow": 60}

Cell = dict[str, str]  # variable code -> value code


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def metadata(doc: dict) -> dict:
    """A fixture as the metadata answer the server sends (without its ``_source``)."""
    return {k: v for k, v in doc.items() if k != "_source"}


def selection_of(rec: httpfake.Recorded) -> dict[str, list[str]]:
    return {q["code"]: list(q["selection"]["values"]) for q in rec.json["query"]}


def dataset(selection: dict[str, list[str]], value: Callable[[Cell], float | None], *,
            status: Callable[[Cell], str] | None = None,
            updated: str = "2025-10-31T05:00:00Z") -> dict:
    """A json-stat2 dataset over ``selection`` (row-major, in the selection's order)."""
    ids = list(selection)
    values, flags = [], {}
    for pos, combo in enumerate(itertools.product(*(selection[d] for d in ids))):
        cell = dict(zip(ids, combo, strict=True))
        v = value(cell)
        values.append(v)
        if v is None:
            flags[str(pos)] = status(cell) if status else ".."
    doc = {"version": "2.0", "class": "dataset", "label": "stand-in", "source": "Tilastokeskus",
           "updated": updated, "id": ids, "size": [len(selection[d]) for d in ids],
           "dimension": {d: {"label": d, "category": {
               "index": {c: i for i, c in enumerate(selection[d])},
               "label": {c: c for c in selection[d]}}} for d in ids},
           "value": values}
    if flags:
        doc["status"] = flags
    return doc


def serve(srv: httpfake.FakeServer, table: str, meta: dict,
          value: Callable[[Cell], float | None], *, limits: dict | None = None,
          status: Callable[[Cell], str] | None = None) -> str:
    """Serve ``?config``, the metadata and the data of ``table`` (``Database/path/id.px``);
    returns the table's URL path."""
    path = f"{BASE}/{table}"
    srv.route("GET", BASE + "/", httpfake.Reply(json=limits or LIMITS), query="config")
    srv.route("GET", path, httpfake.Reply(json=meta))
    srv.route("POST", path, lambda rec: httpfake.Reply(
        json=dataset(selection_of(rec), value, status=status)))
    return path
