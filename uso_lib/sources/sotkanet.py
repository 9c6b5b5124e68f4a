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
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pandas as pd

from uso_lib import config
from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources.common import COUNTRY, IndicatorResult, PlannedRequest, map_regions
from uso_lib.sources.http import HttpClient

SOURCE = "THL Sotkanet"
DATA_COLUMNS = ["indicator", "region", "year", "gender", "value", "abs_value"]


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
        return list(range(int(rng["start"]), int(rng["end"]) + 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"Sotkanet indicator {meta.get('id', '?')}: its metadata has no "
                          f"year range ({exc}).") from exc


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

    def indicators(self) -> list[dict]:
        doc = self.client.get("indicators", what="Sotkanet indicator catalogue").json()
        if not isinstance(doc, list):
            raise SourceError("Sotkanet indicator catalogue: expected a list.")
        return doc

    def indicator(self, indicator: int) -> dict:
        what = f"Sotkanet indicator {indicator} (metadata)"
        doc = self.client.get(f"indicators/{int(indicator)}", what=what).json()
        if not isinstance(doc, dict):
            raise SourceError(f"{what}: expected an object.")
        return doc

    def years(self, indicator: int) -> list[int]:
        return years_of(self.indicator(indicator))

    def regions(self) -> list[dict]:
        doc = self.client.get("regions", what="Sotkanet regions").json()
        if not isinstance(doc, list):
            raise SourceError("Sotkanet regions: expected a list.")
        return doc

    def region_codes(self) -> tuple[dict[int, str], list[str]]:
        if self._regions is None:
            self._regions = region_codes(self.regions())
        return self._regions

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
        fetched = self.client.get("json", params=self.data_params(indicator, years, gender),
                                  what=what)
        df = parse_json(fetched.json(), what=what)
        notes = [fetched.note] if fetched.note else []
        origin, retrieved = fetched.origin, fetched.retrieved
        if df.empty:
            fetched = self.client.get("json", params=self.data_params(indicator, years, None),
                                      what=what + ", all genders")
            df = parse_json(fetched.json(), what=what)
            notes += [fetched.note] if fetched.note else []
            origin = "cached" if "cached" in (origin, fetched.origin) else "live"
        df, note = pick_gender(df, gender)
        if note:
            notes.append(f"{what}: {note}.")
        return df, origin, retrieved, notes


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
