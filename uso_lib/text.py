"""The Finnish wording of the comparisons: the labels of their judgements and short highlight
sentences (nostot). :mod:`uso_lib.compare` returns codes (``better``, ``lower_better``); the
report and the command line say them in Finnish through this module (the report package
imports it, so it cannot live there without an import cycle).

Sentences keep the municipality's name in the nominative ("Juva menetti ...", "Juva erottuu
...") because Finnish place names inflect irregularly (Kuhmoinen : Kuhmoisten, Rautalampi :
Rautalammin) and a wrong case ending reads worse than none. Numbers go through
:mod:`uso_lib.fmt` (decimal comma, no-break spaces: "5 887", "19,7 €", "11,1 %"); a change of a
percentage is written in percentage points ("%-yks."). Every judgement follows the threshold of
:mod:`uso_lib.compare` (±0.25 SD of the municipalities): the text never calls a difference clear
that the tables call "about the same".
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from uso_lib import compare, fmt, regions
from uso_lib.store import StoreLike, get_store

POPULATION = "vaesto"
PEERS_FI = "vertailukunnat"
# the brochure's label of the group average: the mean of every municipality in the ranking,
# the municipality itself included (17,1 € in its HYTE-€ 2020 table)
PEER_MEAN = "Vrt. kunnat ka."
PEERS_ONLY_MEAN = "Vertailukunnat ilman kuntaa {name} ka."  # the peers alone: its own label

ASSESSMENT_FI = {
    "better": "parempi", "worse": "heikompi", "same": "samaa tasoa",
    "higher": "korkeampi", "lower": "matalampi",
}
RELATIVE_INDEX_LABEL = "indeksi, mediaanikunta = 100 (vain järjestys)"
RANK_BASIS = {  # what rank 1 is, by the indicator's polarity
    "higher_better": "suurin arvo = 1 (suurempi on parempi)",
    "lower_better": "pienin arvo = 1 (pienempi on parempi)",
    "neutral": "suurin arvo = 1 (ei arvotusta)",
}


GROUP_LABELS = {"peers": "Vertailukunnat", "network": "Verkostokunnat", "country": "Koko maa",
                "maakunta": "Maakunta: {name}", "kuntaryhmitys": "Kuntaryhmä: {name}"}
NO_DATA_FI = ("Ei tietoa offline-aineistossa; `uso data refresh` hakee sen tai tuo taulukko: "
              "`uso data import`.")


def group_label(group: compare.Group | compare.GroupStats) -> str:
    """"Vertailukunnat", "Maakunta: Etelä-Savo", ...; a custom group by its name (or key)."""
    shape = GROUP_LABELS.get(group.key)
    return shape.format(name=group.name) if shape else (group.name or group.key)


def note_text(note: compare.Note) -> str:
    """One :class:`~uso_lib.compare.Note` as a Finnish sentence."""
    v = note.values
    if note.code == "year_fallback":
        return f"Vuodelta {v[0]} ei ole tietoa; käytetään vuotta {v[1]}."
    if note.code == "no_value":
        name, year, status = v
        return (f"{name}: ei arvoa vuodelta {year}"
                + (f" (tilastosymboli {status!r})" if status else "") + ".")
    if note.code == "change_break":
        return f"Muutosta vuosina {v[0]}–{v[1]} ei lasketa: {v[2]}"
    if note.code == "categories_only":
        return "Tieto on vain luokittain (ei kokonaislukua)."
    if note.code == "no_data":
        return v[0] or NO_DATA_FI
    raise ValueError(f"no Finnish wording for the note {note.code!r}")


def comparison_notes(c: compare.Comparison) -> list[str]:
    """The comparison's notes in Finnish, in order."""
    return [note_text(n) for n in c.notes]


def assessment_fi(assessment: str | None) -> str | None:
    """"parempi", "samaa tasoa", ... for an assessment code (None without one)."""
    return ASSESSMENT_FI.get(assessment or "")


def with_labels(c: compare.Comparison) -> dict:
    """:meth:`~uso_lib.compare.Comparison.to_dict` with the Finnish labels of its judgements
    (``assessment_fi``, ``rank_basis``, ``relative_index_label``), for JSON output."""
    d = c.to_dict()
    for key, g in c.groups.items():  # "label" in the place of "name", as the Finnish
        d["groups"][key] = {("label" if k == "name" else k): (group_label(g) if k == "name"
                                                             else x)
                            for k, x in d["groups"][key].items()}
        d["groups"][key]["assessment_fi"] = assessment_fi(g.assessment)
    d["notes"] = comparison_notes(c)
    d["rank_basis"] = RANK_BASIS[c.polarity]
    d["assessment_fi"] = assessment_fi(c.assessment)
    if c.relative_index:
        d["relative_index_label"] = RELATIVE_INDEX_LABEL
    return d


def overview_labels(ov: pd.DataFrame) -> pd.DataFrame:
    """:func:`~uso_lib.compare.overview` with the Finnish assessment (``assessment_fi``, after
    ``assessment``) and its notes in Finnish (a relative index's: what its figures mean)."""
    ov = ov.copy()
    ov.insert(ov.columns.get_loc("assessment") + 1, "assessment_fi",
              [assessment_fi(a) for a in ov["assessment"]])
    ov["note"] = [" ".join(note_text(n) for n in notes) or None
                  if isinstance(notes, tuple) else None for notes in ov["note"]]
    ov.loc[ov["relative_index"].astype(bool), "note"] = RELATIVE_INDEX_LABEL
    return ov


def lower_first(label: str) -> str:
    """"Työttömyysaste" -> "työttömyysaste" mid-sentence; "HYTE-kerroin" stays as it is."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def figure(value: float | None, unit: str, decimals: int) -> str:
    """A value with its unit in Finnish format ("11,1 %", "895,3 €/as.", "5 887"). A unit in
    thousands is written out: 24 (1000 t CO2-ekv.) -> "24 000 t CO2-ekv.", not "24 1000 t"."""
    if unit == "henkeä":
        return fmt.number(value, decimals)
    if unit and unit.startswith("1000 ") and value is not None and not pd.isna(value):
        return fmt.with_unit(float(value) * 1000, unit[5:], max(0, decimals - 3))
    return fmt.with_unit(value, unit, decimals)


def period(start: int, end: int) -> str:
    return f"{start}–{end}"


def _persons(n: float) -> str:
    return f"{fmt.number(n, 0, signed=True)} asukasta"


def population_sentences(kunta: object, peers: Iterable[object] | None, *,
                         year: int | None = None, store: StoreLike = None,
                         span: int = compare.DEFAULT_SPAN) -> list[str]:
    """Population change over the period against the peers' average change, and the
    municipality's place among the peers by that change."""
    m = regions.lookup(kunta)
    tab = get_store(store).table(POPULATION)
    if tab is None:
        return []
    own = tab.values[m.code].dropna() if m.code in tab.values.columns else pd.Series()
    own = own[own.index <= year] if year is not None else own
    if own.empty:  # e.g. Pertunmaa 2025: published only merged into Mäntyharju
        return []
    end = int(own.index.max())
    per = compare.default_period(tab, m.code, end, span)
    if per is None:
        return []
    start, end = per
    groups = [g for g in compare.groups_for(m, peers, None) if g.key in ("peers", "country")]
    ch = compare.change(tab, m.code, start, end, groups)
    if ch.pct is None or ch.absolute is None:
        return []
    when = f"vuosina {period(start, end)}"
    pct = fmt.percent(abs(ch.pct), 1)
    if ch.absolute < 0:
        first = f"{m.name_fi} menetti {when} väestöstään {pct} ({_persons(ch.absolute)})"
    elif ch.absolute > 0:
        first = f"{m.name_fi} kasvatti {when} väkilukuaan {pct} ({_persons(ch.absolute)})"
    else:
        first = f"{m.name_fi} säilytti väkilukunsa ennallaan {when}"
    out: list[str] = []
    pg = ch.groups.get("peers")
    if pg is None or pg.mean_pct is None:
        return [first + "."]
    verb = ("väheni" if pg.mean_pct < 0 else "kasvoi") if round(pg.mean_pct, 1) else \
        "pysyi ennallaan"
    tail = f" {fmt.percent(abs(pg.mean_pct), 1)}" if verb != "pysyi ennallaan" else ""
    out.append(f"{first}, kun vertailukuntien väkiluku {verb} samana aikana "
               f"keskimäärin{tail}.")
    # the judgement and the rank follow the change % of every municipality over the period
    s0, s1 = tab.cross(start), tab.cross(end)
    both = s0.index.intersection(s1.index)
    pct_all = ((s1[both] - s0[both]) / s0[both] * 100.0)[s0[both] > 0]
    sd = compare.robust_sd(pct_all)
    verdict = compare.assess(ch.pct, pg.mean_pct, sd, "higher_better")
    pool = pct_all.reindex([c for c in [m.code, *groups[0].members] if c in pct_all.index])
    r = compare.ranks(pool, "higher_better")
    tied = int((r == r[m.code]).sum()) > 1
    place = f"{'jaetulla ' if tied else ''}sijalla {int(r[m.code])}"
    judgement = {
        "better": "Väestökehitys oli vertailukuntien keskiarvoa suotuisampi",
        "worse": "Väestökehitys oli vertailukuntien keskiarvoa heikompi",
        "same": "Väestökehitys oli vertailukuntien keskiarvon tasolla",
    }[verdict or "same"]
    out.append(f"{judgement}. Väkiluvun muutoksella mitattuna {m.name_fi} on "
               f"{len(pool)} kunnan vertailuryhmässä {place}.")
    return out


def _item(row: pd.Series) -> str:
    label = lower_first(str(row["label"]))
    if row["relative_index"]:
        rank = row["peer_rank_text"] or "–"
        return f"{label} (indeksi, sija {rank}/{int(row['peer_n']) + 1}; {row['year']})"
    own = figure(row["value"], row["unit"], int(row["decimals"]))
    ref = figure(row["peer_mean"], row["unit"], int(row["decimals"]))
    return f"{label} {own} (vertailukunnat ka. {ref}; {row['year']})"


def _strength(row: pd.Series, ov: pd.DataFrame) -> float:
    """How far from the peers, for ordering the items: |value - mean| / spread."""
    try:
        v, ref = float(row["value"]), float(row["peer_mean"])
    except (TypeError, ValueError):
        return 0.0
    if math.isnan(v) or math.isnan(ref):
        return 0.0
    return abs(v - ref) / (abs(ref) or 1.0)


def _list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " ja " + items[-1]


def contrast_sentences(ov: pd.DataFrame, name: str, *, max_items: int = 3) -> list[str]:
    """Indicators clearly better and clearly worse than the peers (from :func:`overview`)."""
    if "assessment" not in ov or ov["peer_mean"].isna().all() and not ov["relative_index"].any():
        return []
    out = []
    for verdict, lead in (("better", f"{name} erottuu vertailukunnista edukseen: "),
                          ("worse", f"{name} jää vertailukunnista jälkeen: ")):
        hits = ov[(ov["assessment"] == verdict) & ov["has_data"] & (ov["kind"] != "count")]
        if hits.empty:
            continue
        order = hits.apply(lambda r: _strength(r, ov), axis=1).sort_values(ascending=False)
        rows = hits.loc[order.index[:max_items]]
        more = len(hits) - len(rows)
        text = lead + _list([_item(r) for _, r in rows.iterrows()])
        if more > 0:
            text += f" sekä {more} {'muu mittari' if more == 1 else 'muuta mittaria'}"
        out.append(text + ".")
    judged = ov[ov["assessment"].isin(["better", "worse", "same"]) & ov["has_data"]
                & (ov["kind"] != "count")]
    if not judged.empty and not (judged["assessment"] != "same").any():
        out.append(f"{name} on kaikilla vertailukelpoisilla mittareilla vertailukuntien "
                   "keskiarvon tasolla.")
    return out


def highlights(kunta: object, peers: Iterable[object] | None,
               network: Iterable[object] | None = None, *, year: int | None = None,
               store: StoreLike = None, overview_df: pd.DataFrame | None = None,
               max_items: int = 3) -> list[str]:
    """The report's Finnish highlights: population change against the peers, the place among
    the peers by it, and the indicators clearly better / worse than the peers. Pass the
    report's ``overview_df`` to avoid computing it twice."""
    m = regions.lookup(kunta)
    peer_list = list(peers or [])
    out = population_sentences(m, peer_list, year=year, store=store)
    if peer_list:
        ov = overview_df if overview_df is not None else compare.overview(
            m, peer_list, network, year=year, store=store)
        out += contrast_sentences(ov, m.name_fi, max_items=max_items)
    return out


def comparison_sentence(c: compare.Comparison, group: str = "peers") -> str:
    """One indicator in one line: "Työttömyysaste 11,1 % (2020); vertailukuntien keskiarvo
    13,7 %, sija 1/4 (pienin arvo = 1): parempi kuin vertailukunnissa." """
    label = c.label
    if c.value is None:
        why = f" (tilastosymboli {c.status})" if c.status else ""
        return f"{label}: {c.name} – ei tietoa vuodelta {c.year}{why}."
    own = figure(c.value, c.unit, c.decimals)
    text = f"{label} {own} ({c.year})"
    g = c.groups.get(group)
    if g is None:
        return text + "."
    who = "vertailukuntien" if group == "peers" else f"ryhmän {group_label(g)}"
    if c.relative_index:
        text += f"; {RELATIVE_INDEX_LABEL}"
    elif g.mean is not None:
        text += f"; {who} keskiarvo {figure(g.mean, c.unit, c.decimals)}"
    if g.rank is not None:
        basis = RANK_BASIS[c.polarity].split(" (")[0]
        text += f", sija {g.rank_text}/{g.n_ranked} ({basis})"
    if g.missing:
        text += f"; {len(g.missing)} kunnalta ei tietoa"
    verdict = {
        "better": "parempi kuin vertailuryhmässä", "worse": "heikompi kuin vertailuryhmässä",
        "same": "vertailuryhmän tasolla", "higher": "korkeampi kuin vertailuryhmässä",
        "lower": "matalampi kuin vertailuryhmässä",
    }.get(g.assessment or "")
    return text + (f": {verdict}." if verdict else ".")
