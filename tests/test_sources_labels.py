"""Key figures (Kuntien avainluvut) refreshed without known codes: content codes found by their
published Finnish labels, the time-series table found with the database's search, and the
catalogue's labels checked against the published file.

The local server's table is built from the real 2022 time series
(recent/Kuntien_avainluvut_20221108-aikasarja.csv: Juva's unemployment rate 2020 = 11.1 %,
workplace self-sufficiency 85.2); only its content codes are opaque stand-ins (M408, ...), as
the real codes are unknown offline -- which is the point of matching by label.
"""

from __future__ import annotations

import httpfake
import pandas as pd
import pytest
from conftest import write_catalog
from test_sources_pxweb import BASE, LIMITS, answer_from, make_px, metadata_of

from uso_lib import catalog, refresh
from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources import pxweb

SERIES = "recent/Kuntien_avainluvut_20221108-aikasarja.csv"
DB = f"{BASE}/Kuntien_avainluvut"
CHOSEN = f"{DB}/uusin/kuntien_avainluvut_aikasarja.px"
AREAS = {"Juva": "KU178", "Helsinki": "KU091", "Espoo": "KU049"}
YEARS = ["2019", "2020"]
# opaque codes standing in for the unknown real ones; the labels are the published ones
ITEMS = {"M411": "Väkiluku", "M408": "Työttömien osuus työvoimasta, %",
         "M409": "Työpaikkaomavaraisuus", "M410": "Työllisyysaste, %",
         "M412": "Taloudellinen huoltosuhde"}
# a database search answering "aikasarja": an older release, the current one, and a newer
# table that the search also returned but whose names lack the query word
HITS = [
    {"id": "kuntien_avainluvut_2021_aikasarja.px", "path": "/2021",
     "title": "Kuntien avainluvut 1987-2021, aikasarja", "score": 0.9,
     "published": "2021-11-05T08:00:00"},
    {"id": "kuntien_avainluvut_aikasarja.px", "path": "/uusin",
     "title": "Kuntien avainluvut 1987-2024, aikasarja", "score": 0.8,
     "published": "2025-10-31T08:00:00"},
    {"id": "kuntien_avainluvut_viimeisin.px", "path": "/uusin",
     "title": "Kuntien avainluvut, uusimmat tiedot", "score": 1.0,
     "published": "2025-11-07T08:00:00"},
]


@pytest.fixture(scope="module")
def series(raw_dir) -> pd.DataFrame:
    return pd.read_csv(raw_dir / SERIES, sep="\t", dtype=str, keep_default_na=False)


def published(series: pd.DataFrame, area: str, item: str, year: str) -> float:
    return float(series.loc[(series["Alue 2021"] == area) & (series["Tiedot"] == item),
                            year].iloc[0])


@pytest.fixture
def doc(series) -> dict:
    """A json-stat2 answer of the key-figure series for three municipalities, 2019-2020."""
    values = []
    for area in AREAS:  # row-major: Alue, Tiedot, Vuosi
        for label in ITEMS.values():
            for year in YEARS:
                values.append(published(series, area, label, year))
    dim = {
        "Alue": {"label": "Alue", "category": {
            "index": {c: i for i, c in enumerate(AREAS.values())},
            "label": {c: n for n, c in AREAS.items()}}},
        "Tiedot": {"label": "Tiedot", "category": {
            "index": {c: i for i, c in enumerate(ITEMS)}, "label": dict(ITEMS)}},
        "Vuosi": {"label": "Vuosi", "category": {
            "index": {y: i for i, y in enumerate(YEARS)}, "label": {y: y for y in YEARS}}},
    }
    return {"version": "2.0", "class": "dataset", "label": "Kuntien avainluvut",
            "source": "Tilastokeskus", "updated": "2025-10-31T05:00:00Z",
            "id": ["Alue", "Tiedot", "Vuosi"], "size": [len(AREAS), len(ITEMS), len(YEARS)],
            "dimension": dim, "role": {"time": ["Vuosi"], "geo": ["Alue"]}, "value": values}


@pytest.fixture
def server(monkeypatch):
    with httpfake.FakeServer() as srv:
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + BASE)
        yield srv


def serve(srv, doc: dict, *, hits=HITS, meta: dict | None = None) -> None:
    srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
    srv.route("GET", DB, httpfake.Reply(json=hits))
    srv.route("GET", CHOSEN, httpfake.Reply(json=meta or metadata_of(doc)))
    srv.route("POST", CHOSEN, answer_from(doc))


def keyfigure(ind_id: str = "bad_label", label: str = "", **live) -> Indicator:
    return Indicator.model_validate({
        "id": ind_id, "theme": "elinvoima", "row": "7", "label": ind_id, "unit": "%",
        "kind": "rate",
        "live": {"source": "pxweb", "database": "Kuntien_avainluvut",
                 "table": "kuntien_avainluvut_aikasarja", "table_query": "aikasarja",
                 "content_label": label, **live}})


def sent(post: httpfake.Recorded) -> dict[str, list[str]]:
    return {q["code"]: q["selection"]["values"] for q in post.json["query"]}


# The real catalogue names the key figures by their M-codes since the 2025 metadata was found
# (tests/test_catalog.py); these entries keep the label route, for tables known by label only.
UNEMPLOYMENT = ("tyottomyysaste", "Työttömien osuus työvoimasta, %")
SELF_SUFFICIENCY = ("tyopaikkaomavaraisuus", "Työpaikkaomavaraisuus")


def test_unemployment_rate_resolved_by_its_published_label(server, doc, series):
    serve(server, doc)
    ind = keyfigure(*UNEMPLOYMENT)  # no content code, only the published label
    assert ind.live.content is None
    [res] = pxweb.fetch(make_px(server), [ind])
    assert res.origin == "live", res.error
    [post] = server.calls("POST", CHOSEN)
    assert sent(post)["Tiedot"] == ["M408"]
    rows = res.frame.set_index(["kunta", "year"])
    assert rows.loc[("178", 2020), "value"] == 11.1  # Juva, as published
    assert rows.loc[("091", 2019), "value"] == published(
        series, "Helsinki", "Työttömien osuus työvoimasta, %", "2019")
    assert rows.loc[("178", 2020), "table"] == "kuntien_avainluvut_aikasarja"
    assert rows.loc[("178", 2020), "source"] == ("Tilastokeskus, Kuntien_avainluvut "
                                                 "kuntien_avainluvut_aikasarja")
    assert any("'Työttömien osuus työvoimasta, %' resolved to code M408" in n
               for n in res.notes), res.notes


def test_labels_match_ignoring_case_spaces_and_a_trailing_year(server, doc):
    meta = metadata_of(doc)
    tiedot = next(v for v in meta["variables"] if v["code"] == "Tiedot")
    tiedot["valueTexts"] = ["VÄKILUKU, 2021", "työttömien  osuus työvoimasta ,%, 2020",
                            "Työpaikka omavaraisuus", "Työllisyysaste, %",
                            "Taloudellinen huoltosuhde"]
    serve(server, doc, meta=meta)
    px = make_px(server)
    inds = [keyfigure("vaki", "Väkiluku"), keyfigure("tyott", "Työttömien osuus työvoimasta, %"),
            keyfigure("omav", "Työpaikkaomavaraisuus")]
    [group] = pxweb.group_indicators(inds)
    group, _ = pxweb.locate(px, group)
    resolved = pxweb.resolve(px.metadata(group.database, group.table), group)
    assert resolved.content_of == {"vaki": "M411", "tyott": "M408", "omav": "M409"}
    assert resolved.by_label == resolved.content_of
    # a year is ignored only at the end, after a comma: "15-64" is part of a label
    assert pxweb.label_key("15-64 -vuotiaiden osuus väestöstä, %, 2021") == \
        pxweb.label_key("15-64 -vuotiaiden osuus  väestöstä, %")
    assert pxweb.label_key("Väkiluku 2021") != pxweb.label_key("Väkiluku")


def test_label_not_in_the_table_lists_the_closest_labels(server, doc):
    serve(server, doc)
    px = make_px(server)
    bad = keyfigure("bad_label", "Työttömien osuus työvoimasta (työssäkäyntitilasto), %")
    [group] = pxweb.group_indicators([bad])
    meta = px.metadata("Kuntien_avainluvut", "uusin/kuntien_avainluvut_aikasarja")
    with pytest.raises(SourceError) as info:
        pxweb.resolve(meta, group)
    msg = info.value.message
    assert "no Tiedot value is labelled" in msg and "bad_label" in msg
    closest = msg.split("Closest labels of the table:")[1]
    assert closest.strip().startswith("'Työttömien osuus työvoimasta, %' (M408)")
    assert "content_label" in info.value.hint
    # alone it stops the table (nothing to ask); beside a good label it fails by itself
    [res] = pxweb.fetch(px, [bad])
    assert res.origin == "failed" and "(M408)" in res.error
    assert not server.calls("POST")
    good = keyfigure(*SELF_SUFFICIENCY)
    by = {r.indicator: r for r in pxweb.fetch(px, [bad, good])}
    assert by["bad_label"].origin == "failed" and "Closest labels" in by["bad_label"].error
    assert by["tyopaikkaomavaraisuus"].origin == "live"
    [post] = server.calls("POST", CHOSEN)
    assert sent(post)["Tiedot"] == ["M409"]
    juva = by["tyopaikkaomavaraisuus"].frame.set_index(["kunta", "year"]).loc[("178", 2020)]
    assert juva["value"] == 85.2


def test_table_search_chooses_the_newest_named_table_and_the_query_goes_there(server, doc):
    serve(server, doc)
    px = make_px(server)
    inds = [keyfigure(*UNEMPLOYMENT), keyfigure(*SELF_SUFFICIENCY)]
    results = pxweb.fetch(px, inds)
    assert [r.origin for r in results] == ["live", "live"], [r.error for r in results]
    [search] = server.calls("GET", DB)
    assert search.params == {"query": ["aikasarja"]}
    # the newer "viimeisin" hit lacks the query word; the 2021 release is older
    [post] = server.calls("POST")
    assert post.path == CHOSEN
    assert sorted(sent(post)["Tiedot"]) == ["M408", "M409"]  # one query for both items
    assert results[0].source == "pxweb Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja"
    note = next(n for n in results[0].notes if "search" in n)
    assert "chose table uusin/kuntien_avainluvut_aikasarja" in note
    assert "published 2025-10-31" in note and "of 2 match(es)" in note
    # the dry run plans the same table and says how it was found
    [planned] = pxweb.plan(make_px(server), inds)
    assert planned.url.endswith("/Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja.px")
    assert "chose table" in planned.note and "tyottomyysaste=M408" in planned.note


def test_refresh_summary_names_table_and_codes(server, doc, tmp_path, monkeypatch):
    serve(server, doc)
    ratio = {"unit": "", "kind": "ratio"}  # jobs per 100 employed residents: Helsinki 128.7
    cat = write_catalog(tmp_path, [
        keyfigure(*UNEMPLOYMENT).model_dump(exclude_defaults=True),
        {**keyfigure(*SELF_SUFFICIENCY).model_dump(exclude_defaults=True), **ratio}])
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    report = refresh.refresh(["tyottomyysaste", "tyopaikkaomavaraisuus"],
                             sleep=lambda s: None, backoff=0.0)
    by = {r.indicator: r for r in report.results}
    assert by["tyottomyysaste"].years == [2019, 2020]
    notes = [n for r in report.results for n in r.notes]
    assert any("resolved to code M409" in n for n in notes)
    assert any("chose table uusin/kuntien_avainluvut_aikasarja" in n for n in notes)
    assert sorted(p.name for p in report.written) == ["live-tyopaikkaomavaraisuus.parquet",
                                                       "live-tyottomyysaste.parquet"]


def test_search_without_hits_falls_back_to_the_catalogue_table(server, doc):
    serve(server, doc, hits=[])
    fallback = f"{DB}/kuntien_avainluvut_aikasarja.px"
    server.route("GET", fallback, httpfake.Reply(json=metadata_of(doc)))
    server.route("POST", fallback, answer_from(doc))
    [res] = pxweb.fetch(make_px(server), [keyfigure(*UNEMPLOYMENT)])
    assert res.origin == "live", res.error
    assert [p.path for p in server.calls("POST")] == [fallback]
    assert any("found no table" in n and "trying the catalogue's table" in n
               for n in res.notes)
    # without a table of its own the indicator fails, naming the search
    [res] = pxweb.fetch(make_px(server), [keyfigure("x", "Väkiluku", table=None)])
    assert res.origin == "failed" and "found no table" in res.error


def test_confirmed_table_is_not_searched(server, doc):
    serve(server, doc)
    ind = keyfigure("tyott", "Työttömien osuus työvoimasta, %",
                    table="uusin/kuntien_avainluvut_aikasarja", confirmed=True,
                    evidence="tuopouk/key_figures_in_finland assets/municipality_meta.json")
    [res] = pxweb.fetch(make_px(server), [ind])
    assert res.origin == "live", res.error
    assert not server.calls("GET", DB)
