"""tutustu.ipynb's controls (uso_lib.report.widgets): every change redraws the panels with the
real figures, and the comparison municipalities follow the municipality. The widgets run
without a browser: their values are set here as a consultant's clicks would set them."""

from __future__ import annotations

import pytest

from uso_lib import catalog
from uso_lib.errors import UnknownMunicipality, UsoError
from uso_lib.report import widgets as ui

NBSP = "\u00a0"


def test_choices_are_the_registry_and_the_catalogue_by_theme():
    names = ui.municipality_names()
    assert len(names) == 309 and names[0] == "Akaa"
    assert names[-2:] == ["Ähtäri", "Äänekoski"]  # Finnish order: å, ä, ö after z
    assert names.index("Vöyri") < names.index("Ylitornio") < names.index("Ähtäri")
    cat = catalog.catalog()
    assert [t for _, t in ui.themes()] == [t.id for t in cat.themes]
    for _, theme in ui.themes():
        assert {i for _, i in ui.indicators_of(theme)} == {
            i.id for i in cat.indicators if i.theme == theme}


@pytest.mark.slow
def test_explorer_redraws_on_every_change():
    ex = ui.build("Tornio", "tyottomyysaste")
    assert ex.redraws == 1 and ex.kunta.value == "Tornio"
    # the suggested peers are pre-filled, and the report compares with them
    assert len(ex.peers.value) == 9
    assert [p.name_fi for p in ex.report.peers] == list(ex.peers.value)
    assert "Tornio (851)" in ex.status.value
    assert f"12,3{NBSP}%" in ex.description.value  # Tornio's unemployment rate 2020
    assert ex.panels["ranking"].value.count("data:image/png;base64,") == 1
    assert ex.panels["map"].value.count("data:image/png;base64,") == 2
    assert "Etäisyys" in ex.panels["peers"].value
    # years: the latest, then every year the store has for the indicator, newest first
    years = [v for _, v in ex.year.options]
    assert years[:3] == [ui.LATEST, 2020, 2019]

    # a half-typed name changes nothing; a full one redraws with that municipality's peers
    ex.kunta.value = "Juv"
    assert ex.redraws == 1
    ex.kunta.value = "Juva"
    assert ex.redraws == 2 and ex.report.kunta.code == "178"
    assert "Kemiönsaari" in ex.peers.value and "Tornio" not in ex.peers.value
    assert f"11,1{NBSP}%" in ex.description.value  # Juva 2020

    # another theme: its indicators, the first one chosen, its years
    ex.theme.value = "talous"
    assert ex.redraws == 3
    assert ex.indicator.value == ui.indicators_of("talous")[0][1]
    assert {v for _, v in ex.indicator.options} == {
        i.id for i in catalog.catalog().indicators if i.theme == "talous"}

    ex.indicator.value = "lainakanta_eur_as"
    assert ex.redraws == 4 and "Lainakanta" in ex.description.value
    ex.year.value = 2019
    assert ex.redraws == 5 and ex.report.year == 2019
    assert "(2019)" in ex.description.value

    # the consultant's own comparison municipalities
    ex.peers.value = ["Kuhmo", "Sotkamo"]
    assert ex.redraws == 6 and [p.name_fi for p in ex.report.peers] == ["Kuhmo", "Sotkamo"]
    assert "Vertailukunnat: Kuhmo, Sotkamo" in ex.status.value


def test_a_misspelt_start_names_the_closest_municipalities():
    with pytest.raises(UnknownMunicipality) as err:
        ui.build("Tornoi")
    assert "Tornio" in str(err.value)
    with pytest.raises(UsoError):
        ui.build("Tornio", "no_such_indicator")
