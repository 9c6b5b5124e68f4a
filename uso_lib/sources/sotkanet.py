"""THL Sotkanet REST API 1.1: indicator catalogue and metadata, regions, and data.

Quirks handled here (see docs/API-NOTES.md):

- one indicator per data call, and each year as its own ``years=`` parameter (a comma list
  answers 400);
- some indicators return nothing for ``genders=total`` alone: then all genders are asked for
  and the total (or the only gender published) is kept;
- data rows name Sotkanet's own region id, not the municipality code: ids are mapped through
  ``regions`` (category ``KUNTA``, whose codes must be three characters; ``MAA`` is the whole
  country);
- the default python-requests User-Agent has been refused: the client sends uso's own.

An answer is checked against its query before anything of it is used (:func:`check_answer`):
another indicator, a year or gender not asked for, a row repeated, or more rows than regions x
years x genders, and the whole answer is refused and forgotten by the HTTP cache.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import NoReturn

import pandas as pd

from uso_lib import config
from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources.common import COUNTRY, IndicatorResult, PlannedRequest, map_regions
from uso_lib.sources.http import Fetched, HttpClient

SOURCE = "THL Sotkanet"
DATA_COLUMNS = ["indicator", "region", "year", "gender", "value", "abs_value"]
KEY = ["indicator", "region", "year", "gender"]
GENDERS = ("male", "female", "total")
FIRST_YEAR = 1900  # Sotkanet's series start in the 1990s; earlier is a broken range
PROJECTION_YEARS = 30  # a few indicators are projections; further out is a broken range


def region_codes(regions: list[dict]) -> tuple[dict[int, str], list[str]]:
    """Sotkanet region id -> municipality code (``"151"``) or ``"SSS"`` for the whole country.

    Only ``KUNTA`` regions with a three-character numeric code are municipalities; anything
    else is reported, never guessed (a two-digit maakunta code must not become a kunta).
    """
    out: dict[int, str] = {}
    bad: list[str] = []
    for r in regions:
        cat, code = str(r.get("category", "")).upper(), str(r.get("code", ""))
        try:
            rid = int(r["id"])
        except (KeyError, TypeError, ValueError):
            continue
        if cat == "KUNTA":
            if len(code) == 3 and code.isdigit():
                out[rid] = code
            else:
                bad.append(f"{rid}:{code!r}")
        elif cat == "MAA":
            out[rid] = COUNTRY
    notes = [f"Sotkanet regions: {len(bad)} KUNTA code(s) are not three digits and were "
             f"ignored: {', '.join(bad[:10])}"] if bad else []
    return out, notes


def years_of(meta: dict) -> list[int]:
    """The years an indicator has data for, from its metadata's ``range``."""
    rng = meta.get("range") or {}
    try:
        start, end = int(rng["start"]), int(rng["end"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"Sotkanet indicator {meta.get('id', '?')}: its metadata has no "
                          f"year range ({exc}).") from exc
    last = date.today().year + PROJECTION_YEARS
    if not FIRST_YEAR <= start <= end <= last:
        raise SourceError(f"Sotkanet indicator {meta.get('id', '?')}: its metadata gives the "
                          f"year range {start}-{end}, which is not within {FIRST_YEAR}-{last}; "
                          "refused.")
    return list(range(start, end + 1))


def check_answer(df: pd.DataFrame, *, indicator: int, years: list[int], gender: str | None,
                 regions: int, what: str) -> None:
    """Refuse data rows that are not what was asked for, before any of them is used.

    Why: a broken or hostile answer (two million repeated rows, years never asked for) would
    otherwise be stored whole or silently collapsed into plausible-looking figures.
    """
    problems = []
    other = sorted(set(df["indicator"]) - {int(indicator)})
    if other:
        problems.append(f"rows of other indicators ({_few(other)})")
    outside = sorted(set(df["year"]) - set(years))
    if outside:
        problems.append(f"years that were not asked for ({_few(outside)})")
    asked = {gender} if gender else set(GENDERS)
    odd = sorted(set(df["gender"]) - asked)
    if odd:
        problems.append(f"genders that were not asked for ({_few(odd)})")
    dup = df.duplicated(KEY)
    if dup.any():
        first = df[dup].iloc[0]
        problems.append(f"{int(dup.sum())} repeated row(s) (the same region, year and gender, "
                        f"e.g. region {first['region']}, {first['year']}, {first['gender']})")
    bound = regions * len(years) * len(asked)
    if len(df) > bound:
        problems.append(f"{len(df)} rows, more than the {bound} the query can have ({regions} "
                        f"regions x {len(years)} year(s) x {len(asked)} gender(s))")
    if problems:
        raise SourceError(f"{what}: the answer does not match the query: "
                          + "; ".join(problems) + ". Refused: none of it is stored.")


def _few(items: list) -> str:
    return ", ".join(map(str, items[:5])) + (f" and {len(items) - 5} more"
                                              if len(items) > 5 else "")


def parse_json(doc: object, *, what: str) -> pd.DataFrame:
    """Data rows of ``/json``: ``[{"indicator","region","year","gender","value","absValue"}]``."""
    if not isinstance(doc, list):
        raise SourceError(f"{what}: expected a list of data rows, got {type(doc).__name__}.")
    try:
        df = pd.DataFrame([{"indicator": int(r["indicator"]), "region": int(r["region"]),
                            "year": int(r["year"]), "gender": str(r.get("gender", "total")),
                            "value": r.get("value"), "abs_value": r.get("absValue")}
                           for r in doc], columns=DATA_COLUMNS)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{what}: a data row lacks or mangles {exc}.") from exc
    return _numeric(df)


def parse_csv(text: str, *, what: str = "Sotkanet CSV") -> pd.DataFrame:
    """Data rows of ``/csv``: ``indicator;region;year;gender;primary value;absolute value``."""
    try:
        df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{what}: unreadable CSV ({exc}).") from exc
    df.columns = [c.strip().lower() for c in df.columns]
    need = ["indicator", "region", "year", "gender", "primary value"]
    if any(c not in df.columns for c in need):
        raise SourceError(f"{what}: expected columns {need}, found {list(df.columns)}.")
    df = df.rename(columns={"primary value": "value", "absolute value": "abs_value"})
    if "abs_value" not in df.columns:
        df["abs_value"] = ""
    for c in ("indicator", "region", "year"):
        df[c] = pd.to_numeric(df[c], errors="raise").astype("int64")
    return _numeric(df[DATA_COLUMNS])


def _numeric(df: pd.DataFrame) -> pd.DataFrame:
    for c in ("value", "abs_value"):
        df[c] = pd.to_numeric(df[c].astype(str).str.replace(",", ".", regex=False)
                              .replace({"None": "", "nan": ""}), errors="coerce")
    return df


def pick_gender(df: pd.DataFrame, wanted: str) -> tuple[pd.DataFrame, str | None]:
    """The rows of the wanted gender; if absent, the only gender published (with a note)."""
    hit = df[df["gender"] == wanted]
    if not hit.empty or df.empty:
        return hit, None
    genders = sorted(df["gender"].unique())
    if len(genders) == 1:
        return df, f"no '{wanted}' figures; kept the only one published ('{genders[0]}')"
    return df.iloc[0:0], f"no '{wanted}' figures, only {', '.join(genders)}"


@dataclass
class Sotkanet:
    """The Sotkanet REST API (``USO_SOTKANET_URL``)."""

    client: HttpClient
    name = "sotkanet"

    @classmethod
    def create(cls, client: HttpClient | None = None, **client_options) -> Sotkanet:
        return cls(client or HttpClient("Sotkanet", config.url("USO_SOTKANET_URL"),
                                        **client_options))

    def __post_init__(self) -> None:
        self._regions: tuple[dict[int, str], list[str]] | None = None
        self._region_count: int | None = None

    def _refuse(self, fetched: Fetched, message: str) -> NoReturn:
        """A bad answer: forgotten by the cache (so a rerun asks again), and an error."""
        raise SourceError(message, hint=self.client.discard(fetched))

    def indicators(self) -> list[dict]:
        fetched = self.client.get("indicators", what="Sotkanet indicator catalogue")
        doc = fetched.json()
        if not isinstance(doc, list):
            self._refuse(fetched, "Sotkanet indicator catalogue: expected a list.")
        return doc

    def indicator(self, indicator: int) -> dict:
        what = f"Sotkanet indicator {indicator} (metadata)"
        fetched = self.client.get(f"indicators/{int(indicator)}", what=what)
        doc = fetched.json()
        if not isinstance(doc, dict):
            self._refuse(fetched, f"{what}: expected an object.")
        try:
            years_of(doc)
        except SourceError as exc:
            self._refuse(fetched, exc.message)
        return doc

    def years(self, indicator: int) -> list[int]:
        return years_of(self.indicator(indicator))

    def regions(self) -> list[dict]:
        fetched = self.client.get("regions", what="Sotkanet regions")
        doc = fetched.json()
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            self._refuse(fetched, "Sotkanet regions: expected a list of regions.")
        self._region_count = len({r.get("id") for r in doc})
        return doc

    def region_codes(self) -> tuple[dict[int, str], list[str]]:
        if self._regions is None:
            self._regions = region_codes(self.regions())
        return self._regions

    def region_count(self) -> int:
        """How many regions Sotkanet has: a data answer has at most this many per year and
        gender."""
        if self._region_count is None:
            self.regions()
        return self._region_count

    def data_params(self, indicator: int, years: list[int],
                    gender: str | None = "total") -> list[tuple[str, str]]:
        params = [("indicator", str(int(indicator)))] + [("years", str(y)) for y in years]
        if gender:
            params.append(("genders", gender))
        return params

    def data(self, indicator: int, years: list[int], gender: str = "total"
             ) -> tuple[pd.DataFrame, str, str, list[str]]:
        """Rows of one indicator for the given years: (frame, origin, retrieved, notes).

        Falls back to all genders when the wanted gender alone returns nothing.
        """
        what = f"Sotkanet indicator {indicator} (data)"
        fetched, df = self._data(indicator, years, gender, what)
        notes = [fetched.note] if fetched.note else []
        origin, retrieved = fetched.origin, fetched.retrieved
        if df.empty:
            fetched, df = self._data(indicator, years, None, what + ", all genders")
            notes += [fetched.note] if fetched.note else []
            origin = "cached" if "cached" in (origin, fetched.origin) else "live"
        df, note = pick_gender(df, gender)
        if note:
            notes.append(f"{what}: {note}.")
        return df, origin, retrieved, notes

    def _data(self, indicator: int, years: list[int], gender: str | None,
              what: str) -> tuple[Fetched, pd.DataFrame]:
        """One data call, checked against its query (a bad answer is refused and forgotten)."""
        regions = self.region_count()
        fetched = self.client.get("json", params=self.data_params(indicator, years, gender),
                                  what=what)
        doc = fetched.json()
        bound = regions * len(years) * (1 if gender else len(GENDERS))
        if isinstance(doc, list) and len(doc) > bound:  # refused before building a frame
            self._refuse(fetched, f"{what}: the answer has {len(doc)} rows, more than the "
                                  f"{bound} the query can have ({regions} regions x "
                                  f"{len(years)} year(s)). Refused: none of it is stored.")
        try:
            df = parse_json(doc, what=what)
            check_answer(df, indicator=indicator, years=years, gender=gender,
                         regions=regions, what=what)
        except SourceError as exc:
            self._refuse(fetched, exc.message)
        return fetched, df


def store_rows(df: pd.DataFrame, codes: dict[int, str], ind: Indicator, *, origin: str,
               retrieved: str, vintage: str) -> tuple[pd.DataFrame, list[str]]:
    """Store rows of one indicator from Sotkanet data rows (municipalities and the country)."""
    kunta = df["region"].map(codes)
    rows = pd.DataFrame({"indicator": ind.id, "kunta": kunta, "year": df["year"],
                         "category": "", "value": df["value"], "status": ""})
    rows = rows[rows["kunta"].notna()]
    rows, notes = map_regions(rows, kind=ind.kind, division=None,
                              what=f"{ind.id} (Sotkanet {ind.live.indicator})")
    rows = rows.assign(source=SOURCE, table=f"Sotkanet {ind.live.indicator}",
                       vintage=vintage or retrieved, origin=origin, retrieved=retrieved)
    return rows, notes


def plan(sk: Sotkanet, indicators: list[Indicator]) -> list[PlannedRequest]:
    out = []
    for ind in indicators:
        sid = ind.live.indicator
        label = f"sotkanet {sid}"
        try:
            years = sk.years(sid)
            codes, _ = sk.region_codes()
        except SourceError as exc:
            out.append(PlannedRequest(label, [ind.id], "GET", sk.client.url("json"), None,
                                      note=f"cannot plan: {exc.message}"))
            continue
        url = sk.client.prepare("GET", "json",
                                params=sk.data_params(sid, years, ind.live.gender)).url
        out.append(PlannedRequest(label, [ind.id], "GET", url, len(years) * len(codes),
                                  note=f"years {years[0]}-{years[-1]}" if years else ""))
    return out


def fetch(sk: Sotkanet, indicators: list[Indicator]) -> list[IndicatorResult]:
    results = []
    for ind in indicators:
        sid = ind.live.indicator
        label = f"sotkanet {sid}"
        before = sk.client.calls
        try:
            meta = sk.indicator(sid)
            years = years_of(meta)
            codes, region_notes = sk.region_codes()
            df, origin, retrieved, notes = sk.data(sid, years, ind.live.gender)
        except SourceError as exc:
            results.append(IndicatorResult(ind.id, label, "failed",
                                           calls=sk.client.calls - before, error=str(exc)))
            continue
        rows, map_notes = store_rows(df, codes, ind, origin=origin, retrieved=retrieved,
                                     vintage=str(meta.get("data-updated") or "")[:10])
        results.append(IndicatorResult(ind.id, label, origin, rows,
                                       calls=sk.client.calls - before,
                                       notes=region_notes + notes + map_notes))
    return results
