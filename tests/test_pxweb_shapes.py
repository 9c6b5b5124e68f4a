"""Contract tests on the real services' shapes (#14 items 2 and 3).

Metadata comes from real recorded answers (tests/fixtures/pxweb/, each naming its repository,
path and commit): the Kuntien avainluvut time series with its 575 region values in 16 classes,
M-codes and English texts; the monthly tyonv layout (``Alue``, ``timeperiod_m``); 11yq's
quarters (``Vuosineljännes``) with Kangasala's recorded business stock; 11ae's ``muutl-``
prefixed content codes. The monthly figures are the recorded 12r5 unemployment rates in
../shared/data/raw/recent (Juva 2024M12 = 9.3 %).

No recording of the 2024 key figures exists offline, so the stand-in gives every cell of its
key-figure answer its own value, computed from the cell's position in the real metadata
(region, item, year): a figure stored for the wrong municipality, item or year cannot equal
the expected one.
"""

from __future__ import annotations

import httpfake
import pandas as pd
import pxweb_fake
import pytest
from conftest import write_catalog

from uso_lib import catalog, refresh
from uso_lib.cli import main
from uso_lib.sources import pxweb
from uso_lib.sources.pxweb.meta import parse_metadata
from uso_lib.store import Store

KEY_TABLE = "Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja.px"
# the shipped catalogue's entries this test relies on (their live.content codes)
KEY_ITEMS = {"tyopaikat": "M152", "tyottomyysaste": "M162", "tutkinto_osuus": "M488",
             "korkea_aste_osuus": "M486", "tyopaikkaomavaraisuus": "M151"}
TOWNS = {"178": "KU178", "851": "KU851", "091": "KU091"}  # Juva, Tornio, Helsinki
FAST = {"sleep": lambda s: None, "backoff": 0.0}


@pytest.fixture(scope="module")
def key_meta() -> dict:
    return pxweb_fake.metadata(pxweb_fake.fixture("kuntien_avainluvut_aikasarja.meta.json"))


def key_value(meta: dict):
    """Each cell's own value (0-58, unique per region, item and year): position-coded."""
    pos = {v["code"]: {c: i for i, c in enumerate(v["values"])} for v in meta["variables"]}

    def value(cell: pxweb_fake.Cell) -> float:
        return (pos["Alue"][cell["Alue"]] * 100_000 + pos["Tiedot"][cell["Tiedot"]] * 1000
                + pos["Vuosi"][cell["Vuosi"]]) / 1e6
    return value


def test_real_key_figure_metadata_is_understood(key_meta):
    meta = parse_metadata(key_meta, "Kuntien_avainluvut", "uusin/kuntien_avainluvut_aikasarja",
                          what="test")
    alue = meta.find("Alue")
    assert len(alue.values) == 575
    kus = [v for v in alue.values if v.startswith("KU")]
    assert len(kus) == 308 and len(kus) / len(alue.values) < 0.6  # not a majority class
    assert meta.region is alue and meta.time.code == "Vuosi" and meta.content.code == "Tiedot"
    assert meta.content.label("M152") == "Jobs in the area"
    assert meta.division is None  # "Alue" carries no classification date
    stored = {v: pxweb.store_code(v) for v in alue.values}
    assert stored["SSS"] == "SSS" and stored["KU178"] == "178"
    assert stored["MK10"] == "MK10" and stored["HVA90"] == "HVA90" and stored["SK105"] == "SK105"
    assert stored["ELY07"] is None and stored["TA23"] is None and stored["FI1DA"] is None


def test_refresh_stores_the_served_2024_key_figures_exactly(key_meta, monkeypatch, capsys):
    """#14 "Must show": the shipped catalogue's entries against a stand-in answering like the
    real Kuntien avainluvut table store the served 2024 figures for Juva, Tornio and Helsinki,
    each under the right municipality and year."""
    value = key_value(key_meta)
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, KEY_TABLE, key_meta, value)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        rc = main(["data", "refresh", "--indicators", ",".join(KEY_ITEMS)])
        out, err = capsys.readouterr()
        [post] = srv.calls("POST", path)  # one query for the five items and every region
    assert rc == 0 and "Traceback" not in err, out + err
    sent = pxweb_fake.selection_of(post)
    assert sorted(sent["Tiedot"]) == sorted(KEY_ITEMS.values())
    assert sent["Vuosi"][0] == "1987" and sent["Vuosi"][-1] == "2024"
    asked = set(sent["Alue"])
    assert {"SSS", "KU178", "KU851", "KU091", "MK10", "HVA90", "SK192"} <= asked
    assert len([a for a in asked if a.startswith("KU")]) == 308
    assert not asked & {"ELY07", "AVI3", "TA01", "VP01", "FI1", "MA1", "SA1"}
    st = Store("local")
    for ind, item in KEY_ITEMS.items():
        for code, ku in TOWNS.items():
            got = st.get(ind, code, 2024)
            assert got.value == value({"Alue": ku, "Tiedot": item, "Vuosi": "2024"}), (ind, ku)
            assert got.year == 2024 and got.origin == "live"
            assert got.table == "kuntien_avainluvut_aikasarja"
        assert st.get(ind, "178", 2019).value == value({"Alue": "KU178", "Tiedot": item,
                                                        "Vuosi": "2019"})
    # the country and the regional aggregates are kept under their own codes
    for region in ("SSS", "MK10", "HVA12", "SK105"):
        assert st.get("tyottomyysaste", region, 2024).value == value(
            {"Alue": region, "Tiedot": "M162", "Vuosi": "2024"})
    rows = st.series("tyottomyysaste")
    assert not rows["kunta"].str.startswith(("ELY", "AVI", "TA", "FI")).any()


def test_content_code_first_label_as_a_reported_fallback(key_meta, tmp_path, monkeypatch):
    """A stale code with the real English label finds M152 and the summary says so; a code
    that matches wins over a label that would not."""
    value = key_value(key_meta)
    cat = write_catalog(tmp_path, [
        {"id": "jobs_stale", "theme": "elinvoima", "row": "1", "label": "Työpaikat",
         "unit": "työpaikkaa", "kind": "count",
         "live": {"source": "pxweb", "database": "Kuntien_avainluvut",
                  "table": "uusin/kuntien_avainluvut_aikasarja", "content": "M999",
                  "content_label": "Jobs in the area"}},
        {"id": "jobs_code", "theme": "elinvoima", "row": "2", "label": "Työpaikat",
         "unit": "työpaikkaa", "kind": "count",
         "live": {"source": "pxweb", "database": "Kuntien_avainluvut",
                  "table": "uusin/kuntien_avainluvut_aikasarja", "content": "m152",
                  "content_label": "no such label"}}])
    with httpfake.FakeServer() as srv:
        pxweb_fake.serve(srv, KEY_TABLE, key_meta, value)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        report = refresh.refresh(cat=cat, **FAST)
    by = {r.indicator: r for r in report.results}
    assert by["jobs_stale"].origin == "live" and by["jobs_code"].origin == "live"
    assert any("content code M999 is not in the table" in n and "'Jobs in the area' found M152"
               in n for n in by["jobs_stale"].notes), by["jobs_stale"].notes
    assert not any("label" in n for n in by["jobs_code"].notes)
    st = Store("local")
    expected = value({"Alue": "KU851", "Tiedot": "M152", "Vuosi": "2024"})
    assert st.get("jobs_stale", "851", 2024).value == expected
    assert st.get("jobs_code", "851", 2024).value == expected


# -- monthly: the tyonv layout after June 2026, the recorded 12r5 rates ------------------------

MONTHLY_TABLE = "StatFin/tyonv/12tf.px"


@pytest.fixture(scope="module")
def rates(raw_dir) -> pd.DataFrame:
    return pd.read_csv(raw_dir / "recent/statfin_tyonv_pxt_12r5_map.derived.csv", dtype=str)


def monthly_meta(rates: pd.DataFrame) -> dict:
    layout = pxweb_fake.fixture("tyonv_monthly.layout.json")
    alue, time, content = layout["variables"]
    months = sorted(rates["Kuukausi"].unique())
    areas = ["SSS", *sorted(rates["Alue"].unique())]
    [(code, text)] = layout["contents"].items()
    return {"title": "12tf stand-in", "variables": [
        {"code": alue["code"], "text": "Alue", "values": areas, "valueTexts": areas,
         "elimination": alue["elimination"]},
        {"code": time["code"], "text": "Kuukausi", "values": months, "valueTexts": months,
         "time": True},
        {"code": content["code"], "text": "Tiedot", "values": [code], "valueTexts": [text]}]}


def _period_catalog(tmp_path, live: dict, periods: dict, *, label: str, unit: str,
                    kind: str):
    """A catalogue of one live series read under several period rules (id -> rule; None:
    the catalogue names no rule)."""
    return write_catalog(tmp_path, [
        {"id": ind_id, "theme": "elinvoima", "row": str(i), "label": label, "unit": unit,
         "kind": kind, "live": live if rule is None else {**live, "period": rule}}
        for i, (ind_id, rule) in enumerate(periods.items(), start=1)])


def test_monthly_table_by_december_and_by_annual_mean(rates, tmp_path, monkeypatch):
    figures = {(r.Alue, r.Kuukausi): float(r.TYOTOSUUS) for r in rates.itertuples()}
    live = {"source": "pxweb", "database": "StatFin", "table": "tyonv/12tf",
            "content": "TYOTOSUUS"}
    cat = _period_catalog(tmp_path, live, {"rate_dec": "december", "rate_mean": "mean",
                                           "rate_none": None},
                          label="Työttömyysaste", unit="%", kind="rate")
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, MONTHLY_TABLE, monthly_meta(rates),
                                lambda c: figures.get((c["Alue"], c["timeperiod_m"])))
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        report = refresh.refresh(cat=cat, **FAST)
        [post] = srv.calls("POST", path)
    by = {r.indicator: r for r in report.results}
    assert by["rate_none"].origin == "failed"
    assert "the table is monthly" in by["rate_none"].error
    assert "live.period: december or mean" in by["rate_none"].error
    assert len(pxweb_fake.selection_of(post)["timeperiod_m"]) == rates["Kuukausi"].nunique()
    st = Store("local")
    assert st.get("rate_dec", "178", 2024).value == 9.3  # Juva 2024M12, as recorded
    juva = rates[(rates["Alue"] == "KU178") & rates["Kuukausi"].str.startswith("2024")]
    assert len(juva) == 12
    mean = st.get("rate_mean", "178", 2024).value
    assert mean == pytest.approx(juva["TYOTOSUUS"].astype(float).mean(), abs=1e-12)
    assert round(mean, 4) == 8.3167  # (9.6 + 9.5 + ... + 9.3) / 12, as recorded
    # 2025 has January only: no year's figure is made of it
    assert by["rate_dec"].years[-1] == 2024 and by["rate_mean"].years[-1] == 2024
    assert any("2025 is not stored yet: no December figure (latest period 2025M01)" in n
               for n in by["rate_dec"].notes), by["rate_dec"].notes
    assert any("2025 is not stored yet: not all 12 months published" in n
               for n in by["rate_mean"].notes)


def test_only_the_december_months_are_asked_for(rates, tmp_path, monkeypatch):
    figures = {(r.Alue, r.Kuukausi): float(r.TYOTOSUUS) for r in rates.itertuples()}
    cat = write_catalog(tmp_path, [
        {"id": "rate_dec", "theme": "elinvoima", "row": "1", "label": "Työttömyysaste",
         "unit": "%", "kind": "rate",
         "live": {"source": "pxweb", "database": "StatFin", "table": "tyonv/12tf",
                  "content": "TYOTOSUUS", "period": "december"}}])
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, MONTHLY_TABLE, monthly_meta(rates),
                                lambda c: figures.get((c["Alue"], c["timeperiod_m"])))
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        [res] = refresh.refresh(cat=cat, **FAST).results
        [post] = srv.calls("POST", path)
    months = pxweb_fake.selection_of(post)["timeperiod_m"]
    assert months == [f"{y}M12" for y in range(2007, 2025)]
    assert res.years == list(range(2007, 2025))


# -- quarterly: 11yq, Kangasala's recorded business stock ------------------------------------

QUARTER_TABLE = "StatFin/aly/statfin_aly_pxt_11yq.px"


def test_quarterly_table_by_fourth_quarter_and_mean(tmp_path, monkeypatch):
    rec = pxweb_fake.fixture("aly_11yq_kangasala.json")
    stock = dict(zip(rec["quarters"], rec["yrityskanta"], strict=True))
    time_var, region_var, industry_var, content_var = rec["variables"]
    meta = {"title": "11yq stand-in", "variables": [  # no time flag: found by its name
        {"code": time_var, "text": time_var, "values": rec["quarters"],
         "valueTexts": rec["quarters"]},
        {"code": region_var, "text": region_var, "values": ["SSS", rec["region"]],
         "valueTexts": ["KOKO MAA", "Kangasala"]},
        {"code": industry_var, "text": industry_var, "values": [rec["industry"], "A"],
         "valueTexts": ["Kaikki toimialat", "A"]},
        {"code": content_var, "text": content_var, "values": [rec["content"]],
         "valueTexts": [rec["content"]]}]}
    live = {"source": "pxweb", "database": "StatFin", "table": "aly/statfin_aly_pxt_11yq",
            "content": "yrityskanta"}
    cat = _period_catalog(tmp_path, live, {"firms_q4": "q4", "firms_mean": "mean",
                                           "firms_dec": "december"},
                          label="Yrityskanta", unit="yritystä", kind="count")

    def value(cell):
        return stock[cell[time_var]] if cell[region_var] == rec["region"] else None

    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, QUARTER_TABLE, meta, value)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        report = refresh.refresh(cat=cat, **FAST)
        [post] = srv.calls("POST", path)
    by = {r.indicator: r for r in report.results}
    assert by["firms_dec"].origin == "failed" and "the table is quarterly" in by["firms_dec"].error
    assert "live.period: mean or q4" in by["firms_dec"].error
    assert pxweb_fake.selection_of(post)[industry_var] == ["SSS"]  # the total, not "A"
    st = Store("local")
    assert st.get("firms_q4", "211", 2023).value == 2589  # Kangasala 2023Q4, as recorded
    assert st.get("firms_mean", "211", 2023).value == (2558 + 2550 + 2571 + 2589) / 4
    # 2017Q2-Q4 are '..' in the recording: the year stays missing with the symbol, never 0
    q4 = st.series("firms_q4", "211").set_index("year")
    assert pd.isna(q4.loc[2017, "value"]) and q4.loc[2017, "status"] == ".."
    assert 2024 not in q4.index  # only 2024Q1-Q3 were published
    assert any("2024 is not stored yet: no fourth-quarter figure (latest period 2024Q3)" in n
               for n in by["firms_q4"].notes)


# -- 11ae: content codes with the muutl- prefix ----------------------------------------------

def test_prefixed_content_codes_of_11ae(tmp_path, monkeypatch):
    layout = pxweb_fake.fixture("muutl_11ae.layout.json")
    codes = layout["contents"]
    years = ["2023", "2024", "2025"]
    meta = {"title": "11ae stand-in", "variables": [
        {"code": "timeperiod_y", "text": "Vuosi", "values": years, "valueTexts": years,
         "time": True},
        {"code": "alue_23_20260101", "text": "Alue", "values": ["SSS", "KU178", "KU091"],
         "valueTexts": ["KOKO MAA", "Juva", "Helsinki"], "elimination": True},
        {"code": "contentscode", "text": "Tiedot", "values": codes, "valueTexts": codes}]}

    def value(cell):
        return (["SSS", "KU178", "KU091"].index(cell["alue_23_20260101"]) * 100
                + codes.index(cell["contentscode"]) * 10 + years.index(cell["timeperiod_y"]))

    live = {"source": "pxweb", "database": "StatFin", "table": "muutl/11ae", "period": "year"}
    cat = write_catalog(tmp_path, [
        {"id": "net_bare", "theme": "vaestokehitys", "row": "1", "label": "Nettomuutto",
         "unit": "henkeä", "kind": "count", "bounds": [-1000000, 1000000],
         "live": {**live, "content": "vm43_netto"}},
        {"id": "imm_prefixed", "theme": "vaestokehitys", "row": "2", "label": "Nettomaahanm.",
         "unit": "henkeä", "kind": "count", "bounds": [-1000000, 1000000],
         "live": {**live, "content": "muutl-vm4142"}}])
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, "StatFin/muutl/11ae.px", meta, value)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        report = refresh.refresh(cat=cat, **FAST)
        [post] = srv.calls("POST", path)
    by = {r.indicator: r for r in report.results}
    assert sorted(pxweb_fake.selection_of(post)["contentscode"]) == sorted(codes)
    assert any("content code vm43_netto is served as muutl-vm43_netto" in n
               for n in by["net_bare"].notes)
    assert not any("served as" in n for n in by["imm_prefixed"].notes)
    st = Store("local")
    assert st.get("net_bare", "178", 2024).value == 100 + codes.index("muutl-vm43_netto") * 10 + 1
    assert st.get("imm_prefixed", "091", 2025).value == 200 + codes.index("muutl-vm4142") * 10 + 2
    assert st.get("net_bare", "SSS", 2023).value == codes.index("muutl-vm43_netto") * 10
    assert catalog.catalog().get("nettomuutto").live.content == "muutl-vm43_netto"


def test_older_release_with_bare_codes_and_ages_beside_it(key_meta):
    """Older releases had bare codes ("020") under "Alue 2020"; ages 000-099 look alike but
    only a third of them are municipality codes, so they are never taken for regions."""
    alue, tiedot, vuosi = key_meta["variables"]
    bare = [v.removeprefix("KU") for v in alue["values"]]
    ages = ["SSS", *(f"{a:03d}" for a in range(100)), "100-"]
    doc = {"title": "old", "variables": [
        {"code": "Ikä", "text": "Ikä", "values": ages, "valueTexts": ages},
        {**alue, "code": "Alue 2020", "text": "Alue 2020", "values": bare},
        tiedot, {**vuosi, "time": False}]}
    meta = parse_metadata(doc, "Kuntien_avainluvut", "2021/old", what="test")
    assert meta.region.code == "Alue 2020"
    assert meta.time.code == "Vuosi"  # by its name, without the flag
    assert pxweb.store_code("020") == "020" and pxweb.store_code("MK10") == "MK10"
    only_ages = parse_metadata({"variables": [doc["variables"][0], vuosi]}, "x", "y",
                               what="test")
    assert only_ages.region is None


@pytest.mark.parametrize(("code", "values", "kind"), [
    ("timeperiod_q", ["2024Q1", "2024Q2"], "quarter"),
    ("Kuukausi", ["2024M11", "2024M12"], "month"),
    ("Aika", ["2023", "2024"], "year"),  # neither flag nor name: its values are periods
])
def test_time_variable_found_whatever_its_code(code, values, kind):
    doc = {"variables": [
        {"code": "Alue", "values": ["SSS", "KU178"], "valueTexts": ["KOKO MAA", "Juva"]},
        {"code": code, "values": values, "valueTexts": values}]}
    meta = parse_metadata(doc, "StatFin", "t", what="test")
    assert meta.time.code == code
    assert {pxweb.parse_period(v).kind for v in values} == {kind}
    assert pxweb.parse_period("2024M13") is None and pxweb.parse_period("2024Q5") is None


def test_every_shipped_key_figure_entry_resolves_against_the_real_metadata(key_meta):
    """The catalogue's Kuntien avainluvut entries name codes the real table has (by code, not
    by label or prefix), annual, one query for all of them (sent in three parts)."""
    entries = [i for i in catalog.catalog().indicators
               if i.live and i.live.source == "pxweb" and i.live.database == "Kuntien_avainluvut"]
    assert len(entries) >= 15
    [group] = pxweb.group_indicators(entries)
    meta = parse_metadata(key_meta, group.database, group.table, what="test")
    resolved = pxweb.resolve(meta, group)
    assert resolved.failed == {}
    assert {m.how for m in resolved.matches.values()} == {"code"}
    assert resolved.content_of == {i.id: i.live.content for i in entries}
    assert set(resolved.rules.values()) == {"year"}
    parts = pxweb.split_selection(resolved.query.selection, 120_000)  # the documented limit
    assert len(parts) == 3 and all(pxweb.cells(p) <= 120_000 for p in parts)
    assert sum(pxweb.cells(p) for p in parts) == resolved.query.cells
