"""The HTTP layer: retries (429 + Retry-After, 5xx), fallback to the cache (said out loud),
unreachable hosts, client errors, a corrupted cache database, and the User-Agent.

Bodies are the real recorded Sotkanet region list, served by the local test server."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpfake
import pytest

from uso_lib import config
from uso_lib.errors import SourceError, UsoError
from uso_lib.sources.http import HttpCache, HttpClient, RateLimiter, _retry_after


@pytest.fixture
def server():
    with httpfake.FakeServer() as srv:
        yield srv


@pytest.fixture
def regions_body(raw_dir) -> str:
    return (raw_dir / "other/sotkanet_api_examples/SotkaRegions.json").read_text(encoding="utf-8")


def client(url: str, sleeps: list, **kw) -> HttpClient:
    return HttpClient("Sotkanet", url, sleep=sleeps.append, backoff=1.0,
                      limiter=RateLimiter(1000, 1, sleep=sleeps.append), **kw)


def isojoki(doc) -> dict:
    return next(r for r in doc if r["id"] == 69)


def test_429_honours_retry_after_then_succeeds(server, regions_body):
    server.route("GET", "/rest/1.1/regions",
                 httpfake.Reply(429, json={"error": "slow down"}, headers={"Retry-After": "7"}),
                 httpfake.Reply(body=regions_body))
    sleeps: list[float] = []
    c = client(server.url + "/rest/1.1", sleeps)
    got = c.get("regions", what="Sotkanet regions")
    assert got.origin == "live" and got.note is None
    assert isojoki(got.json())["code"] == "151"
    assert sleeps == [7.0] and c.calls == 2


def test_retry_after_as_http_date():
    now = datetime(2026, 6, 9, 12, 0, 0, tzinfo=UTC)
    assert _retry_after("Tue, 09 Jun 2026 12:00:30 GMT", now) == 30.0
    assert _retry_after("120") == 120.0
    assert _retry_after("soon") is None


def test_repeated_500_falls_back_to_cache_and_says_so(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    sleeps: list[float] = []
    first = client(server.url + "/rest/1.1", sleeps)
    got = first.get("regions")
    assert got.origin == "live" and isojoki(got.json())["code"] == "151"  # decoded: cached
    # the service then fails; a fresh client must ask it, retry, and fall back
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(500, json={"error": "down"}))
    c = client(server.url + "/rest/1.1", sleeps, fresh=True)
    got = c.get("regions", what="Sotkanet regions")
    assert got.origin == "cached" and got.stale
    assert "HTTP 500" in got.note and "cached answer" in got.note
    assert got.note in c.notes
    assert isojoki(got.json())["title"]["fi"] == "Isojoki"
    assert c.calls == 4 and sleeps == [1.0, 2.0, 4.0]  # 1 try + 3 retries, exponential


def test_unexpired_cache_answers_without_a_call(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    client(server.url + "/rest/1.1", []).get("regions").json()
    again = client(server.url + "/rest/1.1", [])
    got = again.get("regions")
    assert got.origin == "cached" and not got.stale and again.calls == 0
    assert len(server.calls("GET", "/rest/1.1/regions")) == 1


def test_500_without_cache_is_a_source_error(server):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(503, json={"error": "down"}))
    c = client(server.url + "/rest/1.1", [])
    with pytest.raises(SourceError, match=r"Sotkanet regions: HTTP 503.*after 4 attempts"):
        c.get("regions", what="Sotkanet regions")


def test_client_error_is_not_retried(server):
    server.route("GET", "/rest/1.1/indicators/999999", httpfake.Reply(404, json={"e": 1}))
    c = client(server.url + "/rest/1.1", [])
    with pytest.raises(SourceError, match="HTTP 404"):
        c.get("indicators/999999")
    assert c.calls == 1


def test_unreachable_host_fails_fast_and_is_remembered():
    sleeps: list[float] = []
    c = client("http://127.0.0.1:9/rest/1.1", sleeps)
    with pytest.raises(SourceError, match="cannot connect to 127.0.0.1:9"):
        c.get("regions")
    assert c.calls == 2  # one retry for a connection failure
    with pytest.raises(SourceError, match="could not be reached earlier"):
        c.get("indicators")
    assert c.calls == 2  # the second request was not sent


def test_corrupted_cache_is_moved_aside(server, regions_body):
    path = config.cache_dir() / "http_cache.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not an sqlite database" * 100)
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    cache = HttpCache()
    c = client(server.url + "/rest/1.1", [], cache=cache)
    got = c.get("regions")
    assert got.origin == "live" and isojoki(got.json())["code"] == "151"
    assert any("unreadable" in w and "moved it aside" in w for w in c.warnings)
    aside = list(path.parent.glob("http_cache.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    # the fresh cache works: a second client answers from it
    assert client(server.url + "/rest/1.1", []).get("regions").origin == "cached"


def test_descriptive_user_agent(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    client(server.url + "/rest/1.1", []).get("regions")
    [rec] = server.calls()
    assert rec.headers["User-Agent"].startswith("uso/")
    assert "python-requests" not in rec.headers["User-Agent"]


def test_post_bodies_are_cached_per_body(server):
    seen = []

    def echo(rec):
        seen.append(rec.json)
        return httpfake.Reply(json={"got": rec.json})
    server.route("POST", "/t.px", echo)
    c = client(server.url, [])
    a = c.post("t.px", {"q": 1}).json()
    b = c.post("t.px", {"q": 2}).json()
    assert a == {"got": {"q": 1}} and b == {"got": {"q": 2}}
    assert c.post("t.px", {"q": 1}).origin == "cached" and len(seen) == 2
    assert json.loads(json.dumps(a)) == a


# -- bounded time and size; a broken answer is never cached (#16) ----------------------------
# Deadlines are a few seconds at most, set per client or through the environment; nothing here
# measures time, the tests only assert what the client says and does.

def test_trickling_answer_ends_at_the_attempt_deadline_and_falls_back(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    client(server.url + "/rest/1.1", []).get("regions").json()  # cached, good
    # then a byte every half second: requests' per-read time-out alone would never fire
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body, trickle=0.5))
    c = client(server.url + "/rest/1.1", [], fresh=True, total_timeout=2.0, budget=2.0)
    got = c.get("regions", what="Sotkanet regions")
    assert got.origin == "cached" and got.stale
    assert re.search(r"no complete answer from 127\.0\.0\.1:\d+ within 2 s \(\d+ bytes "
                     r"received\) after 1 attempt; not tried again: this request's time budget "
                     r"\(2 s, USO_HTTP_BUDGET\) ran out", got.note), got.note
    assert isojoki(got.json())["code"] == "151"  # yesterday's answer, said so
    # the host is given up for the rest of the run: the next request is not even sent
    with pytest.raises(SourceError, match="could not be reached earlier in this run"):
        c.get("indicators")
    assert c.calls == 1


def test_trickled_headers_are_bounded_too(server):
    server.route("GET", "/rest/1.1/regions",
                 httpfake.Reply(json=[], trickle=0.3, trickle_headers=True))
    c = client(server.url + "/rest/1.1", [], total_timeout=1.0, budget=1.0)
    with pytest.raises(SourceError) as err:
        c.get("regions", what="Sotkanet regions")
    msg = str(err.value)
    assert "within 1 s (not even its headers)" in msg and "no cached copy" in msg
    assert "USO_HTTP_TIMEOUT" in msg  # the hint says how to allow more time


def test_server_hanging_after_its_headers(server):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(json=[], hang=30))
    c = client(server.url + "/rest/1.1", [], read_timeout=0.5, total_timeout=5, budget=0.8)
    with pytest.raises(SourceError) as err:
        c.get("regions", what="Sotkanet regions")
    assert ("stopped arriving for 0.5 s (0 bytes received) after 1 attempt; not tried again: "
            "this request's time budget (0.8 s, USO_HTTP_BUDGET) ran out") in str(err.value)
    assert c.unreachable and c.calls == 1


def test_oversized_answer_is_refused_announced_or_not(server, regions_body, monkeypatch):
    monkeypatch.setenv("USO_HTTP_MAX_MB", "0.01")  # 10 000 bytes; the region list is larger
    assert len(regions_body.encode()) > 10_000
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    c = client(server.url + "/rest/1.1", [])
    with pytest.raises(SourceError, match=r"larger than 0\.01 MB \(it announced 0\.\d MB\); "
                                          r"refused; no cached copy") as err:
        c.get("regions")
    assert "USO_HTTP_MAX_MB" in str(err.value)
    assert c.calls == 1  # not retried: the same answer would come again
    # without a Content-Length the body is counted as it arrives
    server.route("GET", "/rest/1.1/indicators", httpfake.Reply(body=regions_body, length=-1))
    with pytest.raises(SourceError, match=r"larger than 0\.01 MB; refused"):
        c.get("indicators")
    monkeypatch.setenv("USO_HTTP_MAX_MB", "lots")
    with pytest.raises(UsoError, match="USO_HTTP_MAX_MB='lots' is not a positive number"):
        client(server.url + "/rest/1.1", [])


def test_broken_200_is_not_cached_and_is_asked_again(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(
        body="<html><h1>Huoltokatko</h1></html>", headers={"Content-Type": "text/html"}))
    for _ in range(2):  # two runs: each asks the service, neither is answered from the cache
        c = client(server.url + "/rest/1.1", [])
        with pytest.raises(SourceError) as err:
            c.get("regions", what="Sotkanet regions").json()
        assert "not valid JSON" in str(err.value) and "Huoltokatko" in str(err.value)
        assert "uso data refresh --fresh" in str(err.value)
    assert len(server.calls("GET", "/rest/1.1/regions")) == 2
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    assert isojoki(client(server.url + "/rest/1.1", []).get("regions").json())["code"] == "151"
    again = client(server.url + "/rest/1.1", [])
    assert again.get("regions").origin == "cached" and again.calls == 0


def test_discard_forgets_a_cached_answer(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    first = client(server.url + "/rest/1.1", [])
    first.get("regions").json()
    second = client(server.url + "/rest/1.1", [])
    got = second.get("regions")
    assert got.origin == "cached"
    # a decoder finds it wrong (say, not what was asked): it must not be served again
    assert "--fresh" in second.discard(got)
    third = client(server.url + "/rest/1.1", [])
    assert third.get("regions").origin == "live" and third.calls == 1


def test_rate_limit_window_longer_than_the_budget_is_refused_not_slept(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    sleeps: list[float] = []
    c = HttpClient("PxWeb", server.url + "/rest/1.1", sleep=sleeps.append, budget=60,
                   limiter=RateLimiter(1, 1e9, sleep=sleeps.append))
    c.get("regions").json()
    with pytest.raises(SourceError, match=r"rate limit \(1 call per 1e\+09 s\) would mean "
                                          r"waiting 1000000000 s, more than the \d+ s left of "
                                          r"this request's time budget"):
        c.get("indicators", what="PxWeb folder /")  # "regions" would come from the cache
    assert sleeps == [] and c.calls == 1


def test_rate_limit_wait_is_said(server, regions_body):
    server.route("GET", "/rest/1.1/regions", httpfake.Reply(body=regions_body))
    now = [0.0]
    said: list[str] = []
    limiter = RateLimiter(1, 5, clock=lambda: now[0],
                          sleep=lambda s: now.__setitem__(0, now[0] + s))
    c = HttpClient("PxWeb", server.url + "/rest/1.1", limiter=limiter, progress=said.append)
    c.get("regions")
    c.get("regions", params={"again": "1"})
    assert said == ["waiting 5 s for the server's rate limit (1 call per 5 s)"]
    assert limiter.waited == 5.0


def test_host_failing_two_requests_in_a_row_is_given_up(server, regions_body):
    for path in ("regions", "indicators", "json"):
        server.route("GET", f"/rest/1.1/{path}", httpfake.Reply(503, json={"error": "down"}))
    server.route("GET", "/rest/1.1/indicators/127", httpfake.Reply(json={"id": 127}))
    c = client(server.url + "/rest/1.1", [])
    with pytest.raises(SourceError, match=r"HTTP 503.*after 4 attempts"):
        c.get("regions")
    c.get("indicators/127").json()  # an answer in between: one failure does not give up
    with pytest.raises(SourceError, match=r"HTTP 503.*after 4 attempts"):
        c.get("indicators")
    assert c.calls == 9 and not c.unreachable
    with pytest.raises(SourceError, match=r"HTTP 503.*after 4 attempts"):
        c.get("json")
    with pytest.raises(SourceError, match=r"failed on two requests in a row earlier in this "
                                          r"run \(HTTP 503 Service Unavailable after 4"):
        c.get("regions", params={"again": "1"})
    assert c.calls == 13  # the last request was not sent
