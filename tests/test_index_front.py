"""index.html as the network's front page (#17): the members on a map, their headline figures
side by side in a table sortable without a server and without a script (one copy of the rows
per order, headers are labels of radio buttons shown by CSS), data years, links."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from uso_lib.report import index

MEMBERS = {"178-juva": ("178", "Juva"), "851-tornio": ("851", "Tornio"),
           "153-imatra": ("153", "Imatra")}


def _write(tmp_path):
    reports = {}
    for key, (code, name) in MEMBERS.items():
        (tmp_path / f"{key}.html").write_text("<html></html>", encoding="utf-8")
        reports[key] = {"kunta": code, "name": name, "status": "ok", "file": f"{key}.html",
                        "appendix": [f"{key}-liite.csv"], "rendered": "2026-12-04T12:00:00Z"}
    assert index.write_index(tmp_path, {"reports": reports}) == []
    return BeautifulSoup((tmp_path / "index.html").read_text(encoding="utf-8"), "html.parser")


def test_front_page_map_sortable_table_and_links(tmp_path):
    soup = _write(tmp_path)
    assert soup.find_all("script") == []
    fig = soup.find(id="kartta").find_next("figure")
    assert fig.find("img")["src"].startswith("data:image/png;base64,")
    cap = fig.find("figcaption").get_text()
    assert cap.startswith("Lähde: Tilastokeskus") and "(2025)" in cap and "MML" in cap
    tables = soup.select("div.uso-sortable > table")
    assert [t["class"][1] for t in tables] == ["sort-nimi", "sort-vaesto", "sort-muutos",
                                               "sort-tyottomyys"]
    radios = soup.select("div.uso-sortable > input.sort-radio")
    assert [r["id"] for r in radios] == ["jarj-nimi", "jarj-vaesto", "jarj-muutos",
                                         "jarj-tyottomyys"]
    assert radios[0].has_attr("checked")
    # every header that sorts is a label of its radio button
    assert [lab["for"] for lab in tables[0].find("thead").find_all("label")] == \
        [r["id"] for r in radios]

    def names(t):
        return [tr.find("a").get_text() for tr in t.find("tbody").find_all("tr")]

    assert names(tables[0]) == ["Imatra", "Juva", "Tornio"]
    # population 2025 (Kuntien avainluvut): Imatra 24 345 > Tornio 20 823 > Juva 5 569
    assert names(tables[1]) == ["Imatra", "Tornio", "Juva"]
    pops = [tr.find_all("td")[1].get_text() for tr in tables[1].find("tbody").find_all("tr")]
    assert pops == ["24\u00a0345", "20\u00a0823", "5\u00a0569"]
    links = {a["href"] for a in soup.find_all("a", href=True)}
    assert {"178-juva.html", "178-juva-liite.csv", "851-tornio.html"} <= links
    # the data's years per report
    assert re.fullmatch(r"\d{4}–\d{4}", tables[0].find("tbody").find_all("td")[4].get_text())
