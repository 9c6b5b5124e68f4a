"""How old the report's figures are, and whether the publishers have released newer ones.

A report mixes figures of very different ages (population to last year, jobs and municipal
finance several years older), and a reader must see that at once: the cover states the span
of the latest years among the indicators the report shows and names the oldest ones, each
theme section the year of its newest and oldest figures, and ``reports/index.html`` the span
per report.

"Shown" means an indicator with at least one figure of the municipality (any category); a
projection's years are forecast years, not the age of the data, so projections do not count.
With a comparison year (``vuosi``) only the years up to it count, as in the comparisons.

Whether something newer is published comes from the services' metadata that
``uso data sources`` left in the HTTP cache, read with
:func:`uso_lib.cli.sources.check` in cache-only mode: a report never asks a service, stays
offline and fast, and reads the cache once per process (again only when the cache file
changed). Without a cache nothing is said about newer releases.
"""

from __future__ import annotations

import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib import config
from uso_lib.catalog import Indicator
from uso_lib.errors import UsoError
from uso_lib.report.html import paragraph
from uso_lib.sources.httpcache import HttpCache
from uso_lib.store import Store

if TYPE_CHECKING:
    from uso_lib.cli.sources import SourceRow
    from uso_lib.report.state import Report

NAMED = 4  # indicators named in a sentence before "ja N muuta"


@dataclass(frozen=True)
class Age:
    """The latest year of each shown indicator (id -> year) of one municipality."""

    latest: dict[str, int] = field(default_factory=dict)

    @property
    def newest(self) -> int | None:
        return max(self.latest.values()) if self.latest else None

    @property
    def oldest(self) -> int | None:
        return min(self.latest.values()) if self.latest else None

    def at(self, year: int | None) -> list[Indicator]:
        """The indicators whose latest year is ``year``, in catalogue order."""
        return [i for i in catalog_mod.catalog().indicators if self.latest.get(i.id) == year]

    def theme(self, theme_id: str) -> Age:
        ids = {i.id for i in catalog_mod.catalog().indicators if i.theme == theme_id}
        return Age({k: v for k, v in self.latest.items() if k in ids})

    def span(self) -> str:
        lo, hi = self.oldest, self.newest
        return "" if lo is None else str(lo) if lo == hi else f"{lo}–{hi}"


@dataclass(frozen=True)
class Newer:
    """A later year published than the report's data has (from cached metadata)."""

    indicator: Indicator
    have: int | None  # the latest year of the indicator in the report's store, any region
    offered: int
    table: str


# -- the data's age ------------------------------------------------------------------------------
_LATEST: dict[tuple[int, int | None], tuple[pd.DataFrame, dict[str, dict[str, int]],
                                            dict[str, int]]] = {}


def _latest_tables(store: Store, year: int | None) -> tuple[dict[str, dict[str, int]],
                                                            dict[str, int]]:
    """(municipality -> indicator -> latest year, indicator -> latest year anywhere), from
    the figures that are not missing; one pass over the store, kept per loaded frame (the
    factory's index asks for every report of a run)."""
    frame = store.frame
    key = (id(frame), year)
    hit = _LATEST.get(key)
    if hit is not None and hit[0] is frame:
        return hit[1], hit[2]
    df = frame.loc[frame["value"].notna(), ["kunta", "indicator", "year"]]
    if year is not None:
        df = df[df["year"] <= int(year)]
    by_kunta: dict[str, dict[str, int]] = {}
    for (kunta, ind), y in df.groupby(["kunta", "indicator"], observed=True)["year"].max().items():
        by_kunta.setdefault(str(kunta), {})[str(ind)] = int(y)
    anywhere = {str(k): int(v) for k, v in
                df.groupby("indicator", observed=True)["year"].max().items()}
    if len(_LATEST) > 4:
        _LATEST.clear()
    _LATEST[key] = (frame, by_kunta, anywhere)
    return by_kunta, anywhere


def age(store: Store, kunta: str, *, year: int | None = None) -> Age:
    """The latest year of every indicator the report of ``kunta`` shows."""
    own = _latest_tables(store, year)[0].get(kunta, {})
    return Age({i.id: own[i.id] for i in catalog_mod.catalog().indicators
                if i.id in own and i.future != "projection"})


def _names(inds: list[Indicator], limit: int = NAMED) -> str:
    """Labels joined by semicolons: labels contain commas and "ja" themselves."""
    names = [i.label for i in inds[:limit]]
    more = len(inds) - len(names)
    return "; ".join(names) + (f"; lisäksi {more} muuta" if more else "")


def cover_text(a: Age, year: int | None = None) -> str:
    """The cover's line: the span of latest years, the newest and the oldest named."""
    if a.newest is None:
        return "Tiedot: kunnan lukuja ei ole aineistossa."
    upto = f" (vertailuvuosi {year}: luvut vuoteen {year} asti)" if year else ""
    newest, oldest = a.at(a.newest), a.at(a.oldest)
    if a.newest == a.oldest:
        return f"Tiedot vuodelta {a.newest}{upto}: kaikkien mittarien uusimmat luvut."
    counts = Counter(a.latest.values())
    spread = ", ".join(f"{y}: {counts[y]}" for y in sorted(counts, reverse=True))
    return (f"Tiedot vuosilta {a.span()}{upto}: uusimmat luvut vuodelta {a.newest} "
            f"({_names(newest)}), vanhimmat vuodelta {a.oldest} ({len(oldest)} mittaria: "
            f"{_names(oldest)}). Mittareita viimeisimmän tilastovuoden mukaan: {spread}.")


def section_text(a: Age) -> str:
    """A theme's line: the year of its latest figure (and of the oldest latest figure)."""
    if a.newest is None:
        return "Tietojen ikä: osiossa ei ole kunnan lukuja."
    if a.newest == a.oldest:
        return f"Tietojen ikä: osion luvut ovat vuodelta {a.newest}."
    return (f"Tietojen ikä: osion uusin luku on vuodelta {a.newest} "
            f"({_names(a.at(a.newest))}), vanhimmat vuodelta {a.oldest} "
            f"({_names(a.at(a.oldest))}).")


# -- newer releases, from the HTTP cache alone ---------------------------------------------------
_OFFERED: dict[tuple, dict[str, SourceRow]] = {}


def _cache_key() -> tuple | None:
    path = HttpCache().path
    stamps = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = p.stat()
        except OSError:
            stamps.append(None)
            continue
        stamps.append((st.st_mtime_ns, st.st_size))
    if stamps[0] is None:
        return None
    return (str(path), *stamps, config.url("USO_PXWEB_URL"), config.url("USO_SOTKANET_URL"))


def offered(store: Store | None = None) -> dict[str, SourceRow]:
    """Indicator id -> what the cached metadata says the service offers (only entries whose
    codes resolved and whose latest year is known). Empty when nothing was ever cached, so
    that an offline machine never even opens a cache. ``store``: the report's, so that the
    check loads no second store (its rows' store years are not used here)."""
    key = _cache_key()
    if key is None:
        return {}
    if key not in _OFFERED:
        from uso_lib.cli import sources as sources_cli

        try:
            rows = sources_cli.check(cache_only=True, store=store)
        except UsoError:  # a damaged cache says nothing about the data: no note
            rows = []
        _OFFERED.clear()
        _OFFERED[key] = {r.indicator: r for r in rows if r.latest_offered_year is not None
                         and r.status in (sources_cli.OK, sources_cli.NEWER)}
    return _OFFERED[key]


def newer(store: Store, indicator_ids: list[str] | None = None) -> list[Newer]:
    """Indicators whose service offers a later year than the store's latest (any region),
    in catalogue order."""
    rows = offered(store)
    if not rows:
        return []
    anywhere = _latest_tables(store, None)[1]
    wanted = set(indicator_ids) if indicator_ids is not None else None
    out = []
    for ind in catalog_mod.catalog().indicators:
        row = rows.get(ind.id)
        if row is None or (wanted is not None and ind.id not in wanted):
            continue
        have = anywhere.get(ind.id)
        if have is None or row.latest_offered_year > have:
            out.append(Newer(ind, have, row.latest_offered_year, row.table))
    return out


def newer_text(items: list[Newer], kunta_name: str, aineisto: str) -> str:
    """Which newer years are published and the commands that bring them into a report."""
    what = "; ".join(
        f"{n.indicator.label}: {n.offered} ("
        + (f"raportissa {n.have}" if n.have is not None else "ei raportin aineistossa")
        + f"; {n.table})" for n in items)
    ids = ",".join(n.indicator.id for n in items)
    then = ("laadi raportti uudelleen" if aineisto == "local" else
            "laadi raportti paikallisella aineistolla")
    return (f"Uudempia tietoja on julkaistu: {what}. Hae ne komennolla "
            f"`uso data refresh --indicators {ids}` ja {then}: "
            f"`uso report {shlex.quote(kunta_name)} --aineisto local`. (Tieto on palvelujen "
            "metatiedoista uso-välimuistissa; raporttia laadittaessa palveluilta ei kysytty "
            "mitään.)")


# -- the report's pieces -------------------------------------------------------------------------
def report_age(r: Report) -> Age:
    return age(r.store, r.kunta.code, year=r.year)


def cover_html(r: Report) -> str:
    """The cover's paragraph on the data's age, and a pointer to newer releases."""
    out = paragraph(cover_text(report_age(r), r.year), cls="uso-freshness")
    found = newer(r.store)
    if found:
        out += paragraph(f"Palveluissa on julkaistu uudempia tietoja {len(found)} mittarista "
                         "(ks. teemaosiot ja `uso data sources`).", cls="uso-freshness")
    return out


def section_html(r: Report, theme_id: str) -> str:
    """A theme's line on the age of its figures, and a note when newer ones are published."""
    a = report_age(r).theme(theme_id)
    out = paragraph(section_text(a), cls="uso-freshness")
    ids = [i.id for i in catalog_mod.catalog().indicators if i.theme == theme_id]
    found = newer(r.store, ids)
    if found:
        out += (f'<div class="uso-note uso-newer">'
                f"{paragraph(newer_text(found, r.kunta.name_fi, r.aineisto))}</div>")
    return out


def index_entry(store: Store, kunta: str, year: object = None) -> tuple[str, str]:
    """The index page's data date of one report: (span of latest years, what it means)."""
    try:
        y = int(str(year)) if year not in (None, "") else None
    except ValueError:
        y = None
    a = age(store, kunta, year=y)
    if a.newest is None:
        return "–", "ei kunnan lukuja"
    return a.span(), (f"uusimmat luvut {a.newest}: {_names(a.at(a.newest), 3)}; vanhimmat "
                      f"{a.oldest}: {_names(a.at(a.oldest), 3)}")
