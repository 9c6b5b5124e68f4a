"""Age structure: the population pyramid and the change of service-user age groups.

Publishers label ages in many ways ("0-4 -vuotiaat, miehet", "Yli 94-vuotiaat", "095",
"85+"); the charts read all of them, order the groups by their first age and print them the
same way ("0–4", "95+"), so a StatFin table and an Alueaikasarjat sheet give the same chart.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from uso_lib import fmt
from uso_lib.errors import DataError
from uso_lib.viz import theme as st
from uso_lib.viz.frames import has_values, numeric, pick, require

MEN_WORDS = {"1", "m", "mies", "miehet", "male", "males", "men", "man"}
WOMEN_WORDS = {"2", "n", "f", "nainen", "naiset", "female", "females", "women", "woman"}
TOTAL_WORDS = {"", "sss", "yht", "yhteensä", "total", "kaikki", "molemmat"}

# The brochure's service-need groups: non-sote services and sote services.
SERVICE_GROUPS = {
    "0-6": "0–6 v. (varhaiskasvatus)",
    "7-15": "7–15 v. (perusopetus)",
    "16-18": "16–18 v. (toinen aste)",
    "75+": "75 v. täyttäneet (sote-palvelut)",
    "85+": "85 v. täyttäneet (sote-palvelut)",
}


def _sex(value: object) -> str:
    key = str(value).strip().lower()
    if key in MEN_WORDS:
        return "Miehet"
    if key in WOMEN_WORDS:
        return "Naiset"
    if key in TOTAL_WORDS or key in {"nan", "none"}:
        return ""
    raise DataError(f"population_pyramid: unknown sex {value!r} (use miehet/naiset, 1/2 or "
                    "male/female; leave the column out for a one-sided age profile).")


def age_key(label: object) -> tuple[float, str]:
    """Sort key and display label: ``"0-4 -vuotiaat"`` -> (0, "0–4"), ``"Yli 94-vuotiaat"``
    -> (95, "95+"), ``"85+"`` -> (85, "85+"), ``"095"``/``95`` -> (95, "95")."""
    text = str(label).strip()
    low = text.lower().replace("\u2013", "-")
    m = re.search(r"(\d+)\s*-\s*(\d+)", low)
    if m:
        return float(m.group(1)), f"{int(m.group(1))}–{int(m.group(2))}"
    m = re.search(r"(?:yli|over)\s*(\d+)", low)
    if m:
        return float(m.group(1)) + 1, f"{int(m.group(1)) + 1}+"
    m = re.search(r"(\d+)\s*\+|(\d+)\s*(?:-v\.?)?\s*(?:ja yli|or over|-)$", low)
    if m:
        n = int(m.group(1) or m.group(2))
        return float(n), f"{n}+"
    m = re.fullmatch(r"(\d+)", low)
    if m:
        return float(m.group(1)), str(int(m.group(1)))
    m = re.search(r"(?:alle|under)\s*(\d+)", low)
    if m:
        return 0.0, f"0–{int(m.group(1)) - 1}"
    raise DataError(f"population_pyramid: cannot read the age group {label!r} "
                    "(expected e.g. '0-4', '95+', 'Yli 94-vuotiaat' or a single age).")


def _bin_single_years(df: pd.DataFrame, width: int) -> pd.DataFrame:
    """Single years 0..99(+) -> groups of ``width`` years; a group is missing if any of its
    single years is missing (a partial sum would understate it)."""
    ages = df["_age_start"].astype(int)
    start = (ages // width) * width
    df = df.assign(_grp=start)
    grouped = df.groupby(["_sex", "_grp"], sort=True)
    out = grouped["_v"].sum(min_count=1).to_frame()
    out["_n"] = grouped["_v"].count()
    out["_size"] = grouped["_v"].size()
    out.loc[out["_n"] < out["_size"], "_v"] = np.nan
    out = out.reset_index()
    top = int(df["_grp"].max())
    out["_age_start"] = out["_grp"].astype(float)
    out["_age_label"] = [f"{g}–{g + width - 1}" for g in out["_grp"]]
    if df.loc[df["_grp"] == top, "_age_label"].str.endswith("+").any():
        out.loc[out["_grp"] == top, "_age_label"] = f"{top}+"
    return out[["_sex", "_age_start", "_age_label", "_v"]]


def _age_end(label: str) -> float:
    m = re.fullmatch(r"(\d+)–(\d+)", label)
    if m:
        return float(m.group(2))
    return np.inf if label.endswith("+") else float(label)


def _check_overlap(df: pd.DataFrame, chart: str) -> None:
    """Overlapping groups ("0-4" and "0-6") would be drawn on top of each other and sum to
    more than the population."""
    for _sex_name, part in df.groupby("_sex"):
        spans = sorted({(a, _age_end(lab), lab) for a, lab in
                        zip(part["_age_start"], part["_age_label"], strict=True)})
        for (_a0, e0, l0), (a1, _e1, l1) in zip(spans, spans[1:], strict=False):
            if a1 <= e0:
                raise DataError(f"{chart}: the age groups {l0} and {l1} overlap; pass one set "
                                "of groups (e.g. the five-year groups only).")


@st.styled
def population_pyramid(frame: pd.DataFrame, *, age: str | None = None, sex: str | None = None,
                       value: str = "value", compare: pd.DataFrame | None = None,
                       compare_label: str = "Koko maa", share: bool = False,
                       bin_width: int | None = None, unit: str = "henkeä",
                       title: str | None = None, subtitle: str | None = None,
                       source: str) -> Figure:
    """Men to the left, women to the right, youngest at the bottom.

    ``frame``: ``age`` (group labels or single years), ``sex`` (miehet/naiset, 1/2, m/n,
    male/female), ``value`` (persons). The store's ``category`` works too, also in its
    ``"m:0-4"`` / ``"n:95-"`` sex-and-age form (``vaesto_ikaryhmittain``). Without a sex (or
    with totals only, as in the StatFin projection 14wx) the chart is a one-sided age profile.
    Age groups must not overlap (pass five-year groups, not also "0-6"). Single years are grouped
    into ``bin_width`` years (default 5 when there are more than 30 ages). ``share=True``
    shows each group as % of the whole population, which makes ``compare`` (same shape, e.g.
    the whole country) comparable; it is drawn as an outline."""
    chart = "population_pyramid"
    require(frame, [value], chart)

    def prepare(df: pd.DataFrame) -> pd.DataFrame:
        age_col = pick(df, age, ("age", "ika", "category"), chart)
        sex_col = sex if sex is not None else next(
            (c for c in ("sex", "sukupuoli") if c in df.columns), None)
        ages = df[age_col].fillna("").astype(str).str.strip()
        if ages.eq("").any():  # the store's total row ("" category) is not an age group
            df, ages = df[ages.ne("")], ages[ages.ne("")]
        out = pd.DataFrame({"_v": numeric(df[value], chart, value)}, index=df.index)
        if sex_col is not None:
            out["_sex"] = [_sex(s) for s in df[sex_col]]
        elif ages.str.contains(":").all():  # the store's "m:0-4"
            parts = ages.str.split(":", n=1, expand=True)
            out["_sex"] = [_sex(s) for s in parts[0]]
            ages = parts[1]
        else:
            out["_sex"] = ""
        keys = [age_key(a) for a in ages]
        out["_age_start"] = [k[0] for k in keys]
        out["_age_label"] = [k[1] for k in keys]
        single = ages.str.fullmatch(r"\d+(\+)?").all()
        n_ages = out["_age_start"].nunique()
        width = bin_width or (5 if single and n_ages > 30 else None)
        if width and single:
            out = _bin_single_years(out, width)
        dup = out.duplicated(["_sex", "_age_label"])
        if dup.any():
            row = out.loc[dup].iloc[0]
            raise DataError(f"{chart}: more than one value for age {row['_age_label']} "
                            f"{row['_sex'] or 'total'}; filter to one area and year first.")
        if set(out["_sex"]) - {""} and (out["_sex"] == "").any():
            out = out[out["_sex"] != ""]  # a total row beside men and women: drop, not add
        _check_overlap(out, chart)
        if share:
            total = out["_v"].sum(min_count=1)
            out["_v"] = out["_v"] / total * 100
        return out

    data = prepare(frame)
    has_values(data["_v"], chart)
    comp = prepare(compare) if compare is not None else None
    groups = data.drop_duplicates("_age_label").sort_values("_age_start")
    order = groups["_age_label"].tolist()
    pos = {label: i for i, label in enumerate(order)}
    two_sided = set(data["_sex"]) >= {"Miehet", "Naiset"}
    unit_shown = "%" if share else unit

    height = max(2.4, 0.16 * len(order) + 0.4)
    entries = (["Miehet", "Naiset"] if two_sided else ["Väestö"]) \
        + ([compare_label] if comp is not None else [])
    fr = st.new_chart(height, title=title, subtitle=subtitle, source=source,
                      left=st.text_width(order) + 0.2, right=0.3 if two_sided else 0.6,
                      bottom=0.5, legend=entries)
    ax = fr.ax
    handles, labels = [], []
    sides = [("Miehet", -1, st.MEN), ("Naiset", 1, st.WOMEN)] if two_sided \
        else [("", 1, st.HIGHLIGHT)]
    vmax = 0.0
    missing: list[str] = []
    for name, sign, colour in sides:
        part = data[data["_sex"] == name]
        y = np.array([pos[a] for a in part["_age_label"]])
        v = part["_v"].to_numpy()
        ok = ~np.isnan(v)
        st.bars(ax, y[ok], sign * v[ok], width=0.82, color=colour,
                gid=f"uso-pyramid-{name or 'total'}")
        missing += [f"{a}{' ' + name.lower() if name else ''}"
                    for a in part["_age_label"][~ok]]
        vmax = max(vmax, float(np.nanmax(v)) if ok.any() else 0.0)
        handles.append(Patch(color=colour))
        labels.append(name or "Väestö")
        if comp is not None:
            cpart = comp[comp["_sex"] == name].sort_values("_age_start")
            cpart = cpart[cpart["_age_label"].isin(pos)]
            if not cpart.empty:
                cy = np.array([pos[a] for a in cpart["_age_label"]], dtype=float)
                cv = sign * cpart["_v"].to_numpy()
                ax.step(cv, cy, where="mid", color=st.TEXT, linewidth=1.1, zorder=3,
                        gid="uso-compare")
                vmax = max(vmax, float(np.nanmax(np.abs(cv))))
    if comp is not None:
        handles.append(Line2D([], [], color=st.TEXT, linewidth=1.1))
        labels.append(compare_label)
    st.legend(fr, handles, labels)
    limit = vmax * 1.08 or 1.0
    ax.set_xlim(-limit if two_sided else 0, limit)
    ax.set_ylim(-0.6, len(order) - 0.4)
    st.row_labels(ax, range(len(order)), order)
    if two_sided:
        ax.axvline(0, color="#8c8c8c", linewidth=0.8, zorder=3)
    st.value_axis(ax, "x", None, absolute=True, label=unit_shown)
    ax.spines["left"].set_visible(False)
    if missing:
        st.label(ax, f"{st.NO_DATA}: " + ", ".join(missing), (0, 0), coords="axes fraction",
                 offset=(0, -28), fontsize=st.LABEL_SIZE - 0.5, color=st.MUTED,
                 fontstyle="italic", gid="uso-missing")
    return fr.fig


@st.styled
def service_need_change(frame: pd.DataFrame, *, group: str | None = None,
                        value: str | None = None, start: str | None = "start",
                        end: str | None = "end", base_year: int | None = None,
                        horizon: int | None = None, decimals: int = 1, sort: bool = True,
                        title: str | None = None, subtitle: str | None = None,
                        source: str) -> Figure:
    """Projected change (%) of the service-user age groups, bars diverging around 0.

    ``frame``: one row per age group in display order: ``group`` ("0-6", "7-15", "16-18",
    "75+", "85+" get the brochure's service names) and ``change_pct``; optional ``start`` and
    ``end`` persons are written beside the change ("−12,3 % (312 → 274)"). The store's
    ``category``/``value`` columns (``palvelutarpeiden_muutos`` for one year) work as is.
    Groups are ordered by age (``sort=False`` keeps the given order)."""
    chart = "service_need_change"
    require(frame, [], chart)
    group = pick(frame, group, ("group", "ryhma", "category"), chart)
    value = pick(frame, value, ("change_pct", "muutos_pct", "value"), chart)
    df = frame.reset_index(drop=True)
    if sort:  # youngest first, whatever order the store returned ("16-18" < "7-15" as text)
        try:
            keys = [age_key(g)[0] for g in df[group]]
        except DataError:
            keys = None
        if keys is not None:
            df = df.assign(_k=keys).sort_values("_k", kind="stable").reset_index(drop=True)
    change = numeric(df[value], chart, value).to_numpy()
    has_values(change, chart)
    names = []
    for g in df[group].astype(str):
        key = g.strip().replace("\u2013", "-").replace(" ", "").removesuffix("-v.")
        key = key.removesuffix("v").removesuffix("-")
        names.append(SERVICE_GROUPS.get(key, g))
    has_counts = start in df.columns and end in df.columns if start and end else False
    texts = []
    for i, c in enumerate(change):
        text = fmt.change_pct(c, decimals) if not np.isnan(c) else st.NO_DATA
        if has_counts and not np.isnan(c):
            text += f" ({fmt.number(df.loc[i, start])} \u2192 {fmt.number(df.loc[i, end])})"
        texts.append(text)
    if subtitle is None and base_year and horizon:
        subtitle = f"Ennustettu muutos {base_year}–{horizon}, %"
    left = st.text_width(names) + 0.25
    fr = st.new_chart(max(1.2, 0.32 * len(df)), title=title, subtitle=subtitle, source=source,
                      left=left, right=0.2, bottom=0.1)
    ax = fr.ax
    y = np.arange(len(df))
    ok = ~np.isnan(change)
    colours = [st.POSITIVE if c >= 0 else st.NEGATIVE for c in change[ok]]
    st.bars(ax, y[ok], change[ok], width=0.62, color=colours, gid="uso-change")
    finite = change[ok]
    lo = min(0.0, float(finite.min())) if ok.any() else -1.0
    hi = max(0.0, float(finite.max())) if ok.any() else 1.0
    label_in = st.text_width(texts, st.LABEL_SIZE) + 0.1
    axis_in = st.WIDTH - left - 0.2
    span = (hi - lo) or 1.0
    need = span / max(0.25, 1 - 2 * label_in / axis_in) - span
    ax.set_xlim(lo - need / 2, hi + need / 2)
    for yi, c, text in zip(y, change, texts, strict=True):
        if np.isnan(c):
            st.label(ax, text, (0, yi), offset=(4, 0), va="center", ha="left",
                     fontsize=st.LABEL_SIZE, color=st.MUTED, fontstyle="italic",
                     gid="uso-missing")
        else:
            st.label(ax, text, (c, yi), offset=(4 if c >= 0 else -4, 0), va="center",
                     ha="left" if c >= 0 else "right", fontsize=st.LABEL_SIZE,
                     color=st.TEXT, gid="uso-value")
    ax.axvline(0, color="#6e6e6e", linewidth=0.9, zorder=3)
    st.bar_rows(ax, y, names)
    return fr.fig
