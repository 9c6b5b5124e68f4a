"""The municipality registry: real 2023 classification, look-ups, mergers."""

from __future__ import annotations

import csv

import pytest

from uso_lib import regions
from uso_lib.errors import InvalidCode, MergedMunicipality, UnknownMunicipality


@pytest.fixture(scope="module")
def reg():
    return regions.registry(2023)


def test_division_2023_has_309_municipalities(reg):
    assert len(reg) == 309
    assert all(len(c) == 3 and c.isdigit() for c in reg.codes())


def test_juva_attributes(reg):
    juva = reg.get("178")
    assert juva.name_fi == "Juva"
    assert juva.maakunta == "Etelä-Savo" and juva.maakunta_code == "10"
    assert juva.seutukunta == "Pieksämäki" and juva.seutukunta_code == "105"
    assert juva.hyvinvointialue_code == "12"
    assert juva.kuntaryhmitys_code == "3"
    assert juva.file_stem == "178-juva"


@pytest.mark.parametrize("query, name", [
    ("178", "Juva"), ("KU178", "Juva"), ("ku178", "Juva"), (178, "Juva"), (91, "Helsinki"),
    ("jamsa", "Jämsä"), ("JÄMSÄ", "Jämsä"), ("Jakobstad", "Pietarsaari"),
    ("Helsingfors", "Helsinki"), ("mantta vilppula", "Mänttä-Vilppula"), ("  Juva ", "Juva"),
    ("Kuhmo", "Kuhmo"), ("kuopio", "Kuopio"),
])
def test_lookup_forms(reg, query, name):
    assert reg.get(query).name_fi == name


def test_unknown_name_suggests_closest(reg):
    with pytest.raises(UnknownMunicipality) as exc:
        reg.get("Juvaa")
    assert exc.value.suggestions[0] == "Juva"
    assert "Did you mean: Juva" in str(exc.value)


@pytest.mark.parametrize("bad", ["17", "KU1780", "1780", "KU"])
def test_code_of_wrong_form(reg, bad):
    with pytest.raises(InvalidCode, match="three digits"):
        reg.get(bad)


def test_merged_municipality_points_to_successor(reg):
    with pytest.raises(MergedMunicipality) as exc:
        reg.get("Honkajoki")
    assert exc.value.new_code == "214" and "Kankaanpää" in str(exc.value)
    assert "1.1.2021" in str(exc.value)
    with pytest.raises(MergedMunicipality):
        reg.get("099")


def test_pertunmaa_exists_in_2023_but_not_2025():
    assert regions.registry(2023).get("Pertunmaa").code == "588"
    with pytest.raises(MergedMunicipality, match="Mäntyharju"):
        regions.registry(2025).get("Pertunmaa")
    assert len(regions.registry(2025)) == 308


def test_map_code_follows_mergers(reg):
    assert reg.map_code("099", 2020) == "214"
    assert reg.map_code("911", 2019) == "541"  # Valtimo -> Nurmes (2020)
    assert reg.map_code("178", 2017) == "178"
    assert reg.map_code("588", 2024) == "588"  # the 2025 merger is after the 2023 division
    assert reg.map_code("999", 2023) is None


def test_groups(reg):
    assert len({m.maakunta_code for m in reg}) == 19
    assert len({m.seutukunta_code for m in reg}) == 69
    etela_savo = reg.in_group("maakunta", "10")
    assert "Juva" in {m.name_fi for m in etela_savo}
    counts = {k: len(reg.in_group("kuntaryhmitys", k)) for k in ("1", "2", "3")}
    assert counts == {"1": 59, "2": 63, "3": 187}


def test_merger_list_matches_classification_history(raw_dir):
    """Every code that disappears between two yearly keys is in mergers.yaml, and only those."""
    by_year: dict[int, set[str]] = {}
    with open(raw_dir / "geo" / "municipality_key.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_year.setdefault(int(row["year"]), set()).add(row["kunta"].zfill(3))
    years = sorted(by_year)
    pairs = zip(years, years[1:], strict=False)
    vanished = {(b, c) for a, b in pairs for c in by_year[a] - by_year[b]}
    listed = {(m.year, m.code) for m in regions.mergers()}
    assert listed == vanished
    for m in regions.mergers():  # the successor exists in the year of the merger
        assert m.into in by_year[m.year]


def test_slug_is_safe():
    assert regions.slugify("../../etc/passwd") == "etc-passwd"
    assert regions.slugify("Mänttä-Vilppula") == "mantta-vilppula"
    assert regions.slugify("<script>") == "script"
