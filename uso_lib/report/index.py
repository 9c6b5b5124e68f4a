"""``reports/index.html``: every report of the output folder with its headline figures.

The page lists, per municipality, the latest population and its change over the report's
default period (:data:`uso_lib.compare.DEFAULT_SPAN` years), the unemployment rate, links to
the report and its data appendix, and then the municipalities whose report failed with the
reason. The figures come from the same store the reports use (via :mod:`uso_lib.compare`),
each with its year and source; a missing figure is shown as missing, never as zero. Every
string is escaped by Jinja's autoescape (names, error messages and parameters can contain
anything).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from uso_lib import __version__, compare, fmt
from uso_lib.atomic import atomic_write
from uso_lib.errors import UsoError
from uso_lib.factory.render import TEMPLATES
from uso_lib.provenance import source_text
from uso_lib.report import freshness
from uso_lib.store import Store
from uso_lib.store.index import Table

POPULATION = "vaesto"
UNEMPLOYMENT = ("tyottomat_tyonhakijat_osuus", "tyottomyysaste")  # the first the store has


@dataclass
class Figure:
    text: str
    year: int | None = None
    note: str = ""  # the source, shown as a tooltip and in the notes below the table
    value: float | None = None  # the number behind ``text``: the table's sort key


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES),
                       autoescape=select_autoescape(["html", "j2"]))


def _table(ids: tuple[str, ...], store: Store) -> Table | None:
    for ind in ids:
        try:
            tab = store.table(ind)
        except UsoError:
            tab = None
        if tab is not None and tab.years:
            return tab
    return None


def _source(tab: Table, kunta: str, year: int) -> str:
    meta = tab.meta(kunta, year)
    return source_text(meta["source"], meta["table"], year)


def headline(kunta: str, store: Store) -> dict[str, Figure]:
    """Population, its change and the unemployment rate of one municipality."""
    out = {"vaesto": Figure(fmt.MISSING), "muutos": Figure(fmt.MISSING),
           "tyottomyys": Figure(fmt.MISSING)}
    pop = _table((POPULATION,), store)
    if pop is not None:
        end = pop.years[-1]
        value, status = pop.value(kunta, end)
        out["vaesto"] = Figure(fmt.number(value, 0, missing=status or fmt.MISSING), end,
                               _source(pop, kunta, end), _number(value))
        period = compare.default_period(pop, kunta, end)
        if period and not math.isnan(value):
            ch = compare.change(pop, kunta, *period)
            out["muutos"] = Figure(fmt.change_pct(ch.pct), end,
                                   f"{period[0]}–{period[1]}; {_source(pop, kunta, end)}",
                                   _number(ch.pct))
    un = _table(UNEMPLOYMENT, store)
    if un is not None:
        end = un.years[-1]
        value, status = un.value(kunta, end)
        out["tyottomyys"] = Figure(fmt.with_unit(value, "%", 1, missing=status or fmt.MISSING),
                                   end, _source(un, kunta, end), _number(value))
    return out


def _number(value: object) -> float | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


# the front page's table sorts without a server and without a script: one copy of the rows per
# sort order, the column headers are labels of radio buttons, CSS shows the checked order's
SORT_KEYS = (("nimi", "Kunta"), ("vaesto", "Väkiluku"), ("muutos", "Väkiluvun muutos"),
             ("tyottomyys", "Työttömyysaste"))


def sort_orders(reports: list[dict]) -> list[dict]:
    """Each sort order of the table: key, the rows in that order (a missing figure last)."""
    out = []
    for key, _label in SORT_KEYS:
        if key == "nimi":
            rows = list(reports)
        else:
            def k(r: dict, key: str = key) -> tuple[bool, float]:
                f = (r.get("figures") or {}).get(key)
                v = f.value if f is not None else None
                return (v is None, -(v or 0.0))
            rows = sorted(reports, key=k)
        out.append({"key": key, "rows": rows})
    return out


def members_map(reports: list[dict], store: Store | None) -> str:
    """The network's members on the map of Finland, the municipalities coloured by population
    change (the headline figure), the members outlined and named; '' when it cannot be drawn."""
    if store is None or not reports:
        return ""
    from uso_lib.report.html import MAP_DPI, map_html
    from uso_lib.report.theme_maps import breaks
    from uso_lib.viz import maps

    codes = [r["kunta"] for r in reports if r.get("kunta")]
    try:
        rows = store.cross_section("vaesto_muutos_pct")
        rows = rows[rows["kunta"] != "SSS"]
        year = int(rows["year"].iloc[0])
        fig = maps.choropleth(rows, outline=codes, label=codes, classes=breaks(rows["value"]),
                              unit="%", decimals=1, legend_title=f"Väkiluvun muutos {year}, %",
                              title=f"Raportoidut kunnat ({len(codes)})", credit=False)
        for text in fig.axes[0].get_legend().get_texts():  # outlined: the members, not peers
            if text.get_text() == maps.PEERS_LABEL:
                text.set_text("raportoidut kunnat")
        return map_html(fig, alt=f"Raportoidut kunnat Suomen kartalla, väkiluvun muutos {year}",
                        rows=rows, dpi=MAP_DPI)
    except (UsoError, IndexError):
        return ""


def _private(text: str) -> str:
    """An error message fit for a page that is mailed around: the user's home folder (which
    names the user, e.g. in the path of a parameter file) becomes ``~``."""
    home = str(Path.home()).rstrip("/")
    return text.replace(home + "/", "~/") if len(home) > 1 else text


def write_index(out, manifest: dict, *, aineisto: str = "snapshot") -> list[str]:
    """Write ``out/index.html`` from the manifest; returns warnings (figures unavailable)."""
    warnings: list[str] = []
    store = None
    try:
        store = Store(aineisto)
        store.frame  # noqa: B018 - load once here, so a broken store is one warning
    except UsoError as exc:
        warnings.append(f"index.html has no headline figures: {exc}")
        store = None
    reports, failed = [], []
    for key, e in manifest.get("reports", {}).items():
        row = {"key": key, "name": e.get("name") or key, "kunta": e.get("kunta") or "",
               "file": e.get("file"), "appendix": e.get("appendix") or [],
               "formats": [o["file"] for o in (e.get("outputs") or {}).values()],
               "error": _private(e.get("error") or ""), "reason": e.get("reason") or "",
               "cell": e.get("cell"), "previous": e.get("previous"),
               "rendered": (e.get("rendered") or "")[:10]}
        if e.get("status") == "ok" and e.get("file") and (out / e["file"]).is_file():
            row["figures"] = headline(row["kunta"], store) if store is not None else {}
            if store is not None:  # the data's date: the span of its latest years (#14)
                row["data_years"] = freshness.index_entry(
                    store, row["kunta"], (e.get("parameters") or {}).get("vuosi"))
            reports.append(row)
        elif e.get("status") != "ok":
            failed.append(row)
    reports.sort(key=lambda r: r["name"])
    failed.sort(key=lambda r: r["name"])
    years = {k: sorted({r["figures"][k].year for r in reports
                        if r.get("figures") and r["figures"][k].year})
             for k in ("vaesto", "muutos", "tyottomyys")}
    sources = sorted({f.note.split("; ")[-1] for r in reports for f in r.get("figures", {}).values()
                      if f.note})
    html = _env().get_template("index.html.j2").render(
        reports=reports, failed=failed, years=years, sources=sources,
        orders=sort_orders(reports), sort_keys=SORT_KEYS, members_map=members_map(reports, store),
        run=manifest.get("run") or {}, version=__version__, aineisto=aineisto,
        css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))
    atomic_write(out / "index.html", html)
    return warnings
