"""``uso data sources``: the service's latest period against the store, from metadata only.

The PxWeb metadata served here is built from the recorded post-June-2026 answer of table 11re
(statfin/api_examples/api-query-three-cities.json: alue_23_20260101, timeperiod_y 2025,
contentscode vaerak-vaesto); where a test needs a newer release, the year 2026 is added to its
time variable, as the next release will add it.
"""

from __future__ import annotations

import json
import socket

import httpfake
import pytest
import requests

from uso_lib.cli import main
from uso_lib.cli import sources as sources_cli

BASE = "/PXWeb/api/v1/fi"
TABLE_11RE = f"{BASE}/StatFin/11re.px"
LIMITS = {"maxValues": 120000, "maxCells": 120000, "maxCalls": 40, "timeWindow": 60}


def metadata_11re(raw_dir, *, extra_years: tuple[str, ...] = ()) -> dict:
    doc = json.loads((raw_dir / "statfin/api_examples/api-query-three-cities.json")
                     .read_text(encoding="utf-8"))
    out = []
    for dim in doc["id"]:
        cat = doc["dimension"][dim]["category"]
        codes = sorted(cat["index"], key=cat["index"].get)
        texts = [cat["label"][c] for c in codes]
        if dim in doc["role"]["time"]:
            codes, texts = codes + list(extra_years), texts + list(extra_years)
        out.append({"code": dim, "text": doc["dimension"][dim]["label"], "values": codes,
                    "valueTexts": texts, "time": dim in doc["role"]["time"],
                    "elimination": dim not in doc["role"]["time"]
                    and dim not in doc["role"]["metric"]})
    return {"title": doc["label"], "variables": out}


@pytest.fixture
def server(monkeypatch):
    with httpfake.FakeServer() as srv:
        srv.route("GET", BASE + "/", httpfake.Reply(json=LIMITS), query="config")
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + BASE)
        monkeypatch.setenv("USO_SOTKANET_URL", srv.url + "/rest/1.1")
        yield srv


def by_id(rows) -> dict:
    return {r.indicator: r for r in rows}


def test_a_later_year_in_the_metadata_is_newer_data(server, raw_dir):
    server.route("GET", TABLE_11RE,
                 httpfake.Reply(json=metadata_11re(raw_dir, extra_years=("2026",))))
    server.route("GET", "/rest/1.1/indicators/3219", httpfake.Reply(json={
        "id": 3219, "range": {"start": 2000, "end": 2024}, "data-updated": "2025-04-29"}))
    rows = by_id(sources_cli.check(["vaesto", "syrjaytymisriski_nuoret", "alle15_osuus"]))
    pop = rows["vaesto"]
    assert (pop.latest_offered, pop.latest_offered_year, pop.store_latest_year) == (
        "2026", 2026, 2025)  # the snapshot's population ends in 2025
    assert pop.status == "newer data available"
    assert (pop.region, pop.time, pop.content) == ("alue_23_20260101", "timeperiod_y",
                                                   "vaerak-vaesto")
    assert pop.table == "StatFin/11re" and pop.metadata == "live"
    neet = rows["syrjaytymisriski_nuoret"]  # no offline figures: anything offered is newer
    assert (neet.latest_offered_year, neet.store_latest_year, neet.status) == (
        2024, None, "newer data available")
    # a table the service does not know is not "unreachable": it says why
    keyfig = rows["alle15_osuus"]
    assert keyfig.status == "unresolved" and "HTTP 404" in keyfig.reason
    assert keyfig.store_latest_year == 2021
    # one metadata request per table; a second run is answered from the HTTP cache
    assert len(server.calls("GET", TABLE_11RE)) == 1
    again = by_id(sources_cli.check(["vaesto"]))["vaesto"]
    assert again.metadata == "cached" and again.status == "newer data available"
    assert len(server.calls("GET", TABLE_11RE)) == 1
    assert not server.calls("POST")  # metadata only, never data


def test_same_year_as_the_store_is_ok_and_the_table_says_so(server, raw_dir, capsys):
    server.route("GET", TABLE_11RE, httpfake.Reply(json=metadata_11re(raw_dir)))
    assert main(["data", "sources", "--indicators", "vaesto"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("vaesto "))
    assert "pxweb StatFin/11re" in line and line.rstrip().endswith("ok")
    assert "content=vaerak-vaesto" in line and " 2025 " in line
    assert "1 ok (1 live indicators)." in out


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_every_live_entry_is_unreachable_after_one_attempt(
        monkeypatch, capsys):
    port = _closed_port()
    monkeypatch.setenv("USO_PXWEB_URL", f"http://127.0.0.1:{port}{BASE}")
    monkeypatch.setenv("USO_SOTKANET_URL", f"http://127.0.0.1:{port}/rest/1.1")
    sent = []
    real_send = requests.Session.send

    def counting_send(self, request, **kw):
        sent.append(request.url)
        return real_send(self, request, **kw)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    assert main(["data", "sources", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 35
    assert {r["status"] for r in rows} == {"unreachable"}
    assert all(r["indicator"] and r["table"] and "store_latest_year" in r for r in rows)
    assert all("cannot connect" in r["reason"] for r in rows)
    got = {r["indicator"]: r for r in rows}
    assert got["vaesto"]["store_latest_year"] == 2025 and got["vaesto"]["table"] == "StatFin/11re"
    assert got["tyottomyysaste"]["table"] == (
        "Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja")
    assert got["gini"]["table"] == "Sotkanet 3126" and got["gini"]["store_latest_year"] == 2023
    assert "tuloveroprosentti" not in got  # a file source: nothing to ask a service
    # one failed connection to the host (both services are on it here), then every table of
    # both services is answered without another attempt
    assert len(sent) == 1 and sent[0].endswith("?config"), sent


def test_latest_whole_year_by_the_period_rule():
    months = [f"2025M{m:02d}" for m in range(1, 13)] + ["2026M01", "2026M08"]
    assert sources_cli.latest_year(months, "december") == 2025
    assert sources_cli.latest_year(months, "mean") == 2025
    assert sources_cli.latest_year(months + ["2026M12"], "december") == 2026
    assert sources_cli.latest_year(months + ["2026M12"], "mean") == 2025  # 3 of 12 months
    quarters = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2"]
    assert sources_cli.latest_year(quarters, "q4") == 2024
    assert sources_cli.latest_year(["1987", "2024"], "year") == 2024
    assert sources_cli.latest_year(["x"], None) is None


def test_cached_metadata_is_used_when_the_service_fails_later(server, raw_dir):
    server.route("GET", TABLE_11RE,
                 httpfake.Reply(json=metadata_11re(raw_dir, extra_years=("2026",))))
    assert by_id(sources_cli.check(["vaesto"]))["vaesto"].metadata == "live"
    server.route("GET", TABLE_11RE, httpfake.Reply(503, json={"error": "maintenance"}))
    row = by_id(sources_cli.check(["vaesto"], fresh=True))["vaesto"]
    # the service was asked again and failed: yesterday's answer, said so
    assert len(server.calls("GET", TABLE_11RE)) >= 2
    assert row.metadata == "cached, service unreachable"
    assert (row.latest_offered, row.status) == ("2026", "newer data available")


def test_cache_only_asks_no_service(server, raw_dir, capsys):
    server.route("GET", TABLE_11RE,
                 httpfake.Reply(json=metadata_11re(raw_dir, extra_years=("2026",))))
    sources_cli.check(["vaesto"])
    before = len(server.requests)
    rows = by_id(sources_cli.check(["vaesto", "gini"], cache_only=True))
    assert len(server.requests) == before  # nothing sent
    assert (rows["vaesto"].status, rows["vaesto"].metadata) == ("newer data available", "cached")
    assert rows["gini"].status == "not in the cache" and "online once" in rows["gini"].reason
    assert main(["data", "sources", "--cached", "--indicators", "vaesto"]) == 0
    assert "1 newer data available" in capsys.readouterr().out
    assert len(server.requests) == before
