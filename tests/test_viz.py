"""The house chart style (uso_lib.viz) on real figures.

The ranking chart is checked against the USO brochure's HYTE-€ comparison (ten municipalities,
2020, "Vrt. kunnat ka. 17,1 €"); the other charts use Juva's published figures from the raw
files in ../shared/data/raw (Alueaikasarjat 2015/2019, StatFin 11re, 12r5, projection 14wx).
"""

from __future__ import annotations

import base64
import json
import struct

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from uso_lib import viz
from uso_lib.errors import DataError, NoData, UsoError
from uso_lib.store import Store
from uso_lib.viz import theme as st

NBSP = "\u00a0"
MINUS = "\u2212"

# The brochure: HYTE-€ of the comparison municipalities, 2020.
HYTE = [("Iisalmi", 19.7), ("Kokkola", 19.2), ("Oulu", 18.7), ("Raisio", 18.5), ("Kemi", 17.0),
        ("Riihimäki", 17.0), ("Rovaniemi", 16.8), ("Tornio", 16.6), ("Kuusamo", 16.4),
        ("Raahe", 11.4)]
HYTE_SOURCE = "Kuntaliitto, USO-esite: HYTE-€ vertailukunnat 2020"


def texts(fig) -> list[str]:
    """Every text drawn on the figure (figure texts, annotations, tick labels, legend)."""
    fig.canvas.draw()
    return [t.get_text() for t in fig.findobj(mpl.text.Text) if t.get_text()]


def source_lines(fig) -> list[str]:
    return [t.get_text() for t in fig.texts if t.get_gid() == "uso-source"]


def by_gid(fig, gid: str) -> list:
    return [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def row_order(fig) -> list[str]:
    """The bar charts' row names from the top of the chart down."""
    ax = fig.axes[0]
    rows = [t for t in ax.texts if t.get_gid() == "uso-row"]
    return [t.get_text() for t in sorted(rows, key=lambda t: -ax.transData.transform(
        (0, t.get_position()[1]))[1])]


# --- real data fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def aas(raw_dir):
    """Alueaikasarjat 2015 and 2019, Juva's row and the whole sheet (2020 division)."""
    path = raw_dir / "statfin" / "Alueaikasarjat1-1001.xlsx"
    sheets = pd.read_excel(path, sheet_name=["2015", "2019"], engine="calamine")
    out = {}
    for year, df in sheets.items():
        juva = df[df.iloc[:, 1] == "Juva"]
        assert len(juva) == 1
        out[int(year)] = (juva.iloc[0], df)
    return out


@pytest.fixture(scope="module")
def population_11re(raw_dir) -> pd.DataFrame:
    df = pd.read_csv(raw_dir / "recent" / "statfin_vaerak_pxt_11re_all.derived.csv",
                     dtype={"Alue": str})
    return df.rename(columns={"Vuosi": "year", "vaesto": "value"})


@pytest.fixture(scope="module")
def projection_14wx(raw_dir) -> pd.DataFrame:
    """Juva's projected population by single year of age 0-99 (JSON-stat2, StatFin 14wx)."""
    doc = json.loads((raw_dir / "recent" / "population_raw.json").read_text(encoding="utf-8"))
    dims = doc["id"]
    values = np.array([np.nan if v is None else v for v in doc["value"]], dtype=float)
    cube = values.reshape(doc["size"])
    index = {d: doc["dimension"][d]["category"]["index"] for d in dims}
    area = index["Alue"]["KU178"]
    rows = []
    for year, yi in index["Vuosi"].items():
        for age, ai in index["Ikä"].items():
            rows.append({"year": int(year), "age": age, "value": cube[area, yi, 0, ai, 0]})
    return pd.DataFrame(rows)


# --- ranking (the brochure's chart) ------------------------------------------------------

def hyte_frame(extra: list[tuple[str, float]] = ()) -> pd.DataFrame:
    return pd.DataFrame(HYTE + list(extra), columns=["name", "value"])


def test_ranking_reproduces_the_brochure_chart():
    df = hyte_frame().sample(frac=1, random_state=3)  # input order must not matter
    fig = viz.ranking_bars(df, highlight="Tornio", mean=True, unit="€", decimals=1,
                           title="HYTE-€, vertailukunnat 2020", source=HYTE_SOURCE)
    assert row_order(fig) == [n for n, _ in HYTE]  # best first; the 17,0 tie by name
    values = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert values[0] == f"19,7{NBSP}€"
    assert values[-1] == f"11,4{NBSP}€"
    assert f"16,6{NBSP}€" in values
    # the mean of the ten, as printed in the brochure
    assert f"Vrt. kunnat ka. 17,1{NBSP}€" in texts(fig)
    (line,) = by_gid(fig, "uso-mean")
    assert line.get_xdata()[0] == pytest.approx(17.13)
    assert source_lines(fig) == [f"Lähde: {HYTE_SOURCE}"]


def test_ranking_highlight_is_the_one_strong_colour():
    fig = viz.ranking_bars(hyte_frame(), highlight="Tornio", unit="€", source=HYTE_SOURCE)
    bars = fig.axes[0].patches
    colours = {to_hex(b.get_facecolor()): b for b in bars}
    assert len(bars) == 10
    assert set(colours) == {st.HIGHLIGHT, st.PEER}
    tornio = [b for b in bars if to_hex(b.get_facecolor()) == st.HIGHLIGHT]
    assert len(tornio) == 1 and tornio[0].get_width() == pytest.approx(16.6)
    bold = [t.get_text() for t in by_gid(fig, "uso-row") if t.get_fontweight() == "bold"]
    assert bold == ["Tornio"]


def test_ranking_missing_value_is_listed_not_drawn_as_zero():
    fig = viz.ranking_bars(hyte_frame([("Juva", np.nan)]), highlight="Juva", mean=True,
                           unit="€", source=HYTE_SOURCE)
    ax = fig.axes[0]
    assert len(ax.patches) == 10  # no bar for Juva, not even a zero-length one
    assert row_order(fig)[-1] == "Juva"
    assert [t.get_text() for t in by_gid(fig, "uso-missing")] == ["ei tietoa"]
    # the mean is over the municipalities with data only
    assert f"Vrt. kunnat ka. 17,1{NBSP}€" in texts(fig)


def test_ranking_takes_compare_frames_and_lower_is_better():
    # the shape compare.ranking returns: kunta, name, value, highlight flag
    df = pd.DataFrame({"kunta": ["178", "046", "097"], "name": ["Juva", "Enonkoski",
                                                                  "Hirvensalmi"],
                       "value": [9.6, 12.9, 7.1], "highlight": [True, False, False]})
    fig = viz.ranking_bars(df, polarity="lower_better", unit="%", mean=10.0,
                           mean_label="Koko maa", source="Tilastokeskus, StatFin 12r5, 2021")
    ax = fig.axes[0]
    assert row_order(fig) == ["Hirvensalmi", "Juva", "Enonkoski"]
    hl = [b for b in ax.patches if to_hex(b.get_facecolor()) == st.HIGHLIGHT]
    assert [b.get_width() for b in hl] == [pytest.approx(9.6)]
    assert f"Koko maa 10,0{NBSP}%" in texts(fig)


def test_ranking_negative_values_use_the_minus_sign():
    df = pd.DataFrame({"name": ["Juva", "Kuopio"], "value": [-2.0, 0.5]})
    fig = viz.ranking_bars(df, highlight="Juva", unit="%", source="Tilastokeskus")
    labels = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert labels == [f"0,5{NBSP}%", f"{MINUS}2,0{NBSP}%"]
    lo, hi = fig.axes[0].get_xlim()
    assert lo < -2.0 and hi > 0.5


def test_bad_input_is_a_clear_error():
    with pytest.raises(DataError, match=r"lacks column\(s\) \['arvo'\]"):
        viz.ranking_bars(hyte_frame(), value="arvo", source=HYTE_SOURCE)
    bad = hyte_frame().astype({"value": object})
    bad.loc[3, "value"] = "18,5"  # a decimal comma that slipped through
    with pytest.raises(DataError, match=r"row 3 is not a number: '18,5'"):
        viz.ranking_bars(bad, source=HYTE_SOURCE)
    with pytest.raises(ValueError, match="source line"):
        viz.ranking_bars(hyte_frame(), source="  ")
    # publisher symbols are missing values, not errors
    sym = hyte_frame([("Juva", "..")])
    fig = viz.ranking_bars(sym, source=HYTE_SOURCE)
    assert len(fig.axes[0].patches) == 10


# --- lines ---------------------------------------------------------------------------------

def test_time_series_ticks_are_finnish(population_11re, raw_dir):
    juva = population_11re[(population_11re["Alue"] == "KU178")
                           & (population_11re["year"] >= 2010)]
    fig = viz.time_series(juva.assign(name="Juva")[["year", "name", "value"]], unit="henkeä",
                          title="Väkiluku", source="Tilastokeskus, StatFin 11re, 2010–2023")
    fig.canvas.draw()
    ax = fig.axes[0]
    yticks = [t for _, t in st.axis_ticks(ax, "y") if t]
    assert all(NBSP in t for t in yticks if len(t) > 3), yticks  # "6 500", never "6500"
    xticks = [t for _, t in st.axis_ticks(ax, "x") if t]
    assert "2010" in xticks and all(NBSP not in t for t in xticks)  # years are not amounts
    assert f"5{NBSP}734{NBSP}henkeä" in texts(fig)  # 2023, the last figure

    # unemployment rate, December 2019-2024 (12r5): a narrow range needs decimals
    rates = pd.read_csv(raw_dir / "recent" / "statfin_tyonv_pxt_12r5_map.derived.csv")
    dec = rates[(rates["Alue"] == "KU178") & rates["Kuukausi"].str.endswith("M12")]
    dec = dec.assign(year=dec["Kuukausi"].str[:4].astype(int))
    dec = dec[dec["year"] >= 2019].set_index("year")["TYOTOSUUS"].rename("Juva")
    assert dec.loc[2021] == 9.6
    fig = viz.time_series(dec, unit="%", decimals=1, source="Tilastokeskus, StatFin 12r5")
    fig.canvas.draw()
    ticks = [t for _, t in st.axis_ticks(fig.axes[0], "y") if t]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks), ticks
    assert f"9,3{NBSP}%" in texts(fig)


def test_value_ticks_say_the_value_at_the_tick():
    # Juva's unemployment rate 2001-2020 (Kuntien avainluvut) spans 8.8-14.3 %: a 1.5 step
    # once labelled the ticks at 10.5 and 13.5 as "11" and "14"
    s = pd.Series({2001: 12.4, 2005: 14.3, 2008: 8.9, 2010: 8.8, 2020: 11.1}, name="Juva")
    fig = viz.time_series(s, source="Tilastokeskus, Kuntien avainluvut")
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    shown = [(y, t) for y, t in st.axis_ticks(ax, "y") if t]
    assert all(lo <= y <= hi for y, _ in shown)
    drawn = [t.get_text() for t in by_gid(fig, "uso-tick")]
    assert drawn[-len(shown):] == [t for _, t in shown]  # what is drawn is what was computed
    assert len(shown) >= 3, shown
    for y, text in shown:
        assert float(text.replace(",", ".").replace(MINUS, "-")) == pytest.approx(y), shown


def test_time_series_gap_stays_a_gap():
    s = pd.DataFrame({"year": [2019, 2020, 2021, 2022], "name": "Juva",
                      "value": [8.9, np.nan, 9.6, 8.7]})
    fig = viz.time_series(s, source="Tilastokeskus, StatFin 12r5")
    (line,) = by_gid(fig, "uso-highlight")
    y = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(y[1]) and y[2] == 9.6


def test_indexed_series_is_100_in_the_base_year(population_11re):
    names = {"KU178": "Juva", "SSS": "Koko maa"}
    df = population_11re[population_11re["Alue"].isin(names)
                         & population_11re["year"].between(2010, 2023)]
    df = df.assign(name=df["Alue"].map(names))
    peers = population_11re[population_11re["Alue"].isin(["KU046", "KU097", "KU171"])
                            & population_11re["year"].between(2010, 2023)]
    mean = peers.groupby("year", as_index=False)["value"].mean().assign(name="Vrt. kunnat ka.")
    frame = pd.concat([df[["year", "name", "value"]], mean])

    idx = viz.index_frame(frame, 2015)
    assert (idx.loc[2015] == 100).all()
    assert idx.loc[2023, "Juva"] == pytest.approx(5734 / 6548 * 100)

    fig = viz.indexed_series(frame, 2015, "Juva", title="Väkiluvun kehitys",
                             source="Tilastokeskus, StatFin 11re")
    (line,) = by_gid(fig, "uso-highlight")
    years = list(line.get_xdata())
    assert line.get_ydata()[years.index(2015)] == pytest.approx(100)
    all_texts = texts(fig)
    assert "Indeksi, 2015 = 100" in all_texts
    assert "87,6" in all_texts  # Juva 2023: 5734 / 6548
    assert st.legend_labels(fig) == ["Juva", "Koko maa", "Vrt. kunnat ka."]


def test_indexed_series_without_base_value_says_so():
    frame = pd.DataFrame({"Juva": [6548.0, 5734.0], "Uusi": [np.nan, 10.0]},
                         index=[2015, 2023])
    idx = viz.index_frame(frame, 2015)
    assert list(idx.columns) == ["Juva"] and idx.attrs["no_base"] == ["Uusi"]
    fig = viz.indexed_series(frame, 2015, source="Tilastokeskus, StatFin 11re")
    assert "Indeksi, 2015 = 100 (ei tietoa vuodelta 2015: Uusi)" in texts(fig)
    with pytest.raises(DataError, match="base year 2010 is not in the data"):
        viz.index_frame(frame, 2010)


def test_projection_labels_history_and_horizon(population_11re, projection_14wx):
    hist = population_11re[(population_11re["Alue"] == "KU178")
                           & (population_11re["year"] >= 2010)][["year", "value"]]
    fc = projection_14wx.groupby("year")["value"].sum()
    assert fc.loc[2024] == 5646  # SOURCES.md: ages 0-99
    fig = viz.projection(hist, {"Ennuste 2024 (0–99-v.)": fc}, title="Väestöennuste",
                         source="Tilastokeskus, StatFin 11re ja 14wx")
    labels = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert labels == [f"5{NBSP}734", f"4{NBSP}605"]
    (line,) = by_gid(fig, "uso-forecast")
    assert list(line.get_xdata()) == [2024, 2035, 2040]


def test_projection_end_labels_that_would_overlap_are_moved_apart():
    """Kuhmo's two projection rounds end 23 residents apart in 2040 (2019 round 5 761, 2024
    round 5 738): their labels were printed over each other."""
    store = Store("snapshot")
    hist = store.series("vaesto", "290")
    hist = hist[hist["year"] >= 2010].set_index("year")["value"]
    rounds = {label: store.series(iid, "290").set_index("year")["value"]
              for label, iid in (("Ennuste 2019", "vaestoennuste_2019"),
                                 ("Ennuste 2024", "vaestoennuste"))}
    assert [s.loc[2040] for s in rounds.values()] == [5761, 5738]
    fig = viz.projection(hist, rounds, source="Tilastokeskus, StatFin 14wx")
    fig.set_dpi(90)  # as the report draws it: placed in points, right at any dpi
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    ends = {t.get_text(): t for t in by_gid(fig, "uso-value")[1:]}
    assert list(ends) == [f"5{NBSP}761", f"5{NBSP}738"]
    a, b = (t.get_window_extent(renderer) for t in ends.values())
    assert not a.overlaps(b) and a.y0 > b.y0  # the higher figure stays on top
    # each label stays beside its own end point, within a line of text
    for t in ends.values():
        y_point = t.axes.transData.transform(t.get_position())[1]
        assert abs((t.get_window_extent(renderer).y0 + t.get_window_extent(renderer).y1) / 2
                   - y_point) < st.LABEL_SIZE * 90 / 72


def test_spread_keeps_order_and_moves_only_what_overlaps():
    assert st.spread([0, 100], 10) == [0, 100]
    assert st.spread([0, 1], 10) == [-4.5, 5.5]  # a clash is split evenly
    assert st.spread([5, 0, 1], 10) == [12, -8, 2]  # input order kept, one block of three
    assert st.spread([0, 5, 100, 101], 10) == [-2.5, 7.5, 95.5, 105.5]
    assert st.spread([], 10) == []


# --- population ----------------------------------------------------------------------------

def test_pyramid_from_alueaikasarjat_juva_2019(aas):
    juva, _ = aas[2019]
    rows = []
    for col, v in juva.items():
        if isinstance(col, str) and col.endswith(("miehet", "naiset")) and "vuotiaat," in col:
            age, sex = col.rsplit(",", 1)
            rows.append({"age": age, "sex": sex.strip(), "value": v})
    df = pd.DataFrame(rows)
    assert len(df) == 40
    fig = viz.population_pyramid(df, title="Juvan väestö 2019",
                                 source="Tilastokeskus, Alueaikasarjat 2019")
    ax = fig.axes[0]
    men = by_gid(fig, "uso-pyramid-Miehet")
    women = by_gid(fig, "uso-pyramid-Naiset")
    men_w = [p.get_width() for p in men]
    women_w = [p.get_width() for p in women]
    assert sum(men_w) == pytest.approx(-3080) and sum(women_w) == pytest.approx(3036)
    assert juva["Miesten lukumäärä"] == 3080 and juva["Naisten lukumäärä"] == 3036
    order = row_order(fig)
    assert order[0] == "95+" and order[-1] == "0–4"  # youngest at the bottom
    # the oldest men: 2 persons aged 95+, drawn on the left
    top = max(men, key=lambda p: p.get_y())
    assert top.get_width() == pytest.approx(-2)
    fig.canvas.draw()
    ticks = [t for _, t in st.axis_ticks(ax, "x") if t]
    assert all(not t.startswith(MINUS) for t in ticks)  # both sides count persons


def test_pyramid_one_sided_from_projection_single_years(projection_14wx):
    df = projection_14wx[projection_14wx["year"] == 2040]
    fig = viz.population_pyramid(df, title="Juva 2040 (ennuste)",
                                 source="Tilastokeskus, StatFin 14wx")
    bars = by_gid(fig, "uso-pyramid-total")
    assert len(bars) == 20  # 0-4 ... 95-99, ages 100+ are not in the file
    assert sum(p.get_width() for p in bars) == pytest.approx(4605)
    assert row_order(fig)[0] == "95–99"


def test_pyramid_reads_store_categories_and_rejects_overlaps(aas):
    juva, _ = aas[2015]
    rows = [{"category": f"{sx}:{a}-{a + 4}", "value": juva[f"{a}-{a + 4} -vuotiaat, {word}"]}
            for a in range(0, 95, 5) for sx, word in (("m", "miehet"), ("n", "naiset"))]
    rows += [{"category": f"{sx}:95-", "value": juva[f"Yli 94-vuotiaat, {word}"]}
             for sx, word in (("m", "miehet"), ("n", "naiset"))]
    df = pd.DataFrame(rows)
    fig = viz.population_pyramid(df, share=True, source="Tilastokeskus, Alueaikasarjat 2015")
    men = by_gid(fig, "uso-pyramid-Miehet")
    women = by_gid(fig, "uso-pyramid-Naiset")
    total = -sum(p.get_width() for p in men) + sum(p.get_width() for p in women)
    assert total == pytest.approx(100)
    assert juva["Väkiluku"] == 6548
    overlapping = pd.DataFrame({"age": ["0-4", "0-6", "5-9"], "value": [1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match="0–4 and 0–6 overlap"):
        viz.population_pyramid(overlapping, source="x")


def test_service_need_change_from_the_2024_projection(projection_14wx):
    p = projection_14wx.assign(age=projection_14wx["age"].astype(int))
    groups = {"0-6": (0, 6), "7-15": (7, 15), "16-18": (16, 18), "75+": (75, 99),
              "85+": (85, 99)}
    rows = []
    for g, (lo, hi) in groups.items():
        sel = p[p["age"].between(lo, hi)].groupby("year")["value"].sum()
        rows.append({"group": g, "start": sel[2024], "end": sel[2040],
                     "change_pct": (sel[2040] / sel[2024] - 1) * 100})
    df = pd.DataFrame(rows)
    fig = viz.service_need_change(df, base_year=2024, horizon=2040,
                                  title="Palvelutarpeiden muutos",
                                  source="Tilastokeskus, StatFin 14wx; muutos laskettu")
    labels = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert len(labels) == 5
    for text, change in zip(labels, df["change_pct"], strict=True):
        sign = "+" if change > 0 else MINUS
        assert text.startswith(sign)
        assert f"{abs(change):.1f}".replace(".", ",") in text
    first = df.iloc[0]
    assert f"({int(first['start'])} → {int(first['end'])})" in labels[0]
    bars = by_gid(fig, "uso-change")
    for bar, change in zip(bars, df["change_pct"], strict=True):
        expected = st.POSITIVE if change > 0 else st.NEGATIVE
        assert to_hex(bar.get_facecolor()) == expected
    assert "Ennustettu muutos 2024–2040, %" in texts(fig)
    assert row_order(fig)[0] == "0–6 v. (varhaiskasvatus)"


def test_snapshot_projection_charts_for_juva():
    """The embedded snapshot's projection rows, passed as the store returns them."""
    store = Store("snapshot")
    if not {"vaestoennuste", "palvelutarpeiden_muutos"} <= set(store.indicators()):
        pytest.skip("the snapshot has no projection part yet (uso snapshot build)")
    change = store.series("palvelutarpeiden_muutos", "178", category=None)
    change = change[change["year"] == 2040]
    fig = viz.service_need_change(change, base_year=2024, horizon=2040,
                                  source=change["source"].iloc[0])
    assert row_order(fig)[:3] == ["0–6 v. (varhaiskasvatus)", "7–15 v. (perusopetus)",
                                            "16–18 v. (toinen aste)"]
    proj = store.series("vaestoennuste", "178", category=None)
    proj = proj[proj["year"] == 2040]
    with pytest.raises(DataError, match="overlap"):  # five-year and service groups together
        viz.population_pyramid(proj, source="Tilastokeskus, StatFin 14wx")
    five = proj[proj["category"].str.fullmatch(r"\d+-\d+") & ~proj["category"].isin(
        ["0-6", "7-15", "16-18"])]
    fig = viz.population_pyramid(five, source=five["source"].iloc[0])
    bars = by_gid(fig, "uso-pyramid-total")
    assert sum(p.get_width() for p in bars) == pytest.approx(4605)  # = the raw 14wx file


# --- structure -----------------------------------------------------------------------------

def test_jobs_by_industry_shares_of_the_published_total(aas):
    juva, sheet = aas[2019]
    named = {"C": "Teollisuuden", "F": "Rakentamisen", "G": "Kaupan", "P": "Koulutuksen",
             "Q": "Terveys- ja sosiaalipalvelujen"}

    def jobs(row) -> pd.DataFrame:
        out = [{"category": "", "value": row["Alueella olevien työpaikkojen lukumäärä"]}]
        out += [{"category": c, "value": row[f"{w} työpaikat, miehet"]
                 + row[f"{w} työpaikat, naiset"]} for c, w in named.items()]
        return pd.DataFrame(out)

    juva_jobs = jobs(juva).assign(name="Juva")
    country = jobs(sheet.sum(numeric_only=True)).assign(name="Koko maa")
    assert juva_jobs["value"].iloc[0] == 1947
    fig = viz.jobs_by_industry(pd.concat([juva_jobs, country]), title="Työpaikat 2019",
                               source="Tilastokeskus, Alueaikasarjat 2019")
    order = row_order(fig)
    assert len(order) == 5 and all(o[0] in named for o in order)
    shares = {c: v / 1947 * 100 for c, v in zip(juva_jobs["category"][1:],
                                                 juva_jobs["value"][1:], strict=True)}
    best = max(shares, key=shares.get)
    assert order[0].startswith(best + " ")
    labels = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert labels[0] == f"{shares[best]:.1f}".replace(".", ",") + f"{NBSP}%"
    assert len(by_gid(fig, "uso-compare")) == 1  # the country's markers
    assert st.legend_labels(fig) == ["Juva", "Koko maa"]
    # without a total the shares are of the categories shown, and the chart says so
    fig = viz.jobs_by_industry(juva_jobs[juva_jobs["category"] != ""], source="x")
    assert "Osuus näytettyjen luokkien summasta" in texts(fig)


def test_jobs_by_industry_tol_labels():
    assert viz.structure.tol_label("C Teollisuus (10-33)") == ("C", "C Teollisuus")
    assert viz.structure.tol_label("q") == ("Q", "Q Terveys- ja sosiaalipalvelut")
    assert viz.structure.tol_label("Informaatiosektori") == ("", "Informaatiosektori")


def test_category_bars_keep_the_given_order(aas):
    deciles = ["I (pienituloisin 10 %)", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX",
               "X (suurituloisin 10 %)"]
    juva, sheet = aas[2019]
    country = sheet.sum(numeric_only=True)

    def shares(row, name):
        total = row["Asuntoväestö, henkilöä"]
        return pd.DataFrame({"category": [f"{i}" for i in range(1, 11)], "name": name,
                             "value": [row[d] / total * 100 for d in deciles]})

    df = pd.concat([shares(juva, "Juva"), shares(country, "Koko maa")])
    labels = {str(i): f"{i}. tulokymmenys" for i in range(1, 11)}
    fig = viz.category_bars(df, labels=labels, unit="%", title="Asuntoväestö tulokymmenyksittäin",
                            source="Tilastokeskus, StatFin 12hh (Alueaikasarjat 2019)")
    assert row_order(fig) == [f"{i}. tulokymmenys" for i in range(1, 11)]
    first = juva[deciles[0]] / juva["Asuntoväestö, henkilöä"] * 100
    assert [t.get_text() for t in by_gid(fig, "uso-value")][0] == \
        f"{first:.1f}".replace(".", ",") + f"{NBSP}%"
    assert len(by_gid(fig, "uso-compare")) == 1
    fig = viz.category_bars(df[df["name"] == "Juva"], sort=True, unit="%", source="x")
    values = [b.get_width() for b in by_gid(fig, "uso-bars")]
    assert values == sorted(values, reverse=True)


def test_commuting_one_year_and_over_years(aas):
    cols = {"asuinkunnassa_tyossakayvat": "Asuinkunnassa työssäkäyvät",
            "tulopendelointi": "Sisäänpendelöinti", "lahtopendelointi": "Ulospendelöinti"}
    rows = [{"indicator": ind, "category": "", "year": y, "value": aas[y][0][col]}
            for y in (2015, 2019) for ind, col in cols.items()]
    df = pd.DataFrame(rows)
    one = df[df["year"] == 2019]
    fig = viz.commuting(one, title="Pendelöinti 2019", source="Tilastokeskus, Alueaikasarjat")
    assert row_order(fig) == list(viz.structure.COMMUTING.values())
    labels = [t.get_text() for t in by_gid(fig, "uso-value")]
    assert labels == [f"1{NBSP}491", "456", "771"]  # SOURCES.md: in 456, out 771
    assert f"Nettopendelöinti (sisään − ulos): {MINUS}315 henkeä" in texts(fig)
    fig = viz.commuting(df, source="Tilastokeskus, Alueaikasarjat 2015, 2019")
    lines = [a for a in fig.axes[0].lines if (a.get_gid() or "").startswith("uso-flow")]
    assert len(lines) == 3 and list(lines[0].get_xdata()) == [2015, 2019]


def test_emissions_stacked_with_published_totals(aas):
    sectors = {"energia_pl_liikenne": "1(-1A3) Energiasektori pl. kotimaan liikenne",
               "liikenne": "1A3 Kotimaan liikenne",
               "teollisuus": "2 Teollisuusprosessit ja tuotteiden käyttö",
               "maatalous": "3 Maatalous", "jatteet": "5 Jätteiden käsittely",
               "": "Päästöt yhteensä pl. LULUCF-sektori"}
    rows = [{"year": y, "category": c, "value": aas[y][0][col]}
            for y in (2015, 2019) for c, col in sectors.items()]
    rows.append({"year": 2021, "category": "liikenne", "value": np.nan})
    df = pd.DataFrame(rows)
    fig = viz.emissions_by_sector(df, title="Kasvihuonekaasupäästöt",
                                  source="Tilastokeskus, StatFin 121z")
    totals = [t.get_text() for t in by_gid(fig, "uso-total")]
    assert totals == ["86", "85"]  # the published totals, not the sum of rounded sectors
    assert [t.get_text() for t in by_gid(fig, "uso-missing")] == ["ei tietoa"]
    legend = st.legend_labels(fig)
    assert legend[:2] == ["Energia (pl. kotimaan liikenne)", "Kotimaan liikenne"]
    transport = by_gid(fig, "uso-sector-1")
    assert [p.get_height() for p in transport] == [32, 34]  # 2015, 2019
    assert [t for _, t in st.axis_ticks(fig.axes[0], "x")] == ["2015", "2019", "2021"]


# --- every chart: source line, style kept local, PNG -----------------------------------

def all_charts():
    src = "Tilastokeskus, testi"
    years = pd.DataFrame({"year": [2015, 2019], "name": "Juva", "value": [6548.0, 6116.0]})
    return {
        "ranking": lambda: viz.ranking_bars(hyte_frame(), source=src),
        "time": lambda: viz.time_series(years, source=src),
        "index": lambda: viz.indexed_series(years, 2015, source=src),
        "projection": lambda: viz.projection(years[["year", "value"]],
                                             pd.Series({2024: 5646.0, 2040: 4605.0}),
                                             source=src),
        "pyramid": lambda: viz.population_pyramid(
            pd.DataFrame({"age": ["0-4", "0-4"], "sex": ["1", "2"], "value": [87, 100]}),
            source=src),
        "service": lambda: viz.service_need_change(
            pd.DataFrame({"category": ["75+"], "value": [20.0]}), source=src),
        "jobs": lambda: viz.jobs_by_industry(
            pd.DataFrame({"category": ["", "C"], "value": [1947, 200]}), source=src),
        "commuting": lambda: viz.commuting(
            pd.DataFrame({"category": ["in", "out"], "value": [456, 771]}), source=src),
        "emissions": lambda: viz.emissions_by_sector(
            pd.DataFrame({"year": [2019], "category": ["3 Maatalous"], "value": [25]}),
            source=src),
    }


@pytest.mark.parametrize("name", list(all_charts()))
def test_every_chart_has_a_source_line_and_keeps_rcparams(name):
    before = dict(mpl.rcParams)
    fig = all_charts()[name]()
    assert isinstance(fig, mpl.figure.Figure)
    assert source_lines(fig) == ["Lähde: Tilastokeskus, testi"]
    assert fig.get_size_inches()[0] == pytest.approx(7.0)
    png = viz.to_png_bytes(fig)
    assert struct.unpack(">I", png[16:20])[0] == 700
    assert dict(mpl.rcParams) == before  # the house style never leaks into the session


def test_a_chart_on_a_reused_skeleton_has_the_pixels_of_a_fresh_one(monkeypatch):
    """A closed chart's figure and axes serve the next chart (viz.layout.release): nothing of
    the chart before may show, in either order, whatever kind of chart came before."""
    from uso_lib.viz import layout

    years = pd.DataFrame({"year": [2015, 2019, 2023] * 2, "value": [6548.0, 6116.0, 5734.0,
                                                                    100.0, 98.0, 97.5],
                          "name": ["Juva"] * 3 + ["Koko maa"] * 3})
    makers = {**all_charts(),
              "ranking_full": lambda: viz.ranking_bars(hyte_frame(), highlight="Tornio",
                                                       mean=True, unit="€", source="THL",
                                                       title="Otsikko", subtitle="€/as."),
              "series_legend": lambda: viz.time_series(years, highlight="Juva", source="x",
                                                       title="Väkiluku"),
              "commuting_years": lambda: viz.commuting(pd.DataFrame(
                  {"category": ["in", "out"] * 2, "year": [2015, 2015, 2019, 2019],
                   "value": [456, 771, 470, 760]}), source="x"),
              "category": lambda: viz.category_bars(pd.DataFrame(
                  {"category": ["a", "b", "c"], "value": [3.0, -1.5, 2.25]}), source="x")}
    monkeypatch.setattr(layout, "POOL_SIZE", 0)  # every chart on a fresh skeleton
    fresh = {name: viz.to_png_bytes(make()) for name, make in makers.items()}
    monkeypatch.setattr(layout, "POOL_SIZE", 1)
    for order in (list(makers), list(reversed(makers))):
        previous = None
        for name in order:
            fig = makers[name]()
            if previous is not None:
                assert fig is previous  # the skeleton the chart before left
            assert viz.to_png_bytes(fig) == fresh[name], name
            previous = fig


def test_nothing_to_draw_is_nodata_not_a_blank_chart():
    cases = [
        lambda: viz.ranking_bars(pd.DataFrame({"name": ["Juva"], "value": [np.nan]}),
                                 source="x"),
        lambda: viz.ranking_bars(pd.DataFrame({"name": [], "value": []}), source="x"),
        lambda: viz.time_series(pd.DataFrame({"year": [2020], "name": ["Juva"],
                                              "value": [".."]}), source="x"),
        lambda: viz.emissions_by_sector(pd.DataFrame({"year": [2019], "category": ["liikenne"],
                                                      "value": [np.nan]}), source="x"),
        lambda: viz.commuting(pd.DataFrame({"category": ["in"], "value": [np.nan]}),
                              source="x"),
    ]
    for make in cases:
        with pytest.raises(NoData, match="no values to draw") as info:
            make()
        assert isinstance(info.value, UsoError)


def test_long_source_line_wraps_inside_the_figure():
    sources = ["Tilastokeskus, StatFin 11re (väestö 31.12.), 2010–2023",
               "THL Sotkanet, indikaattori 3219 (NEET-nuoret), 2021",
               "Tilastokeskus, Kuntien avainluvut 2000–2020 (aluejako 2021)",
               "Kuntaliitto, valtionosuuslaskelma 2020"]
    fig = viz.time_series(pd.Series({2015: 6548.0, 2019: 6116.0}, name="Juva"),
                          title="Väkiluku ja sen kehitys Juvalla verrattuna vertailukuntiin, "
                                "USO-verkostoon ja koko maahan vuosina 2015–2019",
                          source=sources)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (src,) = [t for t in fig.texts if t.get_gid() == "uso-source"]
    assert src.get_text().count("\n") >= 1
    assert src.get_text().replace("\n", " ") == "Lähde: " + "; ".join(sources)
    for text in fig.texts:
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width, text.get_text()
        assert 0 <= box.y0 and box.y1 <= fig.bbox.height, text.get_text()


def test_source_text_rules():
    assert viz.source_text("Tilastokeskus, StatFin 11re, 2021") == \
        "Lähde: Tilastokeskus, StatFin 11re, 2021"
    assert viz.source_text("Lähde: THL Sotkanet, indikaattori 3219") == \
        "Lähde: THL Sotkanet, indikaattori 3219"
    assert viz.source_text(["Tilastokeskus, StatFin 11re", "THL Sotkanet 3219",
                            "Tilastokeskus, StatFin 11re"]) == \
        "Lähde: Tilastokeskus, StatFin 11re; THL Sotkanet 3219"
    with pytest.raises(ValueError):
        viz.source_text(None)


def test_finnish_formatter_decimals_follow_the_tick_step():
    f = viz.FinnishFormatter()
    f.set_locs([0.0, 0.5, 1.0, 1.5])
    assert [f(v) for v in (0.0, 0.5, 1.5)] == ["0,0", "0,5", "1,5"]
    f.set_locs([7.5, 10.0, 12.5])  # 2.5-steps need a decimal: "8" at 7.5 would mislabel it
    assert [f(v) for v in (7.5, 10.0)] == ["7,5", "10,0"]
    f.set_locs([9.0, 10.5, 12.0, 13.5])
    assert f(10.5) == "10,5"
    f.set_locs([0.1 + 0.2, 0.6, 0.9])  # floating-point noise is not a decimal
    assert f(0.6) == "0,6"
    f.set_locs([5000.0, 5500.0, 6000.0])
    assert f(5500.0) == f"5{NBSP}500"
    assert f(-3.0) == f"{MINUS}3"


@pytest.mark.parametrize("ncols", [1, 2, 3])
def test_light_legend_draws_what_matplotlibs_legend_draws(ncols):
    """The house legend lays its entries out itself (cheaper than matplotlib's packers); the
    pixels must be matplotlib's: lines with a centred marker, dashed lines, marker-only keys,
    filled patches, uneven columns, a label with tall letters (Ä) and a wide one."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=st.HIGHLIGHT, linewidth=2.4, marker="o", markersize=4),
               Line2D([], [], color="#cc78bc", linewidth=1.2, linestyle="--"),
               Patch(color=st.PEER),
               Line2D([], [], marker="D", linestyle="none", color="#333333", markersize=4),
               Patch(facecolor=st.PALETTE[2], edgecolor="black", linewidth=0.8)]
    labels = ["Juva", "Koko maa", "Vrt. kunnat ka.", "Äänestysaktiivisuus, eduskuntavaalit",
              "Ålands"]

    def draw(light: bool) -> np.ndarray:
        with st.style():
            frame = st.new_chart(2.0, title="Otsikko", subtitle="henkeä", source="x",
                                 legend=labels)
            frame.legend_ncols = ncols
            if light:
                st.legend(frame, handles, labels)
            else:
                frame.fig.legend(handles, labels, loc="upper left", ncols=ncols,
                                 bbox_to_anchor=(0.1 / st.WIDTH - 0.005, frame.legend_y),
                                 borderaxespad=0, handlelength=2.2, columnspacing=1.5,
                                 handletextpad=0.5, fontsize=st.LABEL_SIZE + 0.5)
            frame.fig.canvas.draw()
            return np.asarray(frame.fig.canvas.buffer_rgba()).copy()

    light, stock = draw(True), draw(False)
    assert (light != 255).any()  # something was drawn
    differ = np.argwhere((light != stock).any(axis=2))
    assert len(differ) == 0, f"{len(differ)} pixels differ, first at {differ[:3].tolist()}"


def test_light_legend_keeps_its_labels_and_rejects_what_it_cannot_draw():
    from matplotlib.collections import LineCollection

    with st.style():
        frame = st.new_chart(2.0, title="t", subtitle=None, source="x", legend=["a", "b"])
        with pytest.raises(TypeError, match="not LineCollection"):
            st.legend(frame, [LineCollection([])], ["a"])
        assert st.legend(frame, [], []) is None and st.legend_labels(frame.fig) == []
        from matplotlib.lines import Line2D
        st.legend(frame, [Line2D([], []), Line2D([], [])], ["a", "b"])
    assert st.legend_labels(frame.fig) == ["a", "b"]
    assert [t.get_text() for t in by_gid(frame.fig, "uso-legend-label")] == []  # not drawn yet
    assert texts(frame.fig).count("a") == 1 and "b" in texts(frame.fig)


def test_png_and_data_uri_are_small_deterministic_and_close_the_figure():
    a = viz.to_png_bytes(viz.ranking_bars(hyte_frame(), highlight="Tornio", mean=True,
                                          unit="€", source=HYTE_SOURCE))
    fig = viz.ranking_bars(hyte_frame(), highlight="Tornio", mean=True, unit="€",
                           source=HYTE_SOURCE)
    b = viz.to_png_bytes(fig)
    assert a == b  # no timestamp in the file
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", a[16:24])
    assert width == 700 and 250 < height < 600
    assert len(a) < 80_000
    # closed: the chart's artists are freed (its emptied skeleton may serve the next chart)
    assert not fig.texts and not fig.artists
    assert all(not (ax.lines or ax.patches or ax.texts or ax.collections or ax.artists)
               for ax in fig.axes)
    uri = viz.to_data_uri(viz.time_series(pd.Series({2015: 6548.0, 2019: 6116.0}, name="Juva"),
                                          source="Tilastokeskus, StatFin 11re"))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:4] == b"\x89PNG"


def test_chart_displays_itself_in_a_notebook():
    fig = viz.ranking_bars(hyte_frame(), source=HYTE_SOURCE)
    assert fig._repr_png_()[:4] == b"\x89PNG"
    assert fig.axes  # displaying does not close it


def test_report_figure_prints_the_source_as_caption_not_twice():
    import io
    import re

    from PIL import Image

    from uso_lib.report import html as report_html

    def image(html: str) -> Image.Image:
        data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
        return Image.open(io.BytesIO(base64.b64decode(data)))

    def chart():
        return viz.ranking_bars(hyte_frame(), highlight="Tornio", mean=True, unit="€",
                                source=HYTE_SOURCE)

    caption = "Lähde: THL, Sotkanet 5574 (2022). Aineiston päiväys 1.2.2024."
    page = report_html.figure_html(chart(), alt="HYTE-kerroin", caption=caption)
    assert f'<figcaption class="uso-source">{caption}</figcaption>' in page
    shown = image(page)
    alone = Image.open(io.BytesIO(base64.b64decode(
        report_html.png_data_uri(chart()).split(",", 1)[1])))
    assert shown.width == alone.width and alone.height - shown.height >= 10
    assert shown.info["Source"] == alone.info["Source"] == f"Lähde: {HYTE_SOURCE}"

    def blank(img: Image.Image, rows: range) -> bool:
        grey = img.convert("L")
        return all(grey.getpixel((x, y)) >= 250 for y in rows for x in range(img.width))

    # the standalone image has the source text at the bottom; the page's image ends in margin
    assert not blank(alone, range(alone.height - 20, alone.height - 6))
    assert blank(shown, range(shown.height - 6, shown.height))
    # the background is the page's white, not the palette's near-white (no faint frame)
    assert shown.convert("RGB").getpixel((2, 2)) == (255, 255, 255)
    # metadata given for the PNG replaces the chart's own; the pixels still leave the source
    # line to the caption
    given = image(report_html.figure_html(chart(), alt="HYTE-kerroin", caption=caption,
                                          source=caption))
    assert given.size == shown.size and given.info["Source"] == caption


def test_projection_shading_survives_the_report_palette():
    # the report's 48-colour PNG once merged a #f2f2f2 projection period with the white page
    import io

    from PIL import Image

    from uso_lib.report import html as report_html

    history = pd.Series({2015: 6548.0, 2019: 6116.0, 2023: 5734.0})
    forecast = pd.Series({2024: 5650.0, 2030: 5100.0, 2040: 4400.0})
    fig = viz.projection(history, forecast, source="Tilastokeskus, StatFin 11re, 14wx")
    fig.set_dpi(report_html.PNG_DPI)
    fig.canvas.draw()
    ax = fig.axes[0]
    x, _ = ax.transData.transform((2035, 0))
    _, y = ax.transAxes.transform((0, 0.95))  # near the top: shading only, no line
    height = fig.canvas.get_width_height()[1]
    png = report_html.png_data_uri(fig).split(",", 1)[1]
    img = Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB")
    assert img.getpixel((2, 2)) == (255, 255, 255)
    shade = img.getpixel((int(x), int(height - y)))
    assert shade != (255, 255, 255)
    assert all(abs(a - round(b * 255)) <= 3 for a, b in zip(shade, mpl.colors.to_rgb(st.SHADE),
                                                             strict=True)), shade
