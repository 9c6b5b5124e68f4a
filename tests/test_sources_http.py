"""The HTTP layer: retries (429 + Retry-After, 5xx), fallback to the cache (said out loud),
unreachable hosts, client errors, a corrupted cache database, and the User-Agent.

Bodies are the real recorded Sotkanet region list, served by the local test server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpfake
import pytest

from uso_lib import config
from uso_lib.errors import SourceError
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
