"""Statistics Finland PxWeb API v1: a generic client and the catalogue's binding to it.

Since 8 June 2026 table ids are short (``11re``) and variable codes embed a classification
date (``alue_23_20260101``), so they change over time; region variables mix many region
classes, time comes as years, months or quarters, and content codes gain publisher prefixes.
The package keeps what any PxWeb user needs apart from what uso's catalogue needs:

- :mod:`.client` -- the service: limits from ``?config`` (sanity-checked), rate limiting,
  browsing, search, metadata, query splitting, every answer held to its query;
- :mod:`.jsonstat` -- json-stat2 answers checked against their query and decoded (pyjstat);
- :mod:`.meta` -- what a table's metadata means: region, time and content variables by their
  values and flags, period codes, the store's region keys;
- :mod:`.search` -- a table found by the database's search;
- :mod:`.periods` -- a year's figure from months or quarters (``live.period``);
- :mod:`.contents` -- content codes by code first, labels only as a reported fallback;
- :mod:`.binding` -- catalogue indicators grouped by table, resolved to queries, answers to
  store rows; ``plan`` and ``fetch`` for ``uso data refresh``.

``from uso_lib.sources import pxweb`` gives the names below.
"""

from __future__ import annotations

from uso_lib.sources.pxweb.binding import (
                                           PUBLISHER,
                                           Resolved,
                                           TableGroup,
                                           fetch,
                                           group_indicators,
                                           locate,
                                           plan,
                                           resolve,
                                           store_rows,
)
from uso_lib.sources.pxweb.client import (
                                           Limits,
                                           PxWeb,
                                           Query,
                                           cells,
                                           split_selection,
                                           table_id,
                                           table_path,
)
from uso_lib.sources.pxweb.contents import ContentMatch, label_key, match_code, match_label
from uso_lib.sources.pxweb.jsonstat import AnswerMismatch, Decoded, check_answer, decode
from uso_lib.sources.pxweb.meta import TOTAL, Period, TableMeta, Variable, parse_period, store_code
from uso_lib.sources.pxweb.search import TableHit, choose_table

__all__ = ["PxWeb", "Limits", "TableMeta", "Variable", "Query", "Decoded", "decode",
           "check_answer", "AnswerMismatch", "resolve", "Resolved", "plan", "fetch",
           "group_indicators", "TableGroup", "store_rows", "table_path", "table_id", "cells",
           "split_selection", "TableHit", "choose_table", "locate", "label_key", "match_label",
           "match_code", "ContentMatch", "Period", "parse_period", "store_code", "TOTAL",
           "PUBLISHER"]
