"""Finnish number formatting (``19,7 €``, ``5 887``, ``11,1 %``) through Babel's fi_FI locale.

Babel writes the thousands separator and the space before ``%`` and ``€`` as a no-break space
(U+00A0), as Finnish typography wants: a figure never breaks across lines. Missing values are
shown as missing (``–`` or the publisher's status symbol), never as zero.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache

from babel.dates import format_date as _format_date
from babel.numbers import format_decimal

LOCALE = "fi_FI"
NBSP = "\u00a0"
MISSING = "–"

_UNIT_SUFFIX = {"%": "%", "€": "€", "eur": "€", "prosentti": "%"}


def _is_missing(value: object) -> bool:
    """None, NaN, text -- and infinity: a non-finite figure is no figure (an ``inf`` that
    slipped into a store must show as missing, not stop the report with Decimal's
    InvalidOperation)."""
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return True


def number(value: object, decimals: int = 0, *, missing: str = MISSING,
           signed: bool = False) -> str:
    """``5887`` -> ``5 887``; ``11.1`` (1 decimal) -> ``11,1``.

    Rounds half away from zero on the decimal text of the value (as statistical tables do:
    3,25 -> 3,3), not Babel's default half-to-even."""
    if _is_missing(value):
        return missing
    return _number(float(value), int(decimals), bool(signed))  # type: ignore[arg-type]


# room for every digit of the largest float (1.8e308) and its decimals: the default 28 digits
# made quantize() raise InvalidOperation for 1e28 and beyond, which stopped whole reports
_WIDE = Context(prec=400)


@lru_cache(maxsize=2**16)
def _number(v: float, decimals: int, signed: bool) -> str:
    """:func:`number` of a present value, cached: a report writes the same few hundred figures
    in several places (and charts their tick labels), and Babel's formatting is slow next to
    a dictionary look-up (benchmarks/README.md). Equal floats give equal text (0.0 and -0.0
    both give "0"), so the cache key is safe."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    with localcontext(_WIDE):  # Babel quantizes again in the current context
        q = Decimal(repr(v)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        text = format_decimal(q, format=pattern, locale=LOCALE, decimal_quantization=True)
    text = text.replace("\u2212", "-")
    if text in {"-0", "-0," + "0" * decimals}:
        text = text[1:]
    if signed and v > 0 and not text.startswith("+"):
        text = "+" + text
    return text.replace("-", "\u2212") if text.startswith("-") else text


def with_unit(value: object, unit: str | None, decimals: int = 0, *, missing: str = MISSING,
              signed: bool = False) -> str:
    """``19.7, "€"`` -> ``19,7 €``; ``11.1, "%"`` -> ``11,1 %``; other units follow after a
    space (``895,3 €/as.``)."""
    text = number(value, decimals, missing=missing, signed=signed)
    if text == missing or not unit:
        return text
    return f"{text}{NBSP}{_UNIT_SUFFIX.get(unit, unit)}"


def percent(value: object, decimals: int = 1, **kw: object) -> str:
    return with_unit(value, "%", decimals, **kw)  # type: ignore[arg-type]


def euro(value: object, decimals: int = 0, **kw: object) -> str:
    return with_unit(value, "€", decimals, **kw)  # type: ignore[arg-type]


def change_pct(value: object, decimals: int = 1) -> str:
    """A signed percentage change: ``+2,3 %`` / ``−4,1 %``."""
    return with_unit(value, "%", decimals, signed=True)


@lru_cache(maxsize=1024)
def day(d: date) -> str:
    """``28.11.2026``: the short Finnish date."""
    return _format_date(d, format="d.M.yyyy", locale=LOCALE)


def axis_formatter(decimals: int = 0, unit: str | None = None):
    """A matplotlib tick formatter that writes Finnish numbers."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: with_unit(v, unit, decimals))
