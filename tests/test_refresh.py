"""``uso data refresh``: all municipalities per table, written to the local store with origin
live/cached; the cache fallback said out loud; ``--dry-run`` plans without sending; no network
exits cleanly with the store unchanged.

The local server answers PxWeb with the real recorded 11re response (Espoo 325716, Helsinki
694392, Vantaa 252956 in 2025) and Sotkanet with the real recorded indicator 127 data for 2009
(Isojoki 151 = 2406)."""

from __future__ import annotations

import json
import re

import httpfake
import pandas as pd
import pytest
from conftest import write_catalog
from test_sources_pxweb import BASE, LIMITS, TABLE, answer_from, metadata_of

from uso_lib import catalog, config, refresh
from uso_lib.cli import main
from uso_lib.sources import sotkanet
from uso_lib.store import Store, normalize

EX = "other/sotkanet_api_examples"


@pytest.fixture
def cat(tmp_path):
    return write_catalog(tmp_path, [
        {"id": "vaesto", "theme": "vaestokehitys", "row": "1", "label": "Väkiluku",
         "unit": "henkeä", "kind": "count",
         "live": {"source": "pxweb", "database": "StatFin", "table": "11re",
                  "content": "vaerak-vaesto"}},
        {"id": "vaesto_sotkanet", "theme": "vaestokehitys", "row": "1",
         "label": "Väestö 31.12. (Sotkanet)", "unit": "henkeä", "kind": "count",
         "live": {"source": "sotkanet", "indicator": 127}},
        {"id": "hyte_kerroin", "theme": "hyvinvointi", "row": "14", "label": "HYTE-kerroin",
         "kind": "index", "live": {"source": "file"},
         "how_to_get": "valtionosuuslaskelman liite"},
    ])


@pytest.fixture
def server(raw_dir, monkeypatch):
    doc = json.loads((raw_dir / "statfin/api_examples/api-query-three-cities.json")
                     .read_text(encoding="utf-8"))
    regions = json.loads((raw_dir / EX / "SotkaRegions.json").read_text(encoding="utf-8"))
    data = [{"indicator": r.indicator, "region": r.region, "year": r.year, "gender": r.gender,
             "value": r.value, "absValue": None} for r in sotkanet.parse_csv(
                (raw_dir / EX / "SotkaIndicatorData.csv").read_text(encoding="utf-8")).itertuples()]
    with httpfake.FakeServer() as srv:
        srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
        srv.route("GET", TABLE, httpfake.Reply(json=metadata_of(doc)))
        srv.route("POST", TABLE, answer_from(doc))
        srv.route("GET", "/rest/1.1/regions", httpfake.Reply(json=regions))
        srv.route("GET", "/rest/1.1/indicators/127", httpfake.Reply(json={
            "id": 127, "range": {"start": 2009, "end": 2009}}))
        srv.route("GET", "/rest/1.1/json", httpfake.Reply(json=data))
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + BASE)
        monkeypatch.setenv("USO_SOTKANET_URL", srv.url + "/rest/1.1")
        srv.doc, srv.sotka_rows = doc, data
        yield srv


FAST = {"sleep": lambda s: None, "backoff": 0.0}


def test_refresh_writes_every_municipality_per_table(server, cat):
    report = refresh.refresh(cat=cat, **FAST)
    by = {r.indicator: r for r in report.results}
    assert set(by) == {"vaesto", "vaesto_sotkanet"}  # the file-only indicator is not fetched
    assert by["vaesto"].origin == "live" and by["vaesto"].years == [2025]
    assert by["vaesto_sotkanet"].origin == "live" and by["vaesto_sotkanet"].years == [2009]
    assert len(server.calls("POST", TABLE)) == 1  # one query for all municipalities
    assert len(server.calls("GET", "/rest/1.1/json")) == 1
    assert sorted(p.name for p in report.written) == ["live-vaesto.parquet",
                                                       "live-vaesto_sotkanet.parquet"]
    st = Store("local")
    hel = st.get("vaesto", "091", 2025)
    assert hel.value == 694392.0 and hel.origin == "live" and hel.table == "11re"
    assert hel.vintage == "2026-04-01"
    iso = st.get("vaesto_sotkanet", "151", 2009)
    assert iso.value == 2406.0 and iso.origin == "live" and iso.table == "Sotkanet 127"
    assert report.calls == {"pxweb": 3, "sotkanet": 3}


def test_failing_service_falls_back_to_cache_and_records_it(server, cat):
    refresh.refresh(cat=cat, **FAST)
    server.route("POST", TABLE, httpfake.Reply(500, json={"error": "down"}))
    report = refresh.refresh(["vaesto"], cat=cat, fresh=True, **FAST)
    [res] = report.results
    assert res.origin == "cached"
    assert any("HTTP 500" in n and "cached answer" in n for n in res.notes)
    assert len(server.calls("POST", TABLE)) == 1 + 4  # first refresh, then 1 try + 3 retries
    rows = normalize(pd.read_parquet(config.data_dir() / "store" / "live-vaesto.parquet"))
    esp = rows.set_index("kunta").loc["049"]
    assert esp["value"] == 325716.0 and esp["origin"] == "cached" and esp["year"] == 2025


def test_requested_file_indicator_is_skipped_with_how_to(server, cat):
    report = refresh.refresh(["hyte_kerroin"], cat=cat, **FAST)
    assert report.results == []
    assert report.skipped[0][0] == "hyte_kerroin"
    assert "uso data import" in report.skipped[0][1]
    assert "valtionosuuslaskelman liite" in report.skipped[0][1]


def test_dry_run_lists_one_request_per_table_part(server, cat, monkeypatch, capsys):
    server.route("GET", BASE + "/", httpfake.Reply(json={**LIMITS, "maxCells": 2}),
                 query="config")
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    assert main(["data", "refresh", "--dry-run"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith(("pxweb", "sotkanet"))]
    assert len(lines) == 3  # 11re in two parts (3 cells, limit 2) + one Sotkanet call
    assert "1/2" in lines[0] and "2/2" in lines[1] and "11re.px" in lines[0]
    assert "years=2009" in lines[2] and "indicator=127" in lines[2]
    assert "nothing was sent" in out
    assert not server.calls("POST")
    assert not server.calls("GET", "/rest/1.1/json")
    assert not (config.data_dir() / "store").exists()


def test_no_network_exits_cleanly_and_leaves_store_unchanged(cat, monkeypatch, capsys):
    monkeypatch.setenv("USO_PXWEB_URL", "http://127.0.0.1:9/PXWeb/api/v1/fi")
    monkeypatch.setenv("USO_SOTKANET_URL", "http://127.0.0.1:9/rest/1.1")
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    store_dir = config.data_dir() / "store"
    store_dir.mkdir(parents=True)
    (store_dir / "keep.parquet").write_bytes(b"previous refresh")
    rc = main(["data", "refresh"])
    out, err = capsys.readouterr()
    assert rc == 3 and "Traceback" not in err
    assert "Every source failed" in out and "the local store is unchanged" in out
    assert out.count("failed") >= 2 and "cannot connect to 127.0.0.1:9" in out
    assert [p.name for p in store_dir.iterdir()] == ["keep.parquet"]


def test_real_catalogue_against_unreachable_url(monkeypatch, capsys):
    """The shipped catalogue's live definitions, no network: no traceback, nothing written."""
    monkeypatch.setenv("USO_PXWEB_URL", "http://127.0.0.1:9/PXWeb/api/v1/fi")
    monkeypatch.setenv("USO_SOTKANET_URL", "http://127.0.0.1:9/rest/1.1")
    live = [i for i in catalog.catalog().indicators
            if i.live and i.live.source in ("pxweb", "sotkanet")]
    rc = main(["data", "refresh"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if live:
        assert rc == 3 and "Every source failed" in out
        assert all(i.id in out for i in live)  # every live indicator is in the summary
    else:
        assert rc == 0 and "Nothing to refresh" in out
    assert not list(config.data_dir().glob("store/*.parquet"))


def test_unknown_indicator_is_a_clear_error(cat, monkeypatch, capsys):
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    assert main(["data", "refresh", "--indicators", "vaestoo"]) == 2
    err = capsys.readouterr().err
    assert "Unknown indicator: 'vaestoo'" in err and "vaesto" in err


# -- a misbehaving server cannot hold a refresh (#16) ----------------------------------------
# Small deadlines through the environment and --timeout; nothing here measures time: the
# refresh must return, say what failed and why, and keep the store (pytest-timeout guards it).

def test_trickling_server_ends_the_refresh_with_failure_and_store_kept(cat, monkeypatch,
                                                                       capsys):
    monkeypatch.setenv("USO_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("USO_HTTP_BUDGET", "1,5")
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    store_dir = config.data_dir() / "store"
    store_dir.mkdir(parents=True)
    (store_dir / "keep.parquet").write_bytes(b"previous refresh")
    with httpfake.FakeServer() as srv:
        # every answer a byte every half second: each would take minutes to arrive
        for method, path in (("GET", BASE + "/"), ("GET", TABLE), ("POST", TABLE),
                             ("GET", "/rest/1.1/regions"), ("GET", "/rest/1.1/indicators/127"),
                             ("GET", "/rest/1.1/json")):
            srv.route(method, path, httpfake.Reply(json={"x": 1}, trickle=0.5))
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + BASE)
        monkeypatch.setenv("USO_SOTKANET_URL", srv.url + "/rest/1.1")
        rc = main(["data", "refresh"])
        sent = len(srv.requests)
    out, err = capsys.readouterr()
    assert rc == 3 and "Traceback" not in err
    assert "Every source failed" in out and "the local store is unchanged" in out
    assert re.search(r"no complete answer from 127\.0\.0\.1:\d+ within 1 s", out), out
    assert "could not be reached earlier in this run" in out  # the host was given up
    assert sent <= 3  # one slow request (and its retry) for the run, not one per indicator
    assert [p.name for p in store_dir.iterdir()] == ["keep.parquet"]


def test_refresh_time_limit_stops_cleanly_and_falls_back_to_the_cache(server, cat, monkeypatch,
                                                                       capsys):
    refresh.refresh(cat=cat, **FAST)  # yesterday's answers, cached
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    monkeypatch.setenv("USO_HTTP_TIMEOUT", "30")
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=[], hang=60))  # never answers
    rc = main(["data", "refresh", "--fresh", "--timeout", "3", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["timed_out"] == "the refresh's time limit (3 s)"
    by = {r["indicator"]: r for r in doc["results"]}
    assert by["vaesto"]["origin"] == "live"  # asked and answered before the limit
    sk = by["vaesto_sotkanet"]
    assert sk["origin"] == "cached" and sk["years"] == [2009]
    assert any("not tried again: the refresh's time limit (3 s) ran out" in n
               and "used the cached answer" in n for n in sk["notes"]), sk["notes"]
    assert any("ran out" in w and "uso data refresh --timeout SECONDS" in w
               for w in doc["warnings"])
    iso = Store("local").get("vaesto_sotkanet", "151", 2009)
    assert iso.value == 2406.0 and iso.origin == "cached"


def test_broken_answer_fails_with_the_fresh_hint_and_is_asked_again(server, cat, monkeypatch,
                                                                    capsys):
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    good = server.calls  # keep the route's real answer to restore it
    server.route("GET", "/rest/1.1/json", httpfake.Reply(body="<html>Huoltokatko</html>"))
    assert main(["data", "refresh", "--indicators", "vaesto_sotkanet"]) == 3
    out = capsys.readouterr().out
    assert "not valid JSON" in out and "Huoltokatko" in out
    assert "uso data refresh --fresh" in out
    assert not (config.data_dir() / "store" / "live-vaesto_sotkanet.parquet").exists()
    server.route("GET", "/rest/1.1/json", httpfake.Reply(json=server.sotka_rows))
    assert main(["data", "refresh", "--indicators", "vaesto_sotkanet"]) == 0
    assert "1 of 1 indicator(s) refreshed" in capsys.readouterr().out
    assert len(good("GET", "/rest/1.1/json")) == 2  # the rerun asked the service again


def test_timeout_flag_must_be_a_positive_number(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["data", "refresh", "--timeout", "-5"])
    assert exc.value.code == 2
    assert "'-5' is not a positive number of seconds" in capsys.readouterr().err


def test_exit_status_tells_a_partial_refresh_from_a_whole_one(server, cat, monkeypatch, capsys):
    """0: everything stored; 4: some indicators failed, the others were stored; 3: nothing.
    A script that refreshes before rendering must not take a half refresh for a whole one."""
    monkeypatch.setattr(catalog, "catalog", lambda: cat)
    # Sotkanet refuses the data query and nothing is cached yet: that indicator fails
    server.route("GET", "/rest/1.1/json", httpfake.Reply(403, body="Forbidden"))
    rc = main(["data", "refresh", "--json"])
    doc = json.loads(capsys.readouterr().out)
    by = {r["indicator"]: r["origin"] for r in doc["results"]}
    assert by == {"vaesto": "live", "vaesto_sotkanet": "failed"}
    assert rc == 4
    assert Store("local").get("vaesto", "091", 2025).value == 694392.0  # the part that came
    # PxWeb refuses too: nothing refreshed
    server.route("POST", TABLE, httpfake.Reply(403, body="Forbidden"))
    assert main(["data", "refresh", "--fresh", "--json"]) == 3
    capsys.readouterr()
