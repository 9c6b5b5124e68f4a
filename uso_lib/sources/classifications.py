"""Statistics Finland's classification service: which maakunta, seutukunta and wellbeing
services county each municipality belonged to in a given year.

Peer groups and regional averages must use the key of the data's year (municipalities change
region: Kuhmoinen, Joroinen, Heinola and Iitti did in 2021). The service publishes one
correspondence table per pair and year, ``kunta_1_YYYY0101#maakunta_1_YYYY0101``. An answer
that cannot be used is forgotten by the HTTP cache (:meth:`HttpClient.discard`), so the next call
asks the service again.
"""

from __future__ import annotations

import pandas as pd

from uso_lib import config
from uso_lib.errors import SourceError
from uso_lib.sources.http import HttpClient

LEVELS = ("maakunta", "seutukunta", "hyvinvointialue")


def classification_id(name: str, year: int) -> str:
    return f"{name}_1_{int(year)}0101"


def maps_path(source: str, target: str, year: int) -> str:
    # '#' joins the two classification ids and must travel encoded
    return (f"correspondenceTables/{classification_id(source, year)}%23"
            f"{classification_id(target, year)}/maps")


def _name(item: dict, lang: str) -> str:
    names = item.get("classificationItemNames") or []
    for n in names:
        if n.get("lang") == lang:
            return str(n.get("name", ""))
    return str(names[0].get("name", "")) if names else ""


def _code(pair: dict, side: str) -> str | None:
    item = pair.get(f"{side}Item") or {}
    code = item.get("code")
    if code is None and pair.get(f"{side}LocalId"):  # the light form: ".../kunta_1_2023/005"
        code = str(pair[f"{side}LocalId"]).rsplit("/", 1)[-1]
    return None if code is None else str(code)


def correspondence(target: str, year: int, *, source: str = "kunta", lang: str = "fi",
                   client: HttpClient | None = None) -> pd.DataFrame:
    """Rows ``source_code, source_name, target_code, target_name`` for one year."""
    client = client or HttpClient("Classification service", config.url("USO_CLASSIFICATION_URL"))
    what = f"classification {classification_id(source, year)} -> {classification_id(target, year)}"
    fetched = client.get(maps_path(source, target, year),
                         params={"content": "data", "meta": "min", "lang": lang}, what=what)
    doc = fetched.json()
    if not isinstance(doc, list) or not doc:
        raise SourceError(f"{what}: expected a non-empty list of pairs.",
                          hint=f"Is there a {target} classification for 1.1.{year}? "
                               + client.discard(fetched))
    rows = []
    for pair in doc:
        s, t = (_code(pair, "source"), _code(pair, "target")) if isinstance(pair, dict) else (
            None, None)
        if s is None or t is None:
            raise SourceError(f"{what}: a pair lacks its codes: {str(pair)[:120]}",
                              hint=client.discard(fetched))
        rows.append({"source_code": s, "source_name": _name(pair.get("sourceItem") or {}, lang),
                     "target_code": t, "target_name": _name(pair.get("targetItem") or {}, lang)})
    df = pd.DataFrame(rows)
    if source == "kunta":
        df["source_code"] = df["source_code"].str.zfill(3)
        dup = sorted(set(df.loc[df["source_code"].duplicated(), "source_code"]))
        if dup:  # a municipality belongs to one area of each level
            raise SourceError(f"{what}: municipalities {dup[:10]} are in two {target} areas.",
                              hint=client.discard(fetched))
    return df.sort_values("source_code").reset_index(drop=True)


def municipality_key(year: int, *, levels: tuple[str, ...] = LEVELS, lang: str = "fi",
                     client: HttpClient | None = None) -> pd.DataFrame:
    """One row per municipality of ``year``: ``kunta``, ``nimi`` and, per level,
    ``<level>_code`` and ``<level>``."""
    client = client or HttpClient("Classification service", config.url("USO_CLASSIFICATION_URL"))
    key: pd.DataFrame | None = None
    for level in levels:
        df = correspondence(level, year, lang=lang, client=client).rename(columns={
            "source_code": "kunta", "source_name": "nimi", "target_code": f"{level}_code",
            "target_name": level})
        if df["kunta"].duplicated().any():
            dup = sorted(df.loc[df["kunta"].duplicated(), "kunta"])
            raise SourceError(f"classification {year}: municipalities {dup} are in two "
                              f"{level} areas.")
        key = df if key is None else key.merge(df.drop(columns="nimi"), on="kunta",
                                               how="outer", validate="1:1")
    return key.sort_values("kunta").reset_index(drop=True)
