"""Printing helpers shared by the sub-commands: JSON that keeps Finnish letters, and plain
aligned tables."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):  # JSON has no NaN or Infinity
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return _clean(obj.item())
    return obj


def print_json(obj) -> None:
    json.dump(_clean(obj), sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def print_table(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> None:
    rows = [["" if v is None else str(v) for v in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, r, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip())
