"""What a run renders: the municipalities asked for and the network file's members, with the
member entries that do not validate set aside as failed reports instead of stopping the run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uso_lib import params as params_mod
from uso_lib import regions
from uso_lib.errors import ParamsError
from uso_lib.regions import Municipality


# -- the network file, one bad entry at a time --------------------------------------------
@dataclass
class MemberProblem:
    """A member entry of the network file that does not validate."""

    index: int  # position in the file's members list (0-based)
    query: str  # what the entry's kunta says, as written
    kunta: Municipality | None  # resolved, when the kunta itself is fine
    error: ParamsError


@dataclass
class NetworkPlan:
    network: params_mod.Network | None
    path: Path | None
    text: str  # what the notebooks read: the entries that validated (params.dump_network)
    problems: list[MemberProblem] = field(default_factory=list)


def plan_network(path: str | os.PathLike | None) -> NetworkPlan:
    """Validate the network file with :func:`uso_lib.params.check_members`, setting aside the
    member entries that fail (each becomes a failed report) instead of stopping the run; the
    notebooks read the entries that validated (:func:`uso_lib.params.dump_network`), the file
    itself is never edited. An error outside the members (YAML syntax, name, period) still
    stops it. One pass over the members: planning time grows with the file's length, however
    many entries are broken."""
    if path is None:
        return NetworkPlan(None, None, "")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError("The network file does not exist. Give it with --params FILE.",
                          file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"The file cannot be read as UTF-8 text: {exc}",
                          file=str(path)) from None
    net, bad = params_mod.check_members(text, source=str(path), path=path)
    if net is None:  # no entry validates: nothing to render
        raise bad[-1].error
    return NetworkPlan(net, path, params_mod.dump_network(net),
                       [MemberProblem(b.index, b.query, b.kunta, b.error) for b in bad])


# -- planning -----------------------------------------------------------------------------
@dataclass
class Target:
    kunta: Municipality | None
    key: str
    label: str  # for tables: "Juva" or the raw text of a broken entry
    problem: MemberProblem | None = None


def plan_targets(names: Sequence[str] = (), *, members: bool = False, everyone: bool = False,
                 network: NetworkPlan | None = None) -> list[Target]:
    """The municipalities of a run, in order, without duplicates. Names are looked up (a typo
    stops the run with suggestions before anything is rendered); member entries that did not
    validate become targets that fail with the file's error."""
    reg = regions.registry()
    chosen: list[Municipality] = []
    if everyone:
        chosen = sorted(reg, key=lambda m: m.code)
    if members:
        if network is None or network.network is None:
            raise ParamsError("--members needs the network file (params/network.yaml); "
                              "give it with --params FILE.")
        chosen += [mb.kunta for mb in network.network.members]
    chosen += [regions.lookup(n) for n in names]
    bad = {p.kunta.code: p for p in (network.problems if network else []) if p.kunta}
    out: list[Target] = []
    seen: set[str] = set()
    for m in chosen:
        if m.code in seen:
            continue
        seen.add(m.code)
        out.append(Target(m, m.file_stem, m.name_fi, bad.get(m.code)))
    if network is not None and (members or everyone):
        for p in network.problems:
            if p.kunta is None or p.kunta.code not in seen:
                key = p.kunta.file_stem if p.kunta else f"members-{p.index}"
                label = p.kunta.name_fi if p.kunta else (p.query or f"members[{p.index}]")
                if p.kunta:
                    seen.add(p.kunta.code)
                out.append(Target(p.kunta, key, label, p))
    return out

