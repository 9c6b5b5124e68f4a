"""Comparison municipalities (verrokit): suggested by structural similarity, or given.

A municipality is compared with others that *resemble it in structure*, so that a difference in
an outcome says something. The profile is the issue's list, each feature standardised over all
municipalities (z-scores, so population in thousands and shares in per cent weigh alike):

- log population (size matters proportionally: 5 000 vs 10 000 is as far as 50 000 vs 100 000),
- kuntaryhmitys (1 urban, 2 densely populated, 3 rural; ordinal),
- age structure: under-15 and over-64 shares,
- employment rate (unemployment rate when the store lacks it),
- job self-sufficiency,
- economic dependency ratio,
- optionally the distance between the municipalities' centroids (``use_distance``), when the
  map polygons of :mod:`uso_lib.geo` are installed.

Each feature uses its latest year covered by most municipalities. The distance between two
municipalities is the root mean square of their z-score differences over the features both have
(in standard deviations: 0.5 means they differ by half an SD per feature on average), so a
missing feature neither shrinks nor inflates it. A candidate must share at least half of the
municipality's features. The municipality itself is never its own peer; ties are broken by code
so the suggestion is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from uso_lib import compare, regions
from uso_lib.errors import NoData, ParamsError, UnknownMunicipality
from uso_lib.regions import Municipality
from uso_lib.store import Store, StoreLike, get_store
from uso_lib.store.index import Table, per_store

DEFAULT_K = 9
MIN_COVERAGE = 0.8  # a feature year must have data for this share of municipalities


@dataclass(frozen=True)
class Feature:
    key: str
    label: str  # Finnish
    indicators: tuple[str, ...] = ()  # catalogue ids, the first one the store has is used
    log: bool = False


FEATURES: tuple[Feature, ...] = (
    Feature("vaesto_log", "Väkiluku (logaritmi)", ("vaesto",), log=True),
    Feature("kuntaryhmitys", "Kuntaryhmitys (1 kaupunkimainen – 3 maaseutumainen)"),
    Feature("alle15_osuus", "Alle 15-vuotiaiden osuus, %", ("alle15_osuus",)),
    Feature("yli64_osuus", "Yli 64-vuotiaiden osuus, %", ("yli64_osuus",)),
    Feature("tyollisyys", "Työllisyysaste, % (tai työttömyysaste)",
            ("tyollisyysaste", "tyottomyysaste")),
    Feature("tyopaikkaomavaraisuus", "Työpaikkaomavaraisuus", ("tyopaikkaomavaraisuus",)),
    Feature("taloudellinen_huoltosuhde", "Taloudellinen huoltosuhde",
            ("taloudellinen_huoltosuhde",)),
)
DISTANCE = Feature("etaisyys_km", "Etäisyys kuntakeskusten välillä, km")


@dataclass
class FeatureInfo:
    key: str
    label: str
    indicator: str | None  # the catalogue id used (None: registry / geometry)
    year: int | None
    n: int  # municipalities with data
    mean: float
    sd: float


@dataclass
class Peer:
    code: str
    name: str
    distance: float  # RMS z-score difference over shared features
    n_features: int
    profile: dict[str, float | None]  # raw feature values (log population shown as residents)
    differences: dict[str, float | None]  # z-score differences (peer - municipality)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PeerSuggestion:
    kunta: str
    name: str
    k: int
    features: list[FeatureInfo]
    profile: dict[str, float | None]  # the municipality's own feature values
    peers: list[Peer]
    method: str = ""
    notes: list[str] = field(default_factory=list)

    def codes(self) -> list[str]:
        return [p.code for p in self.peers]

    def to_dict(self) -> dict:
        return {"kunta": self.kunta, "name": self.name, "k": self.k, "method": self.method,
                "features": [asdict(f) for f in self.features], "profile": self.profile,
                "peers": [p.to_dict() for p in self.peers], "notes": self.notes}


# -- the profile matrix ----------------------------------------------------------------------
def _feature_year(tab: Table) -> int | None:
    n = len(regions.registry())
    covered = [y for y in tab.years if len(tab.cross(y)) >= MIN_COVERAGE * n]
    return covered[-1] if covered else None


Profile = tuple[pd.DataFrame, list[FeatureInfo]]


def profile_matrix(store: StoreLike = None, *, use_distance: bool = False) -> Profile:
    """Raw profile values (rows: every municipality, columns: feature keys) and what each
    column is. Computed once per loaded store (memoised on its index, so a reload recomputes
    it): every report of a batch reuses it."""
    raw, infos = _build_matrix(get_store(store))
    if use_distance:
        infos = infos + [FeatureInfo(DISTANCE.key, DISTANCE.label, None, None, len(raw),
                                     math.nan, math.nan)]
    return raw.copy(), list(infos)


@per_store
def _build_matrix(st: Store) -> Profile:
    reg = regions.registry()
    codes = reg.codes()
    cols: dict[str, pd.Series] = {}
    infos: list[FeatureInfo] = []
    for f in FEATURES:
        if f.key == "kuntaryhmitys":
            s = pd.Series({m.code: float(m.kuntaryhmitys_code) if m.kuntaryhmitys_code else
                           np.nan for m in reg}, dtype=float)
            cols[f.key] = s.reindex(codes)
            infos.append(FeatureInfo(f.key, f.label, None, reg.division, int(s.notna().sum()),
                                     math.nan, math.nan))
            continue
        for iid in f.indicators:
            tab = st.table(iid)
            year = _feature_year(tab) if tab is not None else None
            if year is None:
                continue
            s = tab.cross(year).reindex(codes)
            if f.log:
                s = np.log(s.where(s > 0))
            cols[f.key] = s
            infos.append(FeatureInfo(f.key, f.label, iid, year, int(s.notna().sum()),
                                     math.nan, math.nan))
            break
    raw = pd.DataFrame(cols, index=pd.Index(codes, name="kunta"))
    for info in infos:
        col = raw[info.key]
        info.mean = float(col.mean())
        info.sd = float(col.std(ddof=1))
    return raw, infos


def _centroid_km(code: str) -> pd.Series | None:
    """Distances (km) from one municipality's label point to every other's; None without the
    map polygons."""
    try:
        from uso_lib import geo

        gdf = geo.municipalities()
    except Exception:  # geo not installed or its data missing: distance is optional
        return None
    pts = geo.label_points(gdf)
    here = pts.loc[code]
    return pts.distance(here) / 1000.0


def suggest(kunta: object, k: int = DEFAULT_K, *, store: StoreLike = None,
            use_distance: bool = False, exclude: Iterable[object] = ()) -> PeerSuggestion:
    """The ``k`` municipalities whose standardised structural profile is closest to
    ``kunta``'s (never ``kunta`` itself, nor any in ``exclude``)."""
    if not isinstance(k, int) or k < 1:
        raise ParamsError(f"the number of peers must be a positive whole number, not {k!r}",
                          field="k")
    m = regions.lookup(kunta)
    raw, infos = profile_matrix(store)
    notes: list[str] = []
    if raw.shape[1] <= 1:
        raise NoData("The store lacks the structural indicators peers are chosen by "
                     f"({', '.join(i for f in FEATURES for i in f.indicators)}).",
                     hint="Build the snapshot (`uso snapshot build`) or give the peers "
                          "yourself (--peers).")
    z = (raw - raw.mean()) / raw.std(ddof=1)
    if use_distance:
        km = _centroid_km(m.code)
        if km is None:
            notes.append("Etäisyyttä ei käytetty: karttarajat (uso_lib.geo) puuttuvat.")
        else:
            km = km.reindex(raw.index)
            raw[DISTANCE.key] = km
            z[DISTANCE.key] = km / km.std(ddof=1)  # the municipality itself is at 0
            infos = infos + [FeatureInfo(DISTANCE.key, DISTANCE.label, None, None,
                                         int(km.notna().sum()), float(km.mean()),
                                         float(km.std(ddof=1)))]
    own = z.loc[m.code]
    have = own.notna()
    if have.sum() < 2:
        raise NoData(f"{m.name_fi} ({m.code}) lacks most of the structural profile "
                     f"({', '.join(raw.columns[have])} only): no peers can be suggested.",
                     hint="Give the peers yourself (--peers / verrokit).")
    missing_own = [c for c in raw.columns if not have[c]]
    if missing_own:
        notes.append(f"{m.name_fi}: ei tietoa piirteistä {', '.join(missing_own)}; "
                     "etäisyys laskettu muista.")
    diff = z.loc[:, have].sub(own[have], axis=1)
    n_shared = diff.notna().sum(axis=1)
    dist = np.sqrt((diff ** 2).sum(axis=1, min_count=1) / n_shared.replace(0, np.nan))
    skip = {m.code} | set(compare.resolve_codes(exclude))
    ok = (n_shared >= max(2, math.ceil(have.sum() / 2))) & dist.notna()
    ok &= ~dist.index.isin(sorted(skip))
    cand = pd.DataFrame({"distance": dist[ok], "n": n_shared[ok]})
    cand = cand.sort_values(["distance"], kind="stable").iloc[:k]
    reg = regions.registry()
    peers = [
        Peer(code=c, name=reg.get(c).name_fi, distance=float(r.distance), n_features=int(r.n),
             profile=_shown_profile(raw.loc[c]),
             differences={f: _r(diff.at[c, f]) for f in diff.columns})
        for c, r in cand.iterrows()
    ]
    if len(peers) < k:
        notes.append(f"Vain {len(peers)} kuntaa täytti ehdot ({k} pyydettiin).")
    feats = ", ".join(f"{i.label} ({i.year})" if i.year else i.label for i in infos)
    method = ("Rakenteellisesti lähimmät kunnat: standardoitujen piirteiden etäisyys "
              f"(neliöllinen keskiarvo keskihajonnan yksiköissä). Piirteet: {feats}.")
    return PeerSuggestion(m.code, m.name_fi, k, infos, _shown_profile(raw.loc[m.code]),
                          peers, method, notes)


def _r(x: object, nd: int = 4) -> float | None:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else round(v, nd)


def _shown_profile(row: pd.Series) -> dict[str, float | None]:
    """Feature values for people: population back in residents, others as they are."""
    out: dict[str, float | None] = {}
    for key, v in row.items():
        if key == "vaesto_log":
            out["vaesto"] = None if pd.isna(v) else float(round(math.exp(v)))
        else:
            out[str(key)] = _r(v, 2)
    return out


# -- given or suggested --------------------------------------------------------------------
@dataclass
class PeerSelection:
    kunta: Municipality
    peers: list[Municipality]
    method: str  # "params" (given) | "suggested"
    suggestion: PeerSuggestion | None = None

    def codes(self) -> list[str]:
        return [p.code for p in self.peers]

    @property
    def method_fi(self) -> str:
        return ("annettu parametreissa" if self.method == "params"
                else "ehdotettu rakenteellisen samankaltaisuuden perusteella")

    def to_dict(self) -> dict:
        return {"kunta": self.kunta.code, "name": self.kunta.name_fi, "method": self.method,
                "method_fi": self.method_fi,
                "peers": [{"code": p.code, "name": p.name_fi} for p in self.peers],
                "suggestion": self.suggestion.to_dict() if self.suggestion else None}


def parse_list(given: str | Sequence[object] | None) -> list[object]:
    """A peer list from a comma-separated string or a sequence (empty items dropped)."""
    if given is None:
        return []
    if isinstance(given, str):
        return [x.strip() for x in given.split(",") if x.strip()]
    return [x for x in given if not (isinstance(x, str) and not x.strip())]


def resolve_peers(kunta: object, given: str | Sequence[object] | None = None, *,
                  k: int = DEFAULT_K, store: StoreLike = None,
                  use_distance: bool = False, field_name: str = "verrokit") -> PeerSelection:
    """The peers of ``kunta``: the ``given`` names/codes validated (method "params"), or, when
    none are given, ``k`` suggested ones (method "suggested").

    Errors name the entry: an unknown name (UnknownMunicipality, with suggestions), the
    municipality itself or a duplicate (ParamsError)."""
    m = regions.lookup(kunta)
    items = parse_list(given)
    if not items:
        sug = suggest(m, k, store=store, use_distance=use_distance)
        reg = regions.registry()
        return PeerSelection(m, [reg.get(c) for c in sug.codes()], "suggested", sug)
    out: list[Municipality] = []
    for i, q in enumerate(items, start=1):
        where = f"{field_name}[{i}]"
        try:
            p = regions.lookup(q)
        except UnknownMunicipality as exc:
            raise UnknownMunicipality(q, exc.suggestions,
                                      message=f"{field_name}, entry {i}: {exc.message}") from exc
        if p.code == m.code:
            raise ParamsError(f"{p.name_fi} is the municipality being analysed; it cannot be "
                              "its own comparison municipality. Remove it from the list.",
                              field=where)
        if any(p.code == o.code for o in out):
            raise ParamsError(f"{p.name_fi} ({p.code}) is listed twice. Give each comparison "
                              "municipality once.", field=where)
        out.append(p)
    return PeerSelection(m, out, "params", None)
