"""json-stat2 answers: checked against the query that asked for them, then decoded.

A refresh once stored 10^7 cells with periods 1000-33258 when 2021-2024 had been asked for,
summed colliding rows, and answered "9999: 1 henkeä" afterwards. So before anything of an
answer is used, :func:`check_answer` holds it to its query:

- every variable asked for is a dimension of the answer, and every dimension was asked for --
  except one of a single category: the total PxWeb returns for a variable left out
  (eliminated), as the real answers do;
- each dimension's categories are among the values asked for: the same values, or a subset
  (the documented exception: a server may leave out values it has no figures for); a value
  or period not asked for is refused;
- no category is listed twice (duplicate cells), ``size`` agrees with the categories and
  ``value`` has exactly one entry per cell, and the cell count is at most the query's.

A mismatch raises :class:`AnswerMismatch` naming the table and what differed; the caller
forgets the answer in the HTTP cache. pyjstat decodes only answers that passed; ``status``
symbols (``.``, ``..``, ``:``) are read from the JSON here because pyjstat drops them.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pyjstat import pyjstat

from uso_lib.errors import SourceError

BROKEN_ANSWER = ("The answer contradicts itself, so none of it is used; the service may be "
                 "failing. Try again later (uso data refresh); the previous figures are kept.")
SHOWN = 4  # values quoted per problem


class AnswerMismatch(SourceError):
    """An answer that is not the answer to its query."""


@dataclass
class Decoded:
    """A decoded json-stat2 answer: one row per cell, variable codes as columns."""

    frame: pd.DataFrame  # variable-code columns + value (float) + status (str)
    updated: str  # ISO date of the table's update
    label: str
    source: str
    origin: str = "live"
    retrieved: str = ""
    notes: list[str] = field(default_factory=list)


def _is_dataset(doc: object) -> bool:
    return isinstance(doc, dict) and all(k in doc for k in ("id", "size", "dimension", "value"))


def _not_dataset(doc: object, what: str) -> SourceError:
    keys = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
    return SourceError(f"{what}: the answer is not a json-stat2 dataset (found {keys}).",
                       hint="The service may be failing or its format may have changed.")


def categories(doc: dict, dim: str) -> list[str]:
    """A dimension's category codes in their json-stat order (index list or dict, or the
    labels of a single-category dimension that omits its index)."""
    cat = doc["dimension"][dim]["category"]
    index = cat.get("index")
    if isinstance(index, list):
        return [str(c) for c in index]
    if isinstance(index, dict):
        return [str(c) for c in sorted(index, key=index.get)]
    if index is None and isinstance(cat.get("label"), dict):
        return [str(c) for c in cat["label"]]
    raise TypeError(f"dimension {dim} has no category index")


def _quote(values: list[str]) -> str:
    shown = ", ".join(values[:SHOWN])
    return shown + (f" ... ({len(values)} in all)" if len(values) > SHOWN else "")


def check_answer(doc: object, selection: dict[str, list[str]], *, what: str) -> None:
    """Refuse an answer that does not answer the query ``selection`` (variable -> values).

    Cheap: reads only ``id``, ``size`` and the category lists, so a huge wrong answer is
    refused before it is decoded.
    """
    if not _is_dataset(doc):
        raise _not_dataset(doc, what)
    problems: list[str] = []
    try:
        ids, sizes = [str(d) for d in doc["id"]], [int(s) for s in doc["size"]]
    except (TypeError, ValueError) as exc:
        raise AnswerMismatch(f"{what}: the json-stat2 answer's 'id' and 'size' are malformed "
                             f"({exc}).", hint=BROKEN_ANSWER) from None
    if len(ids) != len(sizes):
        raise AnswerMismatch(f"{what}: the json-stat2 answer's 'id' and 'size' do not match "
                             f"({len(ids)} dimensions but {len(sizes)} sizes).",
                             hint=BROKEN_ANSWER)
    try:
        cats = {d: categories(doc, d) for d in ids}
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise AnswerMismatch(f"{what}: the json-stat2 answer's dimensions are malformed "
                             f"({exc!r}).", hint=BROKEN_ANSWER) from None
    if len(set(ids)) != len(ids):
        problems.append(f"dimensions listed twice ({_quote(ids)})")
    for dim, size in zip(ids, sizes, strict=True):
        codes = cats[dim]
        if len(codes) != size:
            problems.append(f"{dim} has {len(codes)} categories but size {size}")
        dup = sorted(c for c, k in Counter(codes).items() if k > 1)
        if dup:
            problems.append(f"{dim} lists {_quote(dup)} more than once (duplicate cells)")
        if dim in selection:
            asked = set(selection[dim])
            extra = [c for c in codes if c not in asked]
            if extra:
                problems.append(f"{dim} has {len(extra)} value(s) not asked for: "
                                f"{_quote(extra)} (asked {_quote(list(selection[dim]))})")
        elif size != 1:
            problems.append(f"dimension {dim} ({size} values) was not asked for")
    missing = [d for d in selection if d not in ids]
    if missing:
        problems.append(f"variable(s) asked for are missing: {', '.join(missing)}")
    cells = math.prod(sizes) if sizes else 0
    asked_cells = math.prod(len(v) for v in selection.values()) if selection else 1
    if cells > asked_cells:
        problems.append(f"{cells} cells where the query asked for at most {asked_cells}")
    values = doc["value"]
    if isinstance(values, list) and len(values) != cells:
        problems.append(f"it has {len(values)} cells, its size says {cells}")
    elif not isinstance(values, list | dict):
        problems.append(f"'value' is a {type(values).__name__}")
    if problems:
        raise AnswerMismatch(
            f"{what}: the answer does not match the query, so none of it is used: "
            + "; ".join(problems) + ".",
            hint="It is not kept in the HTTP cache, so the next `uso data refresh` asks "
                 "again; the previous figures are kept. If it persists, the service is "
                 "failing or its format has changed.")


def decode(doc: object, *, what: str) -> Decoded:
    """Decode a json-stat2 dataset (already parsed JSON) into a long frame with status symbols.

    Raises :class:`SourceError` naming ``what`` when the document is not a json-stat2 dataset.
    """
    if not _is_dataset(doc):
        raise _not_dataset(doc, what)
    try:
        ids, sizes = list(doc["id"]), [int(s) for s in doc["size"]]
        if len(ids) != len(sizes):
            raise ValueError(f"{len(ids)} dimensions but {len(sizes)} sizes")
    except (TypeError, ValueError) as exc:
        raise SourceError(f"{what}: the json-stat2 answer's 'id' and 'size' do not match "
                          f"({exc}).", hint=BROKEN_ANSWER) from None
    n = math.prod(sizes)
    try:
        with warnings.catch_warnings():  # pyjstat warns about its own internal call
            warnings.simplefilter("ignore", DeprecationWarning)
            frame = pyjstat.Dataset.read(OrderedDict(doc)).write("dataframe", naming="id")
    except Exception as exc:  # pyjstat raises KeyError/ValueError/IndexError on bad shapes
        raise SourceError(f"{what}: could not decode the json-stat2 answer ({exc!r}).") from exc
    if len(frame) != n:
        raise SourceError(f"{what}: the json-stat2 answer has {len(frame)} cells, "
                          f"its size says {n}.", hint=BROKEN_ANSWER)
    # Status symbols by flat (row-major) position, independent of pyjstat's row order.
    flat = np.zeros(len(frame), dtype="int64")
    stride = 1
    for dim, size in zip(reversed(ids), reversed(sizes), strict=True):
        index = {c: i for i, c in enumerate(categories(doc, dim))}
        flat += frame[dim].map(index).to_numpy(dtype="int64") * stride
        stride *= size
    status = doc.get("status")
    if isinstance(status, str):
        symbols = np.full(len(frame), status, dtype=object)
    elif isinstance(status, list):
        symbols = np.array([status[i] or "" for i in flat], dtype=object)
    elif isinstance(status, dict):
        symbols = np.array([status.get(str(i), "") or "" for i in flat], dtype=object)
    else:
        symbols = np.full(len(frame), "", dtype=object)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    frame["status"] = symbols
    for dim in ids:
        frame[dim] = frame[dim].astype(str).astype(object)
    if frame.duplicated(list(ids)).any():
        raise AnswerMismatch(f"{what}: the answer holds the same cell more than once.",
                             hint=BROKEN_ANSWER)
    updated = str(doc.get("updated") or "")[:10]
    return Decoded(frame=frame.reset_index(drop=True), updated=updated,
                   label=str(doc.get("label") or ""), source=str(doc.get("source") or ""))


__all__ = ["AnswerMismatch", "Decoded", "check_answer", "decode", "categories"]
