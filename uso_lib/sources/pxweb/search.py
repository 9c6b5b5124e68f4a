"""Finding a table by the database's own search, when the catalogue knows only what it is.

A series' search finds every yearly release of it (``kuntien_avainluvut_2021_aikasarja``,
``uusin/kuntien_avainluvut_aikasarja``, ...); the refresh wants the current one and notes which
it chose, so a maintainer can confirm it and set ``live.table``.
"""

from __future__ import annotations

from dataclasses import dataclass

from uso_lib import config
from uso_lib.errors import SourceError
from uso_lib.regions import fold


@dataclass(frozen=True)
class TableHit:
    """The table a database search chose, and what it was chosen from."""

    table: str  # folder path and id as the data URL wants it: "uusin/kuntien_avainluvut_aikasarja"
    title: str
    published: str
    score: float
    matches: int  # how many hits named the query

    def describe(self, database: str, query: str) -> str:
        return (f"the search {query!r} in {database} chose table {self.table} ({self.title}, "
                f"published {self.published or 'unknown'}) of {self.matches} match(es)")


def choose_table(hits: list[dict], query: str, *, database: str) -> TableHit:
    """The newest table among the search hits whose id, path or title contains every word of
    the query (all hits when none does); equally new ones by the search score.

    Newest first because a series' search finds every yearly release of it, and the refresh
    wants the current one; the word filter keeps an unrelated newer table out.
    """
    what = f"PxWeb search {query!r} in {database}"
    tables = []
    for h in hits:
        if not isinstance(h, dict) or not h.get("id"):
            raise SourceError(f"{what}: a hit lacks its table id ({h!r:.80}).")
        tables.append(h)
    if not tables:
        raise SourceError(f"{what} found no table.",
                          hint=f"Set the indicator's live.table to the table id (browse GET "
                               f"{config.url('USO_PXWEB_URL')}/{database}) or change "
                               "live.table_query.")
    words = fold(query).split()

    def names(h: dict) -> bool:
        text = fold(" ".join(str(h.get(k) or "") for k in ("id", "path", "title")))
        return all(w in text for w in words)

    named = [h for h in tables if names(h)]
    pool = named or tables

    def score(h: dict) -> float:
        try:
            return float(h.get("score") or 0)
        except (TypeError, ValueError):
            return 0.0

    best = max(pool, key=lambda h: (str(h.get("published") or ""), score(h)))
    table_id = str(best["id"]).removesuffix(".px")
    folder = str(best.get("path") or "").strip("/")
    return TableHit(table=f"{folder}/{table_id}" if folder else table_id,
                    title=str(best.get("title") or ""),
                    published=str(best.get("published") or "")[:10], score=score(best),
                    matches=len(pool))


__all__ = ["TableHit", "choose_table"]
