"""Structure charts: jobs by industry, commuting flows, emissions by sector.

These take the category breakdowns of the store (``category`` column) as they come from
different publishers, and print them with short Finnish labels that fit an A4 page
("C Teollisuus (10-33)" -> "C Teollisuus"; "1A3 Kotimaan liikenne" -> "Kotimaan liikenne").
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from uso_lib import fmt
from uso_lib.errors import DataError
from uso_lib.viz import theme as st
from uso_lib.viz.frames import SERIES_COLUMNS, has_values, numeric, pick, require
from uso_lib.viz.series import reference_style

# TOL 2008 sections, shortened for a chart label (Statistics Finland's names, abridged).
TOL_SHORT = {
    "A": "Maa-, metsä- ja kalatalous",
    "B": "Kaivostoiminta ja louhinta",
    "C": "Teollisuus",
    "D": "Energiahuolto",
    "E": "Vesi- ja jätehuolto",
    "F": "Rakentaminen",
    "G": "Kauppa",
    "H": "Kuljetus ja varastointi",
    "I": "Majoitus- ja ravitsemistoiminta",
    "J": "Informaatio ja viestintä",
    "K": "Rahoitus- ja vakuutustoiminta",
    "L": "Kiinteistöala",
    "M": "Ammatillinen, tieteellinen ja tekninen",
    "N": "Hallinto- ja tukipalvelut",
    "O": "Julkinen hallinto ja maanpuolustus",
    "P": "Koulutus",
    "Q": "Terveys- ja sosiaalipalvelut",
    "R": "Taiteet, viihde ja virkistys",
    "S": "Muu palvelutoiminta",
    "T": "Kotitaloudet työnantajina",
    "U": "Kansainväliset organisaatiot",
    "X": "Toimiala tuntematon",
}
_TOL_CODE = re.compile(r"^(?:tol[\s_-]?(?:2008)?[\s_-]?)?([A-UX])(?:[\s_:.)-]|$)", re.I)


def tol_label(category: object) -> tuple[str, str]:
    """``"C Teollisuus (10-33)"``/``"C"``/``"tol_c"`` -> ("C", "C Teollisuus"); anything else
    is kept as written (code "")."""
    text = str(category).strip()
    m = _TOL_CODE.match(text)
    if m and (len(text) == 1 or not text[1].isalpha()):
        code = m.group(1).upper()
        return code, f"{code} {TOL_SHORT[code]}"
    return "", text


def _series_col(df: pd.DataFrame, series: str | None) -> str | None:
    if series is not None:
        return series if series in df.columns else None
    return next((c for c in SERIES_COLUMNS if c in df.columns and df[c].nunique() > 1), None)


ALIASES = {"info": "Informaatiosektori"}
TOTAL_WORDS = {"", "yhteensä", "yht", "total", "sss", "kaikki"}


@st.styled
def jobs_by_industry(frame: pd.DataFrame, *, category: str = "category", value: str = "value",
                     series: str | None = None, highlight: str | None = None,
                     values: str = "count", labels: Mapping[str, str] | None = None,
                     top: int | None = None, decimals: int = 1, title: str | None = None,
                     subtitle: str | None = None, source: str) -> Figure:
    """Share (%) by TOL industry, largest first, unknown industry last (jobs, or e.g. the
    enterprise stock: the title says what).

    ``frame``: ``category`` (TOL letter, "C Teollisuus (10-33)", or any name; ``labels``
    maps codes to display names, e.g. the catalogue's ``categories``) and ``value``. With
    ``values="count"`` shares are taken of the series' total row (category ``""``, as the
    store keeps totals) -- so a partial breakdown (the store's seven named industries) is
    right -- or, without a total row, of the sum of the categories given, and the chart says
    so. With ``"share"`` the values are already %. An optional series column (``name``;
    e.g. the municipality and "Koko maa") draws the ``highlight`` series (default the first)
    as bars and the others as markers. ``top`` keeps the largest industries."""
    chart = "jobs_by_industry"
    require(frame, [category, value], chart)
    if values not in ("count", "share"):
        raise ValueError("values must be 'count' or 'share'")
    col = _series_col(frame, series)
    cats = frame[category].fillna("").astype(str).str.strip()
    df = pd.DataFrame({"_v": numeric(frame[value], chart, value).to_numpy(),
                       "_s": frame[col].astype(str).to_numpy() if col else "",
                       "_cat": cats.to_numpy(),
                       "_total": cats.str.lower().isin(TOTAL_WORDS).to_numpy()})
    names = [("", labels[c]) if labels and c in labels else
             ("", ALIASES[c.lower()]) if c.lower() in ALIASES else tol_label(c)
             for c in df["_cat"]]
    df["_code"] = [code for code, _ in names]
    df["_label"] = [label for _, label in names]
    order_series = list(dict.fromkeys(df["_s"]))
    hl = str(highlight) if highlight is not None else order_series[0]
    if hl not in order_series:
        raise DataError(f"{chart}: no series {hl!r}; the series are {order_series}.")
    if df[df["_total"]].duplicated("_s").any():
        raise DataError(f"{chart}: more than one total row in a series.")
    parts = df[~df["_total"]]
    if values == "count":
        total = df[df["_total"]].set_index("_s")["_v"]
        summed = parts.groupby("_s")["_v"].sum(min_count=1)
        denom = parts["_s"].map(total).where(parts["_s"].isin(total.index),
                                             parts["_s"].map(summed))
        df = parts.assign(_share=parts["_v"] / denom * 100)
        if not set(order_series) <= set(total.index):
            note = "osuus näytettyjen luokkien summasta"
            subtitle = f"{subtitle}; {note}" if subtitle else note.capitalize()
    else:
        df = parts.assign(_share=parts["_v"])
    if df.duplicated(["_s", "_label"]).any():
        raise DataError(f"{chart}: an industry appears twice in one series; filter the "
                        "frame to one municipality and year.")
    main = df[df["_s"] == hl].copy()
    has_values(main["_share"], chart)
    main["_unknown"] = main["_code"].eq("X") | main["_label"].str.lower().str.contains(
        "tuntemat")
    main = main.sort_values(["_unknown", "_share"], ascending=[True, False],
                            na_position="last", kind="stable")
    if top:
        main = main.head(top)
    others = [s for s in order_series if s != hl]
    refs = df[df["_s"].isin(others)].rename(columns={"_share": "_val"})
    return _bars(main["_label"].tolist(), main["_share"].to_numpy(), refs, hl, others,
                 unit="%", decimals=decimals, title=title, subtitle=subtitle, source=source)


def _bars(names: list[str], values: np.ndarray, refs: pd.DataFrame, hl: str,
          others: list[str], *, unit: str | None, decimals: int, title: str | None,
          subtitle: str | None, source) -> Figure:
    """Horizontal bars top-down in the given order; ``refs`` (``_s``, ``_label``, ``_val``)
    are other series drawn as markers on the same rows."""
    pos = {label: i for i, label in enumerate(names)}
    texts = [st.value_label(v, unit, decimals) for v in values]
    left = st.text_width(names) + 0.25
    fr = st.new_chart(max(0.5, 0.25 * len(names)), title=title, subtitle=subtitle,
                      source=source, left=left, right=0.2, bottom=0.1,
                      legend=[hl, *others] if others else [])
    ax = fr.ax
    y = np.arange(len(names))
    ok = ~np.isnan(values)
    st.bars(ax, y[ok], values[ok], width=0.66, color=st.HIGHLIGHT, gid="uso-bars")
    handles, legend = [Patch(color=st.HIGHLIGHT)], [hl]
    finite = list(values[ok])
    reach = np.where(ok, np.maximum(values, 0), 0.0)  # where each row's label may start
    markers = ["D", "o", "s", "^"]
    for i, name in enumerate(others):
        part = refs[(refs["_s"] == name) & refs["_label"].isin(pos)]
        style = reference_style(name, i)
        ax.scatter(part["_val"], [pos[n] for n in part["_label"]], marker=markers[i % 4],
                   s=18, color=style["color"], edgecolor="white", linewidth=0.6, zorder=4,
                   gid="uso-compare")
        handles.append(Line2D([], [], marker=markers[i % 4], linestyle="none",
                              color=style["color"], markersize=5))
        legend.append(name)
        for label, v in zip(part["_label"], part["_val"], strict=True):
            if not np.isnan(v):
                reach[pos[label]] = max(reach[pos[label]], v)
                finite.append(v)
    lo = min(0.0, min(finite, default=0.0))
    hi = max(0.0, max(finite, default=1.0))
    label_in = st.text_width(texts + [st.NO_DATA], st.LABEL_SIZE) + (0.25 if others else 0.12)
    axis_in = st.WIDTH - left - 0.2
    span = (hi - lo) or 1.0
    ax.set_xlim(lo, lo + span / max(0.3, 1 - label_in / axis_in))
    if lo < 0:
        ax.axvline(0, color="#6e6e6e", linewidth=0.8, zorder=3)
    for yi, v, text, x in zip(y, values, texts, reach, strict=True):
        missing = np.isnan(v)
        # with comparison markers the municipality's figures form a right-hand column, so a
        # number is never read as the marker's
        at = ((1.0, yi), ("axes fraction", "data"), "right") if others else \
            ((x, yi), "data", "left")
        st.label(ax, text, at[0], coords=at[1], offset=(3 if not others else 0, 0),
                 va="center", ha=at[2], fontsize=st.LABEL_SIZE,
                 color=st.MUTED if missing else st.TEXT,
                 fontstyle="italic" if missing else "normal",
                    gid="uso-missing" if missing else "uso-value")
    if others:
        st.legend(fr, handles, legend)
    st.bar_rows(ax, y, names)
    return fr.fig


@st.styled
def category_bars(frame: pd.DataFrame, *, category: str = "category", value: str = "value",
                  series: str | None = None, highlight: str | None = None,
                  labels: Mapping[str, str] | None = None, unit: str | None = None,
                  decimals: int = 1, sort: bool = False, title: str | None = None,
                  subtitle: str | None = None, source: str) -> Figure:
    """Horizontal bars by category in the given order (age groups, income deciles, crime
    groups...), or largest first with ``sort=True``; values labelled in Finnish.

    ``frame``: ``category`` and ``value`` (already in the unit shown); ``labels`` maps
    category codes to display names. A series column (``name``) adds the other series (e.g.
    "Koko maa") as markers beside the ``highlight`` series' bars (default the first)."""
    chart = "category_bars"
    require(frame, [category, value], chart)
    col = _series_col(frame, series)
    cats = frame[category].fillna("").astype(str).str.strip()
    df = pd.DataFrame({"_val": numeric(frame[value], chart, value).to_numpy(),
                       "_s": frame[col].astype(str).to_numpy() if col else "",
                       "_label": [labels.get(c, c) if labels else c for c in cats]})
    order_series = list(dict.fromkeys(df["_s"]))
    hl = str(highlight) if highlight is not None else order_series[0]
    if hl not in order_series:
        raise DataError(f"{chart}: no series {hl!r}; the series are {order_series}.")
    if df.duplicated(["_s", "_label"]).any():
        raise DataError(f"{chart}: a category appears twice in one series.")
    main = df[df["_s"] == hl]
    has_values(main["_val"], chart)
    if sort:
        main = main.sort_values("_val", ascending=False, na_position="last", kind="stable")
    others = [s for s in order_series if s != hl]
    return _bars(main["_label"].tolist(), main["_val"].to_numpy(), df[df["_s"].isin(others)],
                 hl, others, unit=unit, decimals=decimals, title=title, subtitle=subtitle,
                 source=source)


# --- commuting ---------------------------------------------------------------------------

COMMUTING = {
    "own": "Asuu ja käy töissä kunnassa",
    "in": "Sisäänpendelöijät (töissä kunnassa, asuu muualla)",
    "out": "Ulospendelöijät (asuu kunnassa, töissä muualla)",
}
_COMMUTING_COLOURS = {"own": st.PALETTE[0], "in": st.PALETTE[2], "out": st.PALETTE[3]}


def commuting_kind(category: object) -> str:
    """``"in"``, ``"out"``, ``"own"`` or ``""`` for a category name in Finnish or English
    (``sisäänpendelöinti``, ``tulopendelointi``, ``ulospendelöinti``,
    ``asuinkunnassaan_tyossakayvat``, ``in``, ``out``, ``own``...)."""
    low = str(category).strip().lower().replace("ä", "a").replace("ö", "o")
    if low in {"in", "inbound", "in-commuting", "in_commuting"} or low.startswith(
            ("sisaan", "tulopendel")):
        return "in"
    if low in {"out", "outbound", "out-commuting", "out_commuting"} or low.startswith(
            ("ulos", "lahtopendel")):
        return "out"
    if low in {"own", "local", "oma", "oma kunta"} or low.startswith(
            ("asuinkunnassa", "omassa kunnassa", "oma_kunta")):
        return "own"
    return ""


@st.styled
def commuting(frame: pd.DataFrame, *, category: str | None = None, value: str = "value",
              year: str = "year", unit: str = "henkeä", title: str | None = None,
              subtitle: str | None = None, source: str) -> Figure:
    """Working in the own municipality, in-commuting and out-commuting.

    ``frame``: ``category`` (in / out / own, see :func:`commuting_kind`; other categories
    are drawn with their own names) and ``value`` (employed persons), optionally ``year``.
    Store rows work as they are: the flows are the indicators ``asuinkunnassa_tyossakayvat``,
    ``tulopendelointi``, ``lahtopendelointi`` (used when ``category`` is blank).
    One year: three labelled bars and the net commuting (in − out); several years: one line
    per flow."""
    chart = "commuting"
    require(frame, [value], chart)
    category = pick(frame, category, ("category", "flow", "indicator"), chart)
    df = pd.DataFrame({"_v": numeric(frame[value], chart, value).to_numpy(),
                       "_cat": frame[category].astype(str).to_numpy(),
                       "_y": frame[year].to_numpy() if year in frame.columns else 0})
    df["_kind"] = [commuting_kind(c) for c in df["_cat"]]
    df["_label"] = [COMMUTING.get(k, c) for k, c in zip(df["_kind"], df["_cat"], strict=True)]
    rank = {"own": 0, "in": 1, "out": 2, "": 3}
    flows = (df.drop_duplicates("_label").assign(_r=lambda d: d["_kind"].map(rank))
             .sort_values("_r", kind="stable")[["_label", "_kind"]].to_numpy().tolist())
    if df.duplicated(["_y", "_label"]).any():
        raise DataError(f"{chart}: a flow appears twice for one year; filter the frame to one "
                        "municipality first.")
    has_values(df["_v"], chart)
    years = sorted(df["_y"].unique())
    if len(years) <= 1:
        fig = _commuting_bars(df, flows, unit, title, subtitle, source)
    else:
        fig = _commuting_lines(df, flows, years, unit, title, subtitle, source)
    return fig


def _commuting_bars(df, flows, unit, title, subtitle, source) -> Figure:
    values = {label: df.loc[df["_label"] == label, "_v"].iloc[0] for label, _ in flows}
    kinds = {kind: values[label] for label, kind in flows if kind}
    if subtitle is None and {"in", "out"} <= set(kinds):
        net = kinds["in"] - kinds["out"]
        if not np.isnan(net):
            subtitle = "Nettopendelöinti (sisään − ulos): " + fmt.number(net, signed=True) \
                + f" {unit}"
    names = [label for label, _ in flows]
    texts = [st.value_label(values[n], None, 0) for n in names]
    left = st.text_width(names) + 0.25
    fr = st.new_chart(0.34 * len(names), title=title, subtitle=subtitle, source=source,
                      left=left, right=0.2, bottom=0.1)
    ax = fr.ax
    vals = np.array([values[n] for n in names], dtype=float)
    ok = ~np.isnan(vals)
    colours = [_COMMUTING_COLOURS.get(kind, st.PEER) for _, kind in flows]
    y = np.arange(len(names))
    st.bars(ax, y[ok], vals[ok], width=0.6,
            color=[c for c, o in zip(colours, ok, strict=True) if o], gid="uso-bars")
    vmax = float(np.nanmax(vals)) if ok.any() else 1.0
    label_in = st.text_width(texts, st.LABEL_SIZE) + 0.12
    ax.set_xlim(0, vmax / max(0.3, 1 - label_in / (st.WIDTH - left - 0.2)))
    for yi, v, text in zip(y, vals, texts, strict=True):
        missing = np.isnan(v)
        st.label(ax, text, (0 if missing else v, yi), offset=(3, 0), va="center", ha="left",
                 fontsize=st.LABEL_SIZE, color=st.MUTED if missing else st.TEXT,
                 fontstyle="italic" if missing else "normal",
                 gid="uso-missing" if missing else "uso-value")
    st.bar_rows(ax, y, names)
    return fr.fig


def _commuting_lines(df, flows, years, unit, title, subtitle, source) -> Figure:
    data = df.pivot(index="_y", columns="_label", values="_v").reindex(years)
    last = [st.value_label(data[n].dropna().iloc[-1], None, 0)
            for n, _ in flows if data[n].notna().any()]
    right = st.text_width(last or ["0"], st.LABEL_SIZE) + 0.2
    fr = st.new_chart(2.4, title=title, subtitle=subtitle, source=source, left=0.8,
                      right=right, legend=[name for name, _ in flows])
    ax = fr.ax
    handles, labels = [], []
    marker = "o" if len(years) <= 15 else None
    for i, (name, kind) in enumerate(flows):
        colour = _COMMUTING_COLOURS.get(kind, st.CATEGORY_COLOURS[4 + i % 4])
        (line,) = ax.plot(data.index, data[name], color=colour, linewidth=2.0, marker=marker,
                          markersize=3, zorder=3, gid=f"uso-flow-{kind or i}")
        handles.append(line)
        labels.append(name)
        valid = data[name].dropna()
        if len(valid):
            st.label(ax, st.value_label(valid.iloc[-1], None, 0),
                     (valid.index[-1], valid.iloc[-1]), offset=(5, 0), va="center", ha="left",
                     fontsize=st.LABEL_SIZE, color=colour, gid="uso-value")
    st.legend(fr, handles, labels)
    st.year_axis(ax, [int(y) for y in years])
    st.value_axis(ax, "y", None, label=unit)
    return fr.fig


# --- emissions ---------------------------------------------------------------------------

_SECTOR_CODE = re.compile(r"^\d[\w().\-]*\s+(?=\D)")
# the store's category codes for kasvihuonekaasupaastot (Statistics Finland 121z sectors)
SECTORS = {
    "energia_pl_liikenne": "Energia (pl. kotimaan liikenne)",
    "liikenne": "Kotimaan liikenne",
    "teollisuus": "Teollisuusprosessit ja tuotteet",
    "maatalous": "Maatalous",
    "jatteet": "Jätteiden käsittely",
}


def sector_label(category: object, labels: Mapping[str, str] | None = None) -> str:
    """``"1A3 Kotimaan liikenne"`` -> ``"Kotimaan liikenne"`` (the inventory codes mean
    nothing to a council member); store codes (``liikenne``) -> their Finnish names."""
    text = str(category).strip()
    if labels and text in labels:
        return labels[text]
    if text in SECTORS:
        return SECTORS[text]
    return _SECTOR_CODE.sub("", text, count=1)


@st.styled
def emissions_by_sector(frame: pd.DataFrame, *, year: str = "year", category: str = "category",
                        value: str = "value", unit: str = "kt CO\u2082-ekv.", decimals: int = 0,
                        totals: Mapping[int, float] | pd.Series | None = None,
                        labels: Mapping[str, str] | None = None,
                        title: str | None = None, subtitle: str | None = None,
                        source: str) -> Figure:
    """Emissions stacked by sector, one bar per year, the total written on top.

    ``frame``: ``year``, ``category`` (sector; pass non-overlapping sectors, e.g. energy
    without transport + transport, not both with the energy total) and ``value``. Sectors keep
    the order of their first appearance. A year whose sectors are all missing shows
    "ei tietoa"; a total is written only when every sector of that year has a figure.
    The publisher's own total -- a row with category ``""`` (as the store keeps it) or
    ``totals`` (year -> total) -- replaces the sum of the rounded sector figures in the
    labels, so the chart agrees with the published total. ``labels`` maps category codes to
    display names (the store's codes have Finnish names built in)."""
    chart = "emissions_by_sector"
    require(frame, [year, category, value], chart)
    cats = frame[category].fillna("").astype(str).str.strip()
    df = pd.DataFrame({"_y": frame[year].to_numpy(),
                       "_c": [sector_label(c, labels) for c in cats],
                       "_v": numeric(frame[value], chart, value).to_numpy()})
    try:
        df["_y"] = df["_y"].astype(int)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{chart}: column {year!r} must hold years: {exc}") from exc
    is_total = cats.str.lower().isin(TOTAL_WORDS).to_numpy()
    if is_total.any() and totals is None:
        totals = df[is_total].set_index("_y")["_v"]
        if totals.index.duplicated().any():
            raise DataError(f"{chart}: more than one total row for a year.")
    df = df[~is_total]
    has_values(df["_v"], chart)
    if df.duplicated(["_y", "_c"]).any():
        raise DataError(f"{chart}: a sector appears twice for one year; filter the frame to "
                        "one municipality.")
    sectors = list(dict.fromkeys(df["_c"]))
    data = df.pivot(index="_y", columns="_c", values="_v").reindex(columns=sectors)
    data = data.sort_index()
    years = data.index.to_list()
    x = np.arange(len(years))
    fr = st.new_chart(2.6, title=title, subtitle=subtitle, source=source, left=0.8,
                      right=0.25, legend=sectors)
    ax = fr.ax
    pos_base = np.zeros(len(years))
    neg_base = np.zeros(len(years))
    handles = []
    width = 0.62 if len(years) > 3 else 0.45
    for i, sector in enumerate(sectors):
        v = data[sector].to_numpy(dtype=float)
        colour = st.CATEGORY_COLOURS[i % len(st.CATEGORY_COLOURS)]
        filled = np.nan_to_num(v, nan=0.0)  # only for stacking offsets; NaN bars not drawn
        ok = ~np.isnan(v)
        base = np.where(filled >= 0, pos_base, neg_base)
        st.bars(ax, x[ok], v[ok], base=base[ok], width=width, color=colour, horizontal=False,
                edgecolor="white", linewidth=0.5, gid=f"uso-sector-{i}")
        pos_base += np.where(filled > 0, filled, 0)
        neg_base += np.where(filled < 0, filled, 0)
        handles.append(Patch(color=colour))
    complete = data.notna().all(axis=1).to_numpy()
    empty = data.isna().all(axis=1).to_numpy()
    sums = data.sum(axis=1, min_count=1)
    if totals is not None:
        given = pd.Series(totals, dtype="float64")
        given.index = [int(y) for y in given.index]
        sums = given.reindex(data.index)
        complete = sums.notna().to_numpy()  # a published total stands even if a sector lacks
    for xi, total, full, none_ in zip(x, sums, complete, empty, strict=True):
        if none_:
            st.label(ax, st.NO_DATA, (xi, 0), offset=(0, 3), ha="center", va="bottom",
                     fontsize=st.LABEL_SIZE, color=st.MUTED, fontstyle="italic",
                     gid="uso-missing")
        elif full:
            st.label(ax, st.value_label(total, None, decimals), (xi, pos_base[xi]),
                     offset=(0, 3), ha="center", va="bottom", fontsize=st.LABEL_SIZE,
                     fontweight="bold", color=st.TEXT, gid="uso-total")
    st.legend(fr, handles, sectors)
    st.category_axis(ax, x, [str(y) for y in years])
    ax.set_xlim(-0.6, len(years) - 0.4)
    top = float(pos_base.max()) if len(years) else 1.0
    ax.set_ylim(min(0.0, float(neg_base.min()) * 1.1) if len(years) else 0, (top or 1.0) * 1.12)
    if (neg_base < 0).any():
        ax.axhline(0, color="#6e6e6e", linewidth=0.8, zorder=3)
    st.value_axis(ax, "y", None, label=unit)
    return fr.fig
