"""The finance theme's opening block, "Kriisikuntaindikaattorit": the statutory criteria of the
crisis-municipality procedure (kuntalaki 118 §, :mod:`uso_lib.crisis`) assessed one by one,
with the figure, the limit, the years and the source of each, and what is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from uso_lib import crisis
from uso_lib.report.html import anchor, note, paragraph, records_html, value_text

if TYPE_CHECKING:
    from uso_lib.report.state import Report

ROUTE_FI = {"alijaama": "Kertynyt alijäämä (yksikin riittää)",
            "tunnusluvut": "Talouden tunnusluvut (kaikki neljä kahtena vuonna peräkkäin)"}
ROUTE_RESULT_FI = {"met": "edellytys täyttyy", "not_met": "edellytys ei täyty",
                   "no_data": "ei voida arvioida: tietoja puuttuu"}


def _decimals(c: crisis.Criterion) -> int:
    return 1 if c.unit in ("%", "€/as.") else 2


def _row(res: crisis.CriterionResult) -> dict[str, str]:
    c = res.criterion
    d = _decimals(c)
    figures, limits, sources = [], [], []
    for ch in res.checks:
        figures.append(f"{ch.year}: {value_text(ch.value, c.unit, d)}")
        if ch.limit is not None:
            limits.append(f"{ch.year}: {'≥' if c.comparison == '>=' else '<'} "
                          f"{value_text(ch.limit, c.unit, d)}")
        elif c.reference is not None:
            limits.append(f"{ch.year}: koko maan luku puuttuu")
        for s in (ch.source, ch.reference_source):
            if s and s not in sources:
                sources.append(s)
    if not res.checks and c.comparison is not None:
        sign = "≥" if c.comparison == ">=" else "<"
        if c.thresholds:
            limits.append(" ja ".join(f"{sign} {value_text(t, c.unit, 0)}"
                                      for t in c.thresholds))
        elif c.threshold is not None:
            limits.append(f"{sign} {value_text(c.threshold, c.unit, _decimals(c))}")
    if c.reference is not None:
        limits.insert(0, c.reference.label + ":")
    return {"Kriteeri": c.label, "Kunnan luku": "; ".join(figures) or "–",
            "Raja-arvo": " ".join(limits) or "–", "Arvio": res.status_fi,
            "Lähde ja huomiot": " ".join(sources + res.notes)}


def crisis_html(r: Report) -> str:
    """The assessment as a table per route, citing the section and the rule's year."""
    try:
        a = crisis.assess(r.kunta.code, store=r.store)
    except Exception as exc:  # noqa: BLE001 - the theme must stand even if the rules do not
        return note(f"Kriisikuntakriteereitä ei voitu arvioida: {exc}", "warning")
    out = [f'<section class="uso-indicator uso-crisis" id="{anchor("ind", "kriisikunta")}">',
           "<h3>Kriisikuntaindikaattorit</h3>",
           paragraph(f"Erityisen vaikeassa taloudellisessa asemassa olevan kunnan "
                     f"arviointimenettelyn edellytykset: {a.law} ({a.version.label}; "
                     f"säännön vuosi {a.version.rule_year}). Valtiovarainministeriö voi "
                     "käynnistää menettelyn, kun edellytykset täyttyvät.",
                     cls="uso-description")]
    for route in ("alijaama", "tunnusluvut"):
        rows = [_row(res) for res in a.results if res.criterion.route == route]
        out.append(records_html(rows, caption=f"{ROUTE_FI[route]}: "
                                f"{ROUTE_RESULT_FI[a.route_status(route)]}",
                                cls="uso-table uso-definitions"))
    out.append(paragraph(
        f"Lähde: {a.law}; raja-arvot {', '.join(a.version.sources[:1])}. Kriteerit ja "
        "niiden lähteet: docs/kriisikunta.md. Luvut ovat uso:n tietovarastosta; puuttuvaa "
        "lukua ei arvata, vaan taulukko kertoo, mistä sen saa (uso data refresh, uso data "
        "import).", cls="uso-source"))
    out.append("</section>")
    return "\n".join(out)

