"""The brochure's own comparison, reproduced: its HYTE-€ and HYTE-kerroin 2020 table (Iisalmi and
nine comparison municipalities) imported through the spreadsheet importer, then `uso compare`
prints the brochure's group average "Vrt. kunnat ka." -- the mean of all ten municipalities of
the ranking, Iisalmi included: 17,1 € and 63 (the peers alone: 16,8 € and 62, labelled so).

The figures are the client's published table: Kuntaliitto / USO-verkosto, "Mikä USO-verkostossa
on niin mahtavaa" (../shared/spec/000_1e29fe96c1cbf6fb.txt), slide "HYTE-€, HYTE-kerroin, Vrt.
kunnat 2020"."""

from __future__ import annotations

import json

import pytest

from uso_lib.cli import main

NBSP = "\u00a0"
SOURCE = "Kuntaliitto, USO-verkoston esite: HYTE-€ ja HYTE-kerroin, vrt. kunnat 2020"
HYTE_EUR = {"Iisalmi": "19,7", "Kokkola": "19,2", "Oulu": "18,7", "Raisio": "18,5",
            "Kemi": "17,0", "Riihimäki": "17,0", "Rovaniemi": "16,8", "Tornio": "16,6",
            "Kuusamo": "16,4", "Raahe": "11,4"}
HYTE_KERROIN = {"Iisalmi": 72, "Kokkola": 70, "Raisio": 68, "Oulu": 68, "Kemi": 63,
                "Rovaniemi": 62, "Riihimäki": 62, "Tornio": 61, "Kuusamo": 60, "Raahe": 42}
PEERS = "Kokkola,Oulu,Raisio,Kemi,Riihimäki,Rovaniemi,Tornio,Kuusamo,Raahe"


@pytest.fixture
def imported(tmp_path, capsys):
    rows = ["kunta;vuosi;arvo;indikaattori;lahde;kategoria;tila"]
    rows += [f"{k};2020;{v};hyte_eur_as;{SOURCE};;" for k, v in HYTE_EUR.items()]
    rows += [f"{k};2020;{v};hyte_kerroin;{SOURCE};;" for k, v in HYTE_KERROIN.items()]
    path = tmp_path / "uso-esite-hyte-2020.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["data", "import", str(path)]) == 0
    assert "Imported 20 row(s)" in capsys.readouterr().out
    return path


def _compare(indicator: str, *extra: str) -> list:
    return ["compare", "Iisalmi", "--peers", PEERS, "--indicator", indicator, "--year", "2020",
            "--network", "none", *extra]


def test_hyte_eur_group_average_as_in_the_brochure(imported, capsys):
    assert main(_compare("hyte_eur_as")) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "Vrt. kunnat ka." in ln and "€" in ln)
    assert f"17,1{NBSP}€" in line
    peers_only = next(ln for ln in out.splitlines() if "ilman kuntaa Iisalmi" in ln)
    assert f"16,8{NBSP}€" in peers_only
    # Iisalmi first, Raahe last, as on the slide
    ranked = [ln for ln in out.splitlines() if "»" in ln]
    assert ranked and ranked[0].split()[0] == "1"
    assert "uso-esite-hyte-2020.csv" in out or "USO-verkoston esite" in out  # its source


def test_hyte_kerroin_group_average_as_in_the_brochure(imported, capsys):
    assert main(_compare("hyte_kerroin")) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "Vrt. kunnat ka." in ln
                and "ilman" not in ln and ln.strip().startswith("Vrt."))
    assert line.split()[-2:] == ["63", "pistettä"]
    peers_only = next(ln for ln in out.splitlines() if "ilman kuntaa Iisalmi" in ln)
    assert peers_only.split()[-2:] == ["62", "pistettä"]
    assert main(_compare("hyte_kerroin", "--json")) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["ranking_mean"] == pytest.approx(62.8)
    assert got["peer_mean"] == pytest.approx(556 / 9)  # 61,8: printed as 62
    assert [r["name"] for r in got["ranking"]][0] == "Iisalmi"


def test_whole_picture_uses_the_same_convention_and_national_figures(capsys):
    """`uso compare Juva` without --indicator: 'vrt. kunnat ka.' is the mean of Juva and its
    peers, 'koko maa' the country's own figure (births 2022: 44 951, not a mean)."""
    assert main(["compare", "Juva", "--peers", "Kuhmoinen,Rautalampi", "--network", "none",
                 "--source", "snapshot"]) == 0
    out = capsys.readouterr().out
    head = next(ln for ln in out.splitlines() if ln.startswith("indikaattori"))
    assert "vrt. kunnat ka." in head and "koko maa" in head and "kuntien ka." in head
    births = next(ln for ln in out.splitlines() if ln.startswith("Elävänä syntyneet  "))
    assert f"44{NBSP}951" in births
    # the count itself is not ranked among municipalities of other sizes; its rate is
    assert births.split()[2:6] == ["2022", "28", "–", "–"]  # no peers' or network mean
    rate = next(ln for ln in out.splitlines() if ln.startswith("Elävänä syntyneet / 1 000"))
    assert rate.split()[-2:] == ["2/3", "matalampi"]
    unemployment = next(ln for ln in out.splitlines()
                        if ln.startswith("Työttömien osuus työvoimasta (työssäkäyntitilasto)"))
    # (11,1 + 12,0 + 14,0) / 3 = 12,4 (Juva, Rautalampi, Kuhmoinen 2020); the country 13,3
    assert f"12,4{NBSP}%" in unemployment and f"13,3{NBSP}%" in unemployment
