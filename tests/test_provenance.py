"""uso_lib.provenance: one wording of a figure's source and years, wherever it is shown."""

from __future__ import annotations

import math

import pandas as pd

from uso_lib import provenance as pv


def test_source_text_names_the_table_once():
    assert pv.source_text("Tilastokeskus, StatFin", "11re", 2021) == \
        "Tilastokeskus, StatFin, 11re, 2021"
    assert pv.source_text("Tilastokeskus, StatFin 11re", "StatFin 11re") == \
        "Tilastokeskus, StatFin 11re"
    assert pv.source_text("THL, Sotkanet", "indikaattori 3113") == \
        "THL, Sotkanet, indikaattori 3113"
    assert pv.source_text("", "hyte.csv", None) == "hyte.csv"


def test_year_span_has_one_format():
    assert pv.year_span([]) == ""
    assert pv.year_span([2021, 2021]) == "2021"
    assert pv.year_span([2023, 2019, 2020, 2021, 2022]) == "2019–2023"
    assert pv.year_span([2015, 2019, 2017]) == "2015, 2017, 2019"
    assert pv.year_span([2000, 2005, 2010, 2015, 2020]) == "2000–2020 (osa vuosista)"


def test_sources_with_years_groups_by_source_and_skips_missing_years():
    rows = pd.DataFrame({"source": ["Tilastokeskus, StatFin", "THL, Sotkanet",
                                    "Tilastokeskus, StatFin", "THL, Sotkanet"],
                         "table": ["11re", "indikaattori 3113", "11re", "indikaattori 3113"],
                         "year": [2022, 2021, 2023, math.nan]})
    parts = pv.sources_with_years(rows["source"], rows["table"], rows["year"])
    assert parts == ["THL, Sotkanet, indikaattori 3113 (2021)",
                     "Tilastokeskus, StatFin, 11re (2022–2023)"]
    assert pv.source_line(parts) == ("Lähde: THL, Sotkanet, indikaattori 3113 (2021); "
                                     "Tilastokeskus, StatFin, 11re (2022–2023)")


def test_source_line_keeps_a_written_line_and_drops_repeats():
    assert pv.source_line(["MML", " MML ", "", "Tilastokeskus"]) == "Lähde: MML; Tilastokeskus"
    assert pv.source_line("Lähteet: MML ja Tilastokeskus") == "Lähteet: MML ja Tilastokeskus"
    assert pv.source_line([]) == ""
