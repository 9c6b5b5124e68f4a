"""The state one report's parts share (:class:`Report`) and :func:`start`, which validates the
notebook's parameters and builds it. Kept apart from the parts themselves, so that
:mod:`uso_lib.report` and :mod:`uso_lib.report.sections` both read it without importing each
other."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from uso_lib import compare, regions
from uso_lib import notes as notes_mod
from uso_lib import params as params_mod
from uso_lib import peers as peers_mod
from uso_lib.catalog import Indicator
from uso_lib.errors import NoData, ParamsError
from uso_lib.params import Member, Network
from uso_lib.regions import Municipality
from uso_lib.report.appendix import Appendix
from uso_lib.store import Store, default_store

PEER_METHODS = {
    "params": "annettu raportin parametreissa (verrokit)",
    "network": "sovittu verkoston parametritiedostossa",
    "suggested": "ehdotettu rakenteellisen samankaltaisuuden perusteella",
    "none": "ei vertailukuntia",
}

# -- the report's parameters and shared state -----------------------------------------------
@dataclass
class Report:
    """Everything the parts of one report share: who, compared with whom, from which data.

    Built by :func:`start` from the notebook's parameters (validated there, so a typo in a
    parameter stops the report with a clear message before anything is drawn)."""

    kunta: Municipality
    peers: list[Municipality]
    peer_method: str  # params | network | suggested | none
    suggestion: peers_mod.PeerSuggestion | None
    network: Network | None
    year: int | None
    store: Store
    aineisto: str
    appendix: Appendix = field(default_factory=Appendix)
    notes: list[str] = field(default_factory=list)
    today: date = field(default_factory=date.today)
    huomiot: notes_mod.Notes | None = None  # the consultant's notes beside the network file
    _overview: pd.DataFrame | None = None
    _overview_rows: dict[str, dict] | None = None
    _groups: list[compare.Group] | None = None
    _comparisons: dict[str, compare.Comparison | NoData] = field(default_factory=dict)

    @property
    def peer_codes(self) -> list[str]:
        return [p.code for p in self.peers]

    @property
    def network_codes(self) -> list[str]:
        return self.network.codes() if self.network else []

    @property
    def network_label(self) -> str:
        return f"{self.network.name} ka." if self.network else ""

    @property
    def member(self) -> Member | None:
        if self.network is None:
            return None
        return next((m for m in self.network.members if m.kunta.code == self.kunta.code), None)

    @property
    def peer_method_fi(self) -> str:
        return PEER_METHODS[self.peer_method]

    def overview(self) -> pd.DataFrame:
        """The whole-picture frame (:func:`uso_lib.compare.overview`), computed once."""
        if self._overview is None:
            self._overview = compare.overview(self.kunta.code, self.peer_codes or None,
                                              self.network_codes or None, year=self.year,
                                              store=self.store, compare_with=self.comparison)
        return self._overview

    def comparison(self, ind: Indicator) -> compare.Comparison:
        """:func:`uso_lib.compare.compare` of one indicator with the report's groups and year
        (the latest year with data when the asked one has none), computed once: the overview
        and the indicator's own section show the same comparison. NoData when there is none."""
        c = self._comparisons.get(ind.id)
        if c is None:
            try:
                c = compare.compare(ind, self.kunta.code, year=self.year, store=self.store,
                                    strict_year=False, groups=self.groups())
            except NoData as exc:
                c = exc
            self._comparisons[ind.id] = c
        if isinstance(c, NoData):
            raise c
        return c

    def overview_row(self, indicator: str) -> dict | None:
        """One indicator's overview row as a plain dict (None when the overview lacks it).

        The summary and the group tables look up one row per indicator; a pandas row lookup
        would also deep-copy the frame's ``attrs`` (the groups, with the country's 309 codes)
        every time, which made those lookups a noticeable part of a report."""
        if self._overview_rows is None:
            ov = without_attrs(self.overview())
            columns = {col: ov[col].tolist() for col in ov.columns}  # column-wise: fast
            self._overview_rows = {
                ind: {col: values[i] for col, values in columns.items() if col != "indicator"}
                for i, ind in enumerate(columns["indicator"])}
        return self._overview_rows.get(indicator)

    def groups(self) -> list[compare.Group]:
        if self._groups is None:
            self._groups = compare.groups_for(self.kunta.code, self.peer_codes or None,
                                              self.network_codes or None)
        return self._groups


def start(kunta: object, verrokit: object = (), vuosi: object = None,
          aineisto: str = "snapshot", verkosto: str | os.PathLike | None = "", *,
          store: Store | None = None) -> Report:
    """Validate the notebook's parameters and set up the report.

    Comparison municipalities: the ``verrokit`` parameter if given, else the member's
    ``verrokit`` in the network file, else the suggested peers (:mod:`uso_lib.peers`).
    ``store`` replaces the process-wide store of ``aineisto`` (tests)."""
    m = regions.lookup(kunta)
    if aineisto not in ("snapshot", "local"):
        raise ParamsError(f"aineisto must be 'snapshot' or 'local', not {aineisto!r}.",
                          field="aineisto")
    year = _year_param(vuosi)
    network = _network_param(verkosto)
    # one loaded store per (warm) kernel, shared by its reports
    st = store if store is not None else default_store(aineisto)
    given = peers_mod.parse_list(verrokit)  # type: ignore[arg-type]
    suggestion = None
    notes: list[str] = []
    if given:
        peer_list, method = peers_mod.resolve_peers(m, given, store=st).peers, "params"
    else:
        member = network.member(m.code) if network else None
        if member is not None and member.verrokit:
            peer_list, method = list(member.verrokit), "network"
        else:
            try:
                sel = peers_mod.resolve_peers(m, None, store=st)
                peer_list, method, suggestion = sel.peers, "suggested", sel.suggestion
            except NoData as exc:  # the report still stands, compared with natural groups
                peer_list, method = [], "none"
                notes.append(f"Vertailukuntia ei voitu ehdottaa: {exc.message}")
    for w in st.warnings:
        notes.append(f"Paikallinen tietovarasto (USO_DATA_DIR): {w}")  # unreadable or odd
    # a malformed note stops the report here, before anything is drawn
    huomiot = notes_mod.for_municipality(network.path if network else None, m)
    return Report(kunta=m, peers=peer_list, peer_method=method, suggestion=suggestion,
                  network=network, year=year, store=st, aineisto=aineisto, notes=notes,
                  huomiot=huomiot)


def _year_param(vuosi: object) -> int | None:
    if vuosi is None or vuosi == "":
        return None
    try:
        year = int(str(vuosi).strip())
    except ValueError:
        raise ParamsError(f"vuosi must be a year such as 2021, or None for the latest, not "
                          f"{vuosi!r}.", field="vuosi") from None
    if not 1900 <= year <= 2100:
        raise ParamsError(f"vuosi {year} is not a plausible statistics year.", field="vuosi")
    return year


def _network_param(verkosto: str | os.PathLike | None) -> Network | None:
    if verkosto is None or str(verkosto) == "":
        path = params_mod.default_path()
        return params_mod.load_network(path) if path else None
    return params_mod.load_network(verkosto)



def without_attrs(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (a shallow copy) without its ``attrs``: the highlights read the overview row by
    row, and pandas deep-copies a frame's attrs (here the groups, with the country's 309
    codes) into every row and every subset it hands out."""
    out = df.copy(deep=False)
    out.attrs = {}
    return out


