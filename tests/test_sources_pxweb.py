"""PxWeb loader: json-stat2 decoding of a real recorded answer, variable codes resolved from
post-2026 metadata, cell-limit splitting, the rate limiter, status symbols and malformed answers.

The local server's metadata and data are built from the real recorded response of table 11re
(statfin/api_examples/api-query-three-cities.json, updated 2026-04-01)."""

from __future__ import annotations

import json
import math

import httpfake
import pytest

from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources import pxweb
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter

BASE = "/PXWeb/api/v1/fi"
TABLE = f"{BASE}/StatFin/11re.px"
LIMITS = {"maxValues": 120000, "maxCells": 120000, "maxCalls": 40, "timeWindow": 60}
CITIES = {"049": 325716.0, "091": 694392.0, "092": 252956.0}  # Espoo, Helsinki, Vantaa 2025


@pytest.fixture
def doc(raw_dir):
    return json.loads((raw_dir / "statfin/api_examples/api-query-three-cities.json")
                      .read_text(encoding="utf-8"))


def metadata_of(doc: dict) -> dict:
    """PxWeb table metadata with the recorded answer's (post-June-2026) variable codes."""
    out = []
    for dim in doc["id"]:
        d = doc["dimension"][dim]
        codes = sorted(d["category"]["index"], key=d["category"]["index"].get)
        out.append({"code": dim, "text": d["label"], "values": codes,
                    "valueTexts": [d["category"]["label"][c] for c in codes],
                    "elimination": d.get("extension", {}).get("elimination", False),
                    "time": dim in doc["role"]["time"]})
    return {"title": doc["label"], "variables": out}


def answer_from(doc: dict):
    """Answer a data POST with the slice of the recorded dataset that was asked for."""
    def handler(rec: httpfake.Recorded) -> httpfake.Reply:
        body = rec.json
        sel = {q["code"]: q["selection"]["values"] for q in body["query"]}
        return httpfake.Reply(json=httpfake.jsonstat_subset(doc, sel))
    return handler


@pytest.fixture
def server():
    with httpfake.FakeServer() as srv:
        yield srv


def make_px(srv, *, clock=None, sleeps=None, **kw) -> pxweb.PxWeb:
    sleeps = sleeps if sleeps is not None else []
    limiter = RateLimiter(clock=clock or (lambda: 0.0), sleep=sleeps.append)
    client = HttpClient("PxWeb", srv.url + BASE, limiter=limiter, sleep=sleeps.append,
                        backoff=0.0, cache=HttpCache(), **kw)
    return pxweb.PxWeb(client)


def serve_table(srv, doc, limits=LIMITS, meta=None):
    srv.route("GET", BASE + "/", httpfake.Reply(json=limits), query="config")
    srv.route("GET", TABLE, httpfake.Reply(json=meta or metadata_of(doc)))
    srv.route("POST", TABLE, answer_from(doc))


def indicator(content="vaerak-vaesto", **live) -> Indicator:
    return Indicator.model_validate({
        "id": "vaesto", "theme": "vaestokehitys", "row": "1", "label": "Väkiluku",
        "unit": "henkeä", "kind": "count",
        "live": {"source": "pxweb", "database": "StatFin", "table": "11re", "content": content,
                 **live}})


def test_decode_recorded_three_cities(doc):
    dec = pxweb.decode(doc, what="11re")
    got = {r["alue_23_20260101"]: r["value"] for r in dec.frame.to_dict("records")}
    assert got == {"KU049": 325716.0, "KU091": 694392.0, "KU092": 252956.0}
    assert set(dec.frame["timeperiod_y"]) == {"2025"}
    assert dec.updated == "2026-04-01"
    assert (dec.frame["status"] == "").all()


def test_codes_resolved_from_post_2026_metadata(server, doc):
    serve_table(server, doc)
    px = make_px(server)
    # the catalogue may name the content code without its publisher prefix
    [res] = pxweb.fetch(px, [indicator(content="vaesto")])
    assert res.origin == "live", res.error
    [post] = server.calls("POST", TABLE)
    sent = {q["code"]: q["selection"]["values"] for q in post.json["query"]}
    assert sent["alue_23_20260101"] == ["KU049", "KU091", "KU092"]
    assert sent["timeperiod_y"] == ["2025"]
    assert sent["contentscode"] == ["vaerak-vaesto"]
    # eliminable variables are left out (their totals), not hard-coded
    assert "ikaryhma_10_20180101" not in sent and "sukupuoli_9_20180101" not in sent
    assert post.json["response"] == {"format": "json-stat2"}
    rows = res.frame.set_index("kunta")
    assert rows.loc["091", "value"] == 694392.0 and rows.loc["049", "value"] == 325716.0
    assert set(rows["year"]) == {2025}
    assert rows.loc["092", "source"] == "Tilastokeskus, StatFin 11re"
    assert rows.loc["092", "table"] == "11re" and rows.loc["092", "vintage"] == "2026-04-01"
    assert (rows["origin"] == "live").all()
    # the region variable's code dates the division (1.1.2026)
    assert px.metadata("StatFin", "11re").division == 2026


def test_query_over_cell_limit_is_split_and_merged(server, doc):
    serve_table(server, doc, limits={**LIMITS, "maxCells": 1})
    px = make_px(server)
    [res] = pxweb.fetch(px, [indicator()])
    posts = server.calls("POST", TABLE)
    assert len(posts) == 3  # one region per part
    parts = [{q["code"]: q["selection"]["values"] for q in p.json["query"]}["alue_23_20260101"]
             for p in posts]
    assert sorted(sum(parts, [])) == ["KU049", "KU091", "KU092"]
    assert all(len(p) == 1 for p in parts)
    assert dict(zip(res.frame["kunta"], res.frame["value"], strict=True)) == CITIES
    assert res.calls == 1 + 1 + 3  # ?config, metadata, three parts


def test_split_respects_limit_in_two_dimensions():
    sel = {"alue": [f"KU{i:03d}" for i in range(10)], "vuosi": ["2023", "2024", "2025"],
           "tiedot": ["a", "b"]}
    parts = pxweb.split_selection(sel, 4)
    assert all(pxweb.cells(p) <= 4 for p in parts)
    cells = sorted((a, v, t) for p in parts for a in p["alue"] for v in p["vuosi"]
                   for t in p["tiedot"])
    assert cells == sorted((a, v, t) for a in sel["alue"] for v in sel["vuosi"]
                           for t in sel["tiedot"])  # every cell exactly once


def test_rate_limiter_keeps_max_calls_per_window():
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    lim = RateLimiter(3, 60, clock=lambda: now[0], sleep=sleep)
    times = []
    for _ in range(8):
        lim.wait()
        times.append(now[0])
        now[0] += 1.0  # each call takes a second
    assert times[:3] == [0.0, 1.0, 2.0]
    assert times[3] == 60.0  # the fourth call waits until the first leaves the window
    for t in times:
        assert sum(1 for u in times if t <= u < t + 60) <= 3
    assert slept and all(s > 0 for s in slept)


def test_rate_limit_is_read_from_config(server, doc):
    serve_table(server, doc, limits={**LIMITS, "maxCells": 1, "maxCalls": 2, "timeWindow": 10})
    now = [100.0]
    sleeps: list[float] = []

    def clock() -> float:
        return now[0]

    px = make_px(server, clock=clock, sleeps=sleeps)
    px.client.limiter.sleep = lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s))
    stamps = []
    orig = px.client.limiter.wait

    def wait():
        w = orig()
        stamps.append(now[0])
        return w
    px.client.limiter.wait = wait
    pxweb.fetch(px, [indicator()])
    assert px.limits() == pxweb.Limits(120000, 1, 2, 10.0, observed=True)
    assert px.client.limiter.max_calls == 2 and px.client.limiter.window == 10.0
    assert len(stamps) == 5  # ?config, metadata, 3 parts
    for t in stamps:
        assert sum(1 for u in stamps if t <= u < t + 10) <= 2
    assert sum(sleeps) >= 10.0


def test_status_symbols_become_missing_never_zero(doc):
    # The publisher marks a suppressed cell as null + a status symbol; simulate that on the
    # recorded answer (Helsinki, position 1) to check it stays missing with its symbol.
    doc = json.loads(json.dumps(doc))
    doc["value"][1] = None
    doc["status"] = {"1": ".."}
    dec = pxweb.decode(doc, what="11re")
    hel = dec.frame[dec.frame["alue_23_20260101"] == "KU091"].iloc[0]
    assert math.isnan(hel["value"]) and hel["status"] == ".."
    esp = dec.frame[dec.frame["alue_23_20260101"] == "KU049"].iloc[0]
    assert esp["value"] == 325716.0 and esp["status"] == ""


def test_status_list_form(doc):
    doc = json.loads(json.dumps(doc))
    doc["value"][2] = None
    doc["status"] = [None, None, ":"]
    dec = pxweb.decode(doc, what="11re")
    van = dec.frame[dec.frame["alue_23_20260101"] == "KU092"].iloc[0]
    assert math.isnan(van["value"]) and van["status"] == ":"


def test_malformed_json_names_the_table(server, doc):
    serve_table(server, doc)
    server.route("POST", TABLE, httpfake.Reply(body='{"version": "2.0", "value": [3257'))
    px = make_px(server)
    with pytest.raises(SourceError, match=r"StatFin/11re.*not valid JSON"):
        px.data(pxweb.resolve(px.metadata("StatFin", "11re"),
                              pxweb.group_indicators([indicator()])[0]).query)
    [res] = pxweb.fetch(px, [indicator()])
    assert res.origin == "failed" and "StatFin/11re" in res.error


def test_json_that_is_not_jsonstat_names_the_table(server, doc):
    serve_table(server, doc)
    server.route("POST", TABLE, httpfake.Reply(json={"error": "oops"}))
    [res] = pxweb.fetch(make_px(server), [indicator()])
    assert res.origin == "failed" and "StatFin/11re" in res.error
    assert "json-stat2" in res.error


def test_unknown_content_code_lists_the_table_codes(server, doc):
    serve_table(server, doc)
    [res] = pxweb.fetch(make_px(server), [indicator(content="vaesto_typo")])
    assert res.origin == "failed"
    assert "vaesto_typo" in res.error and "vaerak-vaesto" in res.error
    assert not server.calls("POST")


def test_variable_without_elimination_needs_a_selection(server, doc):
    meta = metadata_of(doc)
    sex = next(v for v in meta["variables"] if v["code"].startswith("sukupuoli"))
    sex.update(values=["1", "2"], valueTexts=["Miehet", "Naiset"], elimination=False)
    serve_table(server, doc, meta=meta)
    [res] = pxweb.fetch(make_px(server), [indicator()])
    assert res.origin == "failed" and "sukupuoli_9_20180101" in res.error
    # naming it by its text (as a catalogue author would) selects the value by code
    px = make_px(server)
    resolved = pxweb.resolve(px.metadata("StatFin", "11re"), pxweb.group_indicators(
        [indicator(selections={"Sukupuoli": ["2"]})])[0])
    assert resolved.query.selection["sukupuoli_9_20180101"] == ["2"]


def test_monthly_table_needs_a_year_rule(server, doc):
    """A monthly table and an indicator without live.period: refused before any data query,
    saying which rules fit (the store holds one figure per year)."""
    meta = metadata_of(doc)
    time = next(v for v in meta["variables"] if v["time"])
    time.update(values=["2024M11", "2024M12", "2025M01"],
                valueTexts=["2024M11", "2024M12", "2025M01"])
    serve_table(server, doc, meta=meta)
    [res] = pxweb.fetch(make_px(server), [indicator()])
    assert res.origin == "failed" and "the table is monthly" in res.error
    assert "live.period: december or mean" in res.error
    assert not server.calls("POST")


def test_old_long_table_id_answers_400(server, doc):
    serve_table(server, doc)
    server.route("GET", f"{BASE}/StatFin/statfin_vaerak_pxt_11re.px",
                 httpfake.Reply(400, json={"error": "Bad request"}))
    px = make_px(server)
    with pytest.raises(SourceError, match="HTTP 400") as info:
        px.metadata("StatFin", "statfin_vaerak_pxt_11re")
    assert "renamed" in str(info.value)
    assert len(server.calls("GET", f"{BASE}/StatFin/statfin_vaerak_pxt_11re.px")) == 1


def test_browse_and_search(server):
    server.route("GET", f"{BASE}/StatFin", httpfake.Reply(json=[
        {"id": "11re", "path": "/vaerak", "title": "Väestö iän (1-v.) ja sukupuolen mukaan",
         "score": 1.0, "published": "2026-04-01T05:00:00"}]))
    server.route("GET", f"{BASE}/StatFin/vaerak", httpfake.Reply(json=[
        {"id": "11re.px", "type": "t", "text": "11re -- Väestö", "updated": "2026-04-01"}]))
    px = make_px(server)
    assert px.search("KU091", codes=True)[0]["id"] == "11re"
    [rec] = server.calls("GET", f"{BASE}/StatFin")
    assert rec.params == {"query": ["KU091"], "filter": ["codes"]}
    assert px.browse("StatFin/vaerak")[0]["type"] == "t"


def test_plan_lists_one_request_per_part(server, doc):
    serve_table(server, doc, limits={**LIMITS, "maxCells": 2})
    planned = pxweb.plan(make_px(server), [indicator()])
    assert [(p.part, p.parts, p.cells) for p in planned] == [(1, 2, 2), (2, 2, 1)]
    assert not server.calls("POST")
