"""The crisis-municipality assessment (kuntalaki 118 §) on the real embedded snapshot: Juva's
group loan stock 2020 = 5 859,2 €/as. against 1,5 × the country's 7 453,8 €/as., its relative
indebtedness 2020 = 54 %, its income-tax rate 2026 = 9,1 % (Verohallinto)."""

from __future__ import annotations

import pytest
import yaml

from uso_lib import crisis
from uso_lib.errors import DataError


def _by_id(a: crisis.Assessment) -> dict[str, crisis.CriterionResult]:
    return {r.criterion.id: r for r in a.results}


def test_current_rule_is_the_2019_amendment_with_its_thresholds():
    rs = crisis.rules()
    cur = rs.current()
    assert rs.law == "Kuntalaki (410/2015) 118 §"
    assert cur.rule_year == 2019 and "175/2019" in cur.label and cur.accounts_from == 2021
    crit = {c.id: c for c in cur.criteria}
    assert crit["tuloveroprosentti"].reference.offset == 2.0
    assert crit["konsernin_lainat_ja_vuokravastuut"].reference.factor == 1.5
    assert crit["konsernin_vuosikate_poistoista"].threshold == 80
    assert crit["lainanhoitokate"].threshold == 0.8
    assert crit["konsernin_kertynyt_alijaama"].thresholds == [500, 1000]
    # the pairs of accounts up to 2019-2020 were assessed under the original text
    old = rs.for_year(2020)
    assert old.rule_year == 2015
    assert {c.id: c for c in old.criteria}["tuloveroprosentti"].reference.offset == 1.0
    assert rs.for_year(2021) is cur


def test_juva_group_loans_against_the_country_figure(store):
    res = _by_id(crisis.assess("178", store=store))["konsernin_lainat_ja_vuokravastuut"]
    last = res.checks[-1]
    assert (last.year, last.value, last.reference_value) == (2020, 5859.2, 7453.8)
    assert last.limit == pytest.approx(1.5 * 7453.8)
    assert last.met is False and res.status == "not_met"
    assert "Kuntien avainluvut" in last.source and "koko maa" in last.reference_source
    assert any("vuokravastuita" in n for n in res.notes)  # the approximation is said
    # 2020's accounts were assessed under the original text: said, not hidden
    assert any("410/2015" in n and "2020" in n for n in res.notes)


def test_tax_rate_without_the_country_average_says_how_to_get_it(store):
    a = crisis.assess("178", store=store)
    res = _by_id(a)["tuloveroprosentti"]
    assert res.status == "no_data"
    last = res.checks[-1]
    assert (last.year, last.value, last.limit) == (2026, 9.1, None)
    text = " ".join(res.notes)
    assert "koko maan luku 2026" in text and "uso data import" in text and "SSS" in text
    # all four key figures are needed: one not met settles that route
    assert a.route_status("tunnusluvut") == "not_met"
    assert a.route_status("alijaama") == "no_data"
    assert "118 §" in a.citation and "175/2019" in a.citation


def test_criteria_without_an_indicator_say_what_is_missing(store):
    res = _by_id(crisis.assess("178", store=store))
    for cid in ("alijaama_kattamatta", "konsernin_kertynyt_alijaama", "lainanhoitokate",
                "konsernin_vuosikate_poistoista"):
        assert res[cid].status == "no_data" and res[cid].checks == []
        assert "luettelossa" in res[cid].notes[0] or "tilinpäätöksestä" in res[cid].notes[0]


def test_old_rule_for_2020_accounts_one_year_short(store):
    a = crisis.assess("178", store=store, accounts_year=2020)
    assert a.version.rule_year == 2015
    res = _by_id(a)["suhteellinen_velkaantuneisuus"]
    assert [(c.year, c.value, c.met) for c in res.checks] == [(2019, None, None),
                                                              (2020, 54.0, True)]
    assert res.status == "no_data" and "kunnan luku 2019" in res.notes[0]
    # the same figure meets a one-year criterion: the comparison itself
    one_year = res.criterion.model_copy(update={"years": 1})
    assert crisis.assess_criterion(one_year, "178", store, 2020).status == "met"


def test_a_criterion_naming_an_unknown_indicator_is_refused(tmp_path):
    data = yaml.safe_load(crisis.RULES_FILE.read_text(encoding="utf-8"))
    data["versions"][0]["criteria"][3]["indicators"] = ["tuloveroprosenti"]
    bad = tmp_path / "kriisikunta.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DataError, match="kriisikunta.yaml.*tuloveroprosentti.*tuloveroprosenti"):
        crisis.rules(bad)
