"""A PxWeb answer must answer its query, and ``?config`` must state usable limits (#16).

Against a local stand-in serving the real Kuntien avainluvut metadata
(tests/fixtures/pxweb/kuntien_avainluvut_aikasarja.meta.json): an answer with periods that
were not asked for, duplicate cells or dimensions nobody asked for is refused whole, named by
table and difference, nothing of it is stored, and the HTTP cache forgets it (the next run
asks again). ``maxCalls: 0`` or an hour-long ``timeWindow`` is said plainly, the documented
limits are used, and the bad ``?config`` is asked again next time.
"""

from __future__ import annotations

import httpfake
import pxweb_fake
import pytest
from conftest import write_catalog

from uso_lib import catalog, config, refresh
from uso_lib.cli import main
from uso_lib.sources import pxweb
from uso_lib.store import Store

TABLE = "Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja.px"
WHAT = "PxWeb table Kuntien_avainluvut/uusin/kuntien_avainluvut_aikasarja"
YEARS = ["2021", "2022", "2023", "2024"]
FAST = {"sleep": lambda s: None, "backoff": 0.0}


@pytest.fixture(scope="module")
def meta() -> dict:
    return pxweb_fake.metadata(pxweb_fake.fixture("kuntien_avainluvut_aikasarja.meta.json"))


@pytest.fixture
def cat(tmp_path):
    return write_catalog(tmp_path, [
        {"id": "unemployed", "theme": "elinvoima", "row": "1", "label": "Työttömät, %",
         "unit": "%", "kind": "rate",
         "live": {"source": "pxweb", "database": "Kuntien_avainluvut",
                  "table": "uusin/kuntien_avainluvut_aikasarja", "content": "M162",
                  "period": "year", "selections": {"Vuosi": YEARS}}}])


def fine(cell: pxweb_fake.Cell) -> float:
    return 10.0 + YEARS.index(cell["Vuosi"]) if cell["Vuosi"] in YEARS else 1.0


def store_files() -> list[str]:
    return sorted(p.name for p in (config.data_dir() / "store").glob("*.parquet"))


def test_answer_with_periods_not_asked_for_is_refused_and_forgotten(meta, cat, monkeypatch):
    """10^5 cells with periods 1000-1237 where 2021-2024 were asked for: refused before any
    figure is stored, and asked again on the next run (the cache did not keep it)."""
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, TABLE, meta, fine)

        def absurd(rec: httpfake.Recorded) -> httpfake.Reply:
            sel = pxweb_fake.selection_of(rec)
            sel["Vuosi"] = [str(y) for y in range(1000, 1238)]
            return httpfake.Reply(json=pxweb_fake.dataset(sel, lambda c: 5.0))

        srv.route("POST", path, absurd)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        [res] = refresh.refresh(cat=cat, **FAST).results
        assert res.origin == "failed" and res.rows == 0
        assert WHAT in res.error and "does not match the query" in res.error
        asked = pxweb_fake.selection_of(srv.calls("POST", path)[0])
        regions = len(asked["Alue"])
        assert asked["Vuosi"] == YEARS
        assert "Vuosi has 238 value(s) not asked for: 1000, 1001, 1002, 1003 ..." in res.error
        assert f"{regions * 238} cells where the query asked for at most {regions * 4}" \
            in res.error
        assert regions * 238 > 99_000
        assert "not kept in the HTTP cache" in res.error
        assert store_files() == []
        # the next run asks the server again and, answered properly, stores the figures
        srv.route("POST", path, lambda rec: httpfake.Reply(
            json=pxweb_fake.dataset(pxweb_fake.selection_of(rec), fine)))
        [again] = refresh.refresh(cat=cat, **FAST).results
        assert len(srv.calls("POST", path)) == 2
    assert again.origin == "live" and again.years == [2021, 2022, 2023, 2024]
    assert Store("local").get("unemployed", "178", 2024).value == 13.0


def _refused(meta, cat, monkeypatch, mangle) -> str:
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, TABLE, meta, fine)

        def reply(rec: httpfake.Recorded) -> httpfake.Reply:
            doc = pxweb_fake.dataset(pxweb_fake.selection_of(rec), fine)
            return httpfake.Reply(json=mangle(doc))

        srv.route("POST", path, reply)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        [res] = refresh.refresh(cat=cat, **FAST).results
    assert res.origin == "failed" and WHAT in res.error
    assert store_files() == []
    return res.error


def test_duplicate_cells_are_refused(meta, cat, monkeypatch):
    def duplicate(doc):
        cats = doc["dimension"]["Vuosi"]["category"]
        cats["index"] = ["2021", "2022", "2024", "2024"]  # one year twice, one missing
        return doc
    err = _refused(meta, cat, monkeypatch, duplicate)
    assert "Vuosi lists 2024 more than once (duplicate cells)" in err


def test_a_dimension_not_asked_for_is_refused(meta, cat, monkeypatch):
    def extra(doc):
        doc["id"].append("Sukupuoli")
        doc["size"].append(2)
        doc["dimension"]["Sukupuoli"] = {"category": {"index": {"1": 0, "2": 1}}}
        doc["value"] = doc["value"] * 2
        return doc
    err = _refused(meta, cat, monkeypatch, extra)
    assert "dimension Sukupuoli (2 values) was not asked for" in err


def test_a_subset_of_the_asked_values_is_accepted(meta, cat, monkeypatch):
    """The documented exception: a server may leave out values (here every region but three)."""
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, TABLE, meta, fine)

        def fewer(rec: httpfake.Recorded) -> httpfake.Reply:
            sel = pxweb_fake.selection_of(rec)
            sel["Alue"] = ["SSS", "KU178", "KU851"]
            return httpfake.Reply(json=pxweb_fake.dataset(sel, fine))

        srv.route("POST", path, fewer)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        [res] = refresh.refresh(cat=cat, **FAST).results
    assert res.origin == "live"
    assert sorted(res.frame["kunta"].unique()) == ["178", "851", "SSS"]


def test_check_answer_reads_no_more_than_the_header():
    sel = {"Alue": ["KU178"], "Vuosi": ["2024"]}
    doc = pxweb_fake.dataset(sel, lambda c: 1.0)
    pxweb.check_answer(doc, sel, what="t")  # the answer to its query passes
    doc["value"] = [1.0, 2.0]
    with pytest.raises(pxweb.AnswerMismatch, match="it has 2 cells, its size says 1"):
        pxweb.check_answer(doc, sel, what="t")
    with pytest.raises(pxweb.AnswerMismatch, match="variable.s. asked for are missing: Tiedot"):
        pxweb.check_answer(pxweb_fake.dataset(sel, lambda c: 1.0), {**sel, "Tiedot": ["M1"]},
                           what="t")


# -- ?config ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("config_doc", "said"), [
    ({"maxValues": 120000, "maxCalls": 0, "timeWindow": 10}, "maxCalls 0 (must be at least 1)"),
    ({"maxValues": 120000, "maxCalls": 1, "timeWindow": 1e9},
     "timeWindow 1e+09 s (must be above 0 and at most 3600 s)"),
    ({"maxValues": "lots", "maxCalls": 30, "timeWindow": 10}, "maxValues 'lots' is not a number"),
])
def test_unusable_config_is_said_not_cached_and_asked_again(meta, monkeypatch, capsys,
                                                            config_doc, said):
    with httpfake.FakeServer() as srv:
        path = pxweb_fake.serve(srv, TABLE, meta, lambda c: 7.5, limits=config_doc)
        monkeypatch.setenv("USO_PXWEB_URL", srv.url + pxweb_fake.BASE)
        rc = main(["data", "refresh", "--indicators", "tyottomyysaste"])
        out, err = capsys.readouterr()
        assert rc == 0 and "Traceback" not in err + out
        assert said in out and "states unusable limits" in out
        assert "documented limits instead (40 calls per 60 s, 120000 cells per query)" in out
        assert Store("local").get("tyottomyysaste", "178", 2024).value == 7.5
        rc = main(["data", "refresh", "--indicators", "tyottomyysaste"])
        out2 = capsys.readouterr().out
        config_calls = [r for r in srv.requests if r.query == "config"]
        assert rc == 0 and len(config_calls) == 2  # asked again: it was not cached
        assert said in out2
        assert len(srv.calls("POST", path)) == 1  # the good data answer was cached


def test_limits_from_config():
    lim = pxweb.Limits.from_config({"maxValues": 120000, "maxCells": 100000, "maxCalls": 40,
                                    "timeWindow": 60})
    assert (lim.cell_limit, lim.max_calls, lim.time_window, lim.observed) == \
        (100000, 40, 60.0, True)
    with pytest.raises(ValueError, match="maxCells 0 .must be at least 1.; timeWindow -5 s"):
        pxweb.Limits.from_config({"maxCells": 0, "timeWindow": -5})
    with pytest.raises(ValueError, match="expected an object"):
        pxweb.Limits.from_config([40])
    with pytest.raises(ValueError, match="maxCalls True is not a number"):
        pxweb.Limits.from_config({"maxCalls": True})
    assert catalog.catalog().get("tyottomyysaste").live.content == "M162"
