"""What a run renders: the municipalities asked for and the network file's members, with the
member entries that do not validate set aside as failed reports instead of stopping the run."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from uso_lib import params as params_mod
from uso_lib import regions
from uso_lib.errors import ParamsError, UsoError
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
    text: str  # the file's text with invalid member entries commented out
    problems: list[MemberProblem] = field(default_factory=list)


_MEMBER_FIELD = re.compile(r"^members\[(\d+)\]")


def _member_spans(text: str) -> list[tuple[int, int]]:
    """0-based (first, last) line of every item of the top-level ``members`` list."""
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return []
    seq = next((v for k, v in root.value if getattr(k, "value", None) == "members"), None)
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        return []
    lines = text.splitlines()
    spans = []
    for i, item in enumerate(seq.value):
        if i + 1 < len(seq.value):  # up to the line before the next item
            end = seq.value[i + 1].start_mark.line - 1
        else:  # the end mark sits where the next token starts (maybe on its own line)
            mark = item.end_mark
            before = lines[mark.line][:mark.column] if mark.line < len(lines) else ""
            end = mark.line - 1 if not before.strip() else mark.line
        spans.append((item.start_mark.line, max(end, item.start_mark.line)))
    return spans


def plan_network(path: str | os.PathLike | None) -> NetworkPlan:
    """Validate the network file with :func:`uso_lib.params.parse_network`, setting aside the
    member entries that fail (each becomes a failed report) instead of stopping the run. An
    error outside the members (YAML syntax, name, period) still stops it."""
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
    try:
        raw = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:  # syntax, or a tag that would build objects: said by the parser
        raw = None
        params_mod.parse_network(text, source=str(path), path=path)  # raises a ParamsError
    raw_members = raw.get("members") if isinstance(raw, dict) else None
    problems: list[MemberProblem] = []
    remaining = list(range(len(raw_members))) if isinstance(raw_members, list) else []
    current = text
    while True:
        try:
            net = params_mod.parse_network(current, source=str(path), path=path)
            return NetworkPlan(net, path, current, problems)
        except ParamsError as exc:
            m = _MEMBER_FIELD.match(exc.field or "")
            spans = _member_spans(current) if m else []
            if not m or int(m.group(1)) >= len(spans) or len(spans) != len(remaining):
                raise
            j = int(m.group(1))
            orig = remaining.pop(j)
            first, last = spans[j]
            entry = raw_members[orig] if isinstance(raw_members[orig], dict) else {}
            query = str(entry.get("kunta", "")) if entry else ""
            try:
                kunta = regions.lookup(query) if query else None
            except UsoError:
                kunta = None
            if orig != j:  # name the entry as it is numbered in the file
                exc = ParamsError(str(exc).replace(f"members[{j}]", f"members[{orig}]", 1))
            problems.append(MemberProblem(orig, query, kunta, exc))
            lines = current.splitlines(keepends=True)
            for i in range(first, min(last + 1, len(lines))):
                lines[i] = "# (uso: skipped, invalid) " + lines[i].lstrip("#")
            current = "".join(lines)
            if not remaining:
                raise exc from None

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

