"""Births, deaths, natural increase and migration per 1 000 residents (``*_1000as``): the
vital counts of :mod:`uso_lib.snapshot.vital` over the population 31.12. of the same year
(:mod:`uso_lib.snapshot.population`), so that municipalities of different size can be compared.

The whole country's rate is the country's count over the country's population (both published
or summed over every municipality), never a mean of municipal rates. Each row's source names
the numerator and the denominator with their tables and year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from uso_lib.snapshot import _statfin, population, vital

RAW_FILES = sorted(set(vital.RAW_FILES) | set(population.RAW_FILES))

# count indicator -> (rate indicator, the count's Finnish name in the source line)
RATES = {
    "syntyneet": ("syntyneet_1000as", "elävänä syntyneet"),
    "kuolleet": ("kuolleet_1000as", "kuolleet"),
    "luonnollinen_vaestonlisays": ("luonnollinen_vaestonlisays_1000as",
                                   "luonnollinen väestönlisäys"),
    "tulomuutto": ("tulomuutto_1000as", "kuntien välinen tulomuutto"),
    "lahtomuutto": ("lahtomuutto_1000as", "kuntien välinen lähtömuutto"),
    "nettomuutto": ("nettomuutto_1000as", "kuntien välinen nettomuutto"),
    "maahanmuutto": ("maahanmuutto_1000as", "maahanmuutto"),
    "maastamuutto": ("maastamuutto_1000as", "maastamuutto"),
    "nettomaahanmuutto": ("nettomaahanmuutto_1000as", "nettomaahanmuutto"),
}


def _table_text(source: str, table: str) -> str:
    return source if table in source else f"{source}, {table}"


def rates(counts: pd.DataFrame, pop: pd.DataFrame) -> pd.DataFrame:
    """``counts`` (store rows of the vital counts) per 1 000 of ``pop`` (the vaesto frame)."""
    p = pop.rename(columns={"value": "pop", "status": "pop_status", "source": "pop_source",
                            "table": "pop_table", "vintage": "pop_vintage"})
    df = counts[counts["indicator"].isin(RATES) & (counts["category"] == "")].merge(
        p[["kunta", "year", "pop", "pop_status", "pop_source", "pop_table", "pop_vintage"]],
        on=["kunta", "year"], how="inner")
    df["rate"] = (df["value"] / df["pop"] * 1000.0).round(4)
    df["status"] = df["status"].where(df["status"] != "", df["pop_status"]).fillna("")
    df["status"] = df["status"].where(df["rate"].isna(), "")
    name = df["indicator"].map(lambda i: RATES[i][1])
    # no year in the text: the report's source line adds the years it shows, and a text per
    # year would repeat the whole line for every year of a chart
    df["source"] = ("Laskettu: " + name + " (" + [_table_text(s, t) for s, t in
                                                  zip(df["source"], df["table"], strict=True)]
                    + ") / väkiluku 31.12. samalta vuodelta ("
                    + [_table_text(s, t) for s, t in zip(df["pop_source"], df["pop_table"],
                                                          strict=True)]
                    + ") × 1 000")
    df["table"] = df["table"] + " / " + df["pop_table"]
    df["vintage"] = df[["vintage", "pop_vintage"]].max(axis=1)
    parts = []
    for count, grp in df.groupby("indicator"):
        parts.append(_statfin.provenance_rows(RATES[count][0],
                                              grp[["kunta", "year", "rate", "status", "source",
                                                   "table", "vintage"]], value="rate"))
    return pd.concat(parts, ignore_index=True)


def build(raw: Path) -> pd.DataFrame:
    return rates(vital.build(raw), population.population(raw))
