"""Finnish number formatting (Babel fi_FI)."""

from __future__ import annotations

import math

from uso_lib import fmt

NB = "\u00a0"


def test_brochure_figures():
    assert fmt.with_unit(19.7, "€", 1) == f"19,7{NB}€"
    assert fmt.number(5887) == f"5{NB}887"
    assert fmt.percent(11.1) == f"11,1{NB}%"
    # the brochure's group mean: the ten HYTE-€ values average 17.13 -> "17,1 €"
    vals = [19.7, 19.2, 18.7, 18.5, 17.0, 17.0, 16.8, 16.6, 16.4, 11.4]
    assert fmt.euro(sum(vals) / len(vals), 1) == f"17,1{NB}€"


def test_large_and_negative_numbers():
    assert fmt.number(664028) == f"664{NB}028"
    assert fmt.number(-14) == "\u221214"
    assert fmt.number(-0.04, 1) == "0,0"


def test_rounds_half_away_from_zero():
    assert fmt.number(3.25, 1) == "3,3"
    assert fmt.number(895.25, 1) == "895,3"


def test_missing_is_shown_as_missing_not_zero():
    assert fmt.number(float("nan")) == "–"
    assert fmt.number(None) == "–"
    assert fmt.with_unit(math.nan, "%", 1, missing="ei tietoa") == "ei tietoa"


def test_signed_change():
    assert fmt.change_pct(2.345) == f"+2,3{NB}%"
    assert fmt.change_pct(-4.06) == f"\u22124,1{NB}%"
