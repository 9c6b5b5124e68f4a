"""Where a figure comes from, said the same way everywhere.

Every figure uso shows carries its publisher, its table or indicator id and its years (the
publishers' CC BY 4.0 terms ask for the source, and a reader needs the year to judge a figure).
The report's tables and captions, the charts, the maps, the index page, the command line and
the error messages all word them with these functions, so a source reads alike wherever it
appears: ``Lähde: Tilastokeskus, StatFin 11re (2019–2023)``.
"""

from __future__ import annotations

from collections.abc import Iterable

LABEL = "Lähde"
PARTIAL = "osa vuosista"  # a span of years with gaps too many to list


def source_text(source: str, table: str = "", year: int | None = None) -> str:
    """``"Tilastokeskus, StatFin 11re, 2021"``: the publisher, the table or indicator id
    (unless the source already names it) and the year, when given."""
    source = str(source or "").strip()
    table = str(table or "").strip()
    parts = [source] if source else []
    if table and table not in source and table.split()[-1] not in source:
        parts.append(table)
    if year is not None:
        parts.append(str(year))
    return ", ".join(parts)


def year_span(years: Iterable[int]) -> str:
    """The years of a set of figures: ``2021``, ``2019–2023``, ``2015, 2017, 2019`` (up to
    four years with gaps) or ``2000–2023 (osa vuosista)``; empty for no years."""
    ys = sorted({int(y) for y in years})
    if not ys:
        return ""
    if len(ys) == 1:
        return str(ys[0])
    if ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}–{ys[-1]}"
    if len(ys) <= 4:
        return ", ".join(map(str, ys))
    return f"{ys[0]}–{ys[-1]} ({PARTIAL})"


def group_years(sources: Iterable, tables: Iterable,
                years: Iterable) -> dict[tuple[str, str], set[int]]:
    """(source, table) -> its years, sorted by source (a plain loop: a pandas groupby costs
    more than the few dozen rows of a chart). A missing year (None or NaN) adds no year."""
    out: dict[tuple[str, str], set[int]] = {}
    for s, t, y in zip(sources, tables, years, strict=True):
        got = out.setdefault((s, t), set())
        if y is not None and y == y:
            got.add(int(y))
    return dict(sorted(out.items()))


def sources_with_years(sources: Iterable, tables: Iterable, years: Iterable) -> list[str]:
    """One ``"Tilastokeskus, StatFin 11re (2019–2023)"`` per source and table, by source."""
    out = []
    for (s, t), ys in group_years(sources, tables, years).items():
        text, span = source_text(s, t), year_span(ys)
        out.append(f"{text} ({span})" if span else text)
    return out


def source_line(parts: str | Iterable[str]) -> str:
    """``"Lähde: a; b"`` from one source text or several (repeats dropped, order kept); a text
    that already starts with "Lähde" or "Lähteet" is kept as it is; empty for no source."""
    if not isinstance(parts, str):
        parts = "; ".join(s for s in dict.fromkeys(str(x).strip() for x in parts) if s)
    parts = parts.strip()
    if not parts or parts.lower().startswith(("lähde", "lähteet")):
        return parts
    return f"{LABEL}: {parts}"
