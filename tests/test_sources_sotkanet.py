"""Sotkanet loader: the recorded CSV data (indicator 127, 2009) mapped through the recorded
region list, the code-width check, repeated ``years=``, and the all-genders fallback."""

from __future__ import annotations

import json

import httpfake
import pytest

from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources import sotkanet
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter

EX = "other/sotkanet_api_examples"


@pytest.fixture
def regions(raw_dir) -> list[dict]:
    return json.loads((raw_dir / EX / "SotkaRegions.json").read_text(encoding="utf-8"))


@pytest.fixture
def csv_text(raw_dir) -> str:
    return (raw_dir / EX / "SotkaIndicatorData.csv").read_text(encoding="utf-8")


def indicator(**live) -> Indicator:
    return Indicator.model_validate({
        "id": "vaesto_sotkanet", "theme": "vaestokehitys", "row": "1", "label": "Väestö 31.12.",
        "unit": "henkeä", "kind": "count",
        "live": {"source": "sotkanet", "indicator": 127, **live}})


def test_recorded_csv_mapped_through_regions(csv_text, regions):
    df = sotkanet.parse_csv(csv_text)
    assert len(df) == 466
    codes, notes = sotkanet.region_codes(regions)
    assert codes[69] == "151" and codes[658] == "SSS" and not notes
    rows, map_notes = sotkanet.store_rows(df, codes, indicator(), origin="live",
                                          retrieved="2026-07-01", vintage="")
    rows = rows.set_index("kunta")
    assert rows.loc["151", "value"] == 2406.0 and rows.loc["151", "year"] == 2009  # Isojoki
    assert rows.loc["SSS", "value"] == 5351427.0
    assert rows.loc["151", "table"] == "Sotkanet 127"
    assert rows.loc["151", "source"] == "THL Sotkanet"
    # 2009 was in an older division: merged municipalities' counts are summed, not dropped
    assert rows.index.is_unique
    assert any("summed" in n for n in map_notes)


def test_municipality_codes_must_be_three_characters(regions):
    regions = json.loads(json.dumps(regions))
    isojoki = next(r for r in regions if r["id"] == 69)
    isojoki["code"] = "15"  # a code that lost a digit must not become another municipality
    codes, notes = sotkanet.region_codes(regions)
    assert 69 not in codes
    assert notes and "69:'15'" in notes[0]
    # maakunta codes (two digits) never enter the municipality map
    assert all(len(c) == 3 for c in codes.values())


@pytest.fixture
def server():
    with httpfake.FakeServer() as srv:
        yield srv


def serve(srv, regions, csv_text, *, total_empty: bool):
    rows = [{"indicator": r.indicator, "region": r.region, "year": r.year, "gender": r.gender,
             "value": r.value, "absValue": None}
            for r in sotkanet.parse_csv(csv_text).itertuples()]
    srv.route("GET", "/rest/1.1/regions", httpfake.Reply(json=regions))
    srv.route("GET", "/rest/1.1/indicators/127", httpfake.Reply(json={
        "id": 127, "range": {"start": 2009, "end": 2009},
        "title": {"fi": "Väestö 31.12."}}))

    def data(rec):
        if rec.params.get("genders") == ["total"] and total_empty:
            return httpfake.Reply(json=[])
        return httpfake.Reply(json=rows)
    srv.route("GET", "/rest/1.1/json", data)


def make(srv) -> sotkanet.Sotkanet:
    return sotkanet.Sotkanet.create(HttpClient(
        "Sotkanet", srv.url + "/rest/1.1", sleep=lambda s: None, backoff=0,
        limiter=RateLimiter(100, 1), cache=HttpCache()))


def test_fetch_repeats_years_and_sends_uso_user_agent(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=False)
    sk = make(server)
    assert sk.data_params(127, [2019, 2020], "total") == [
        ("indicator", "127"), ("years", "2019"), ("years", "2020"), ("genders", "total")]
    [res] = sotkanet.fetch(sk, [indicator()])
    assert res.origin == "live", res.error
    [data] = server.calls("GET", "/rest/1.1/json")
    assert data.params == {"indicator": ["127"], "years": ["2009"], "genders": ["total"]}
    assert data.headers["User-Agent"].startswith("uso/")
    got = res.frame.set_index("kunta")
    assert got.loc["151", "value"] == 2406.0 and got.loc["151", "origin"] == "live"
    assert res.years == [2009] and res.calls == 3  # metadata, regions, data


def test_falls_back_to_all_genders_when_total_is_empty(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=True)
    [res] = sotkanet.fetch(make(server), [indicator()])
    calls = server.calls("GET", "/rest/1.1/json")
    assert [c.params.get("genders") for c in calls] == [["total"], None]
    assert res.frame.set_index("kunta").loc["151", "value"] == 2406.0


def test_only_gender_published_is_kept_with_a_note(csv_text):
    df = sotkanet.parse_csv(csv_text).assign(gender="female")
    kept, note = sotkanet.pick_gender(df, "total")
    assert len(kept) == len(df) and "female" in note
    both = sotkanet.parse_csv(csv_text)
    both = both.assign(gender=["male" if i % 2 else "female" for i in range(len(both))])
    kept, note = sotkanet.pick_gender(both, "total")
    assert kept.empty and "female, male" in note


def test_unknown_indicator_fails_with_its_id(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=False)
    server.route("GET", "/rest/1.1/indicators/127", httpfake.Reply(404, json={"e": "none"}))
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "failed" and "Sotkanet indicator 127" in res.error


def test_merged_municipalities_summed_into_the_2023_division(csv_text, regions):
    codes, _ = sotkanet.region_codes(regions)
    df = sotkanet.parse_csv(csv_text)
    rows, _ = sotkanet.store_rows(df, codes, indicator(), origin="live",
                                  retrieved="2026-07-01", vintage="")
    got = rows.set_index("kunta")["value"]
    # Honkajoki (099, 1889) joined Kankaanpää (214, 12224) in 2021
    assert got["214"] == 1889.0 + 12224.0 and "099" not in got.index
    # a rate cannot be summed: the merged municipality's own figure is left out, with a note
    rate = indicator().model_copy(update={"kind": "rate"})
    rows, notes = sotkanet.store_rows(df, codes, rate, origin="live", retrieved="2026-07-01",
                                      vintage="")
    assert rows.set_index("kunta")["value"]["214"] == 12224.0
    assert any("left out" in n and "214" in n for n in notes)


def test_later_merger_is_reported(csv_text, regions):
    codes, _ = sotkanet.region_codes(regions)
    df = sotkanet.parse_csv(csv_text)
    pertunmaa = next(r["id"] for r in regions if r["category"] == "KUNTA" and r["code"] == "588")
    # data already published in the 2025 division carry no Pertunmaa of their own
    _, notes = sotkanet.store_rows(df[df["region"] != pertunmaa], codes, indicator(),
                                   origin="live", retrieved="2026-07-01", vintage="")
    assert any("include Pertunmaa (588" in n and "kept under 507" in n for n in notes)
    _, notes = sotkanet.store_rows(df, codes, indicator(), origin="live",
                                   retrieved="2026-07-01", vintage="")
    assert not any("Pertunmaa" in n for n in notes)


# -- an answer must match its query (#16) -------------------------------------------------
def rows_of(csv_text: str) -> list[dict]:
    return [{"indicator": r.indicator, "region": r.region, "year": r.year, "gender": r.gender,
             "value": r.value, "absValue": None}
            for r in sotkanet.parse_csv(csv_text).itertuples()]


def test_answer_of_duplicates_is_refused_and_not_cached(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=False)
    rows = rows_of(csv_text)
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=rows + rows[:10]))  # 476 <= 511
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "failed" and res.frame is None
    assert "does not match the query: 10 repeated row(s)" in res.error
    assert "none of it is stored" in res.error and "--fresh" in res.error
    # not cached: the next run asks the service again, and takes a good answer
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=rows))
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "live" and res.frame.set_index("kunta").loc["151", "value"] == 2406.0
    assert len(server.calls("GET", "/rest/1.1/json")) == 2


def test_more_rows_than_the_query_can_have_is_refused_before_decoding(server, regions,
                                                                      csv_text):
    serve(server, regions, csv_text, total_empty=False)
    row = rows_of(csv_text)[0]
    many = [{**row, "region": i} for i in range(len(regions) + 1)]  # one year, one gender
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=many))
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "failed"
    assert (f"the answer has {len(regions) + 1} rows, more than the {len(regions)} the query "
            f"can have ({len(regions)} regions x 1 year(s))") in res.error


def test_years_and_indicators_not_asked_for_are_refused(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=False)
    rows = rows_of(csv_text)  # the query asks for 2009 only
    odd = rows[:-2] + [{**rows[-2], "year": 9999}, {**rows[-1], "indicator": 128}]
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=odd))
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "failed"
    assert "rows of other indicators (128)" in res.error
    assert "years that were not asked for (9999)" in res.error


def test_metadata_with_an_absurd_year_range_is_refused(server, regions, csv_text):
    serve(server, regions, csv_text, total_empty=False)
    server.route("GET", "/rest/1.1/indicators/127", httpfake.Reply(json={
        "id": 127, "range": {"start": 1000, "end": 33258}}))
    [res] = sotkanet.fetch(make(server), [indicator()])
    assert res.origin == "failed" and "year range 1000-33258" in res.error
    assert not server.calls("GET", "/rest/1.1/json")  # no data query was sent


def test_check_answer_directly(csv_text):
    df = sotkanet.parse_csv(csv_text)
    sotkanet.check_answer(df, indicator=127, years=[2009], gender="total", regions=len(df),
                          what="t")  # the recorded answer is what was asked
    with pytest.raises(SourceError, match="genders that were not asked for \\(female\\)"):
        sotkanet.check_answer(df.assign(gender="female"), indicator=127, years=[2009],
                              gender="total", regions=len(df), what="t")
