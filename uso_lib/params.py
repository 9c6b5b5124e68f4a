"""The network parameter file (``params/network.yaml``): who is in the USO network and with
whom each member wants to be compared.

The file is edited by hand by consultants, so every mistake must come back as one clear
:class:`~uso_lib.errors.ParamsError` that names the file, the field (``members[3].verrokit[1]``)
and the line, and says what to type instead -- never a pydantic dump or a traceback. The YAML
is read with :func:`load_yaml`: PyYAML's safe loader (a parameter file can never run code), but
a municipality code is read as written (YAML 1.1 would make an unquoted ``020`` the octal
number 16, i.e. Asikkala instead of Akaa) and aliases may not expand the file beyond
:data:`MAX_VALUES` values (an "alias bomb" is refused before anything walks it). The line
numbers come from the node tree, which keeps the marks that construction throws away.

The yearly fee tier of the network also lives here: it is a rule of the network agreement,
applied to a member's population.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from uso_lib import regions
from uso_lib.errors import ParamsError, UnknownMunicipality
from uso_lib.regions import Municipality

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "params" / "network.yaml"

# The yearly membership fee by population (network agreement, USO 7): residents below
# 9 000 pay 9 000 €, 9 000-45 000 pay 12 000 €, above 45 000 pay 16 000 €. Both ends of the
# middle band belong to it ("9 000-45 000 asukasta"): (lowest, highest, fee, wording).
FEE_TIERS: tuple[tuple[float, float, int, str], ...] = (
    (0, 8_999, 9_000, "alle 9 000 asukasta"),
    (9_000, 45_000, 12_000, "9 000–45 000 asukasta"),
    (45_001, math.inf, 16_000, "yli 45 000 asukasta"),
)

_PERIOD = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})$")

# A network of every municipality with a dozen comparison municipalities each holds some ten
# thousand values; aliases that expand a file beyond this are a mistake or an attack.
MAX_VALUES = 100_000
_INT_TAG, _FLOAT_TAG = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


# libyaml's parser where PyYAML was built with it: the pure-Python one is many times slower
# on a file of thousands of entries
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextSafeLoader(_SafeLoader):
    """The safe loader without YAML 1.1's octal, hexadecimal, binary, sexagesimal and float
    numbers: only a plain decimal without a leading zero (``178``, ``91``) is a number, so
    ``020``, ``046`` and ``0x14`` stay the text that was written."""


_TextSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}
_TextSafeLoader.add_implicit_resolver(_INT_TAG, re.compile(r"^[-+]?[1-9][0-9]*$"),
                                      list("-+123456789"))


# -- the raw schema (what the YAML may contain) ------------------------------------------
class _MemberSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kunta: str | int = Field(description="municipality name or code")
    verrokit: list[str | int] = Field(default_factory=list)
    notes: str = ""

    @field_validator("verrokit", mode="before")
    @classmethod
    def _none_is_empty(cls, v: object) -> object:
        return [] if v is None else v

    @field_validator("notes", mode="before")
    @classmethod
    def _notes_none(cls, v: object) -> object:
        return "" if v is None else v


class _NetworkSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1)
    period: str
    members: list[_MemberSpec] = Field(min_length=1)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: object) -> object:
        text = str(v).strip() if isinstance(v, str | int) else v
        if isinstance(text, str):
            m = _PERIOD.match(text)
            if not m:
                raise ValueError("write the period as two years, e.g. '2023-2024'")
            start, end = int(m.group(1)), int(m.group(2))
            if end < start:
                raise ValueError(f"the period ends ({end}) before it starts ({start})")
            return f"{start}-{end}"
        return v


# -- the validated result ----------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    kunta: Municipality
    verrokit: list[Municipality] = field(default_factory=list)
    notes: str = ""


@dataclass(frozen=True)
class Network:
    name: str
    period: str
    members: list[Member]
    path: Path | None = None

    @property
    def years(self) -> tuple[int, int]:
        a, b = self.period.split("-")
        return int(a), int(b)

    def codes(self) -> list[str]:
        return [m.kunta.code for m in self.members]

    def member(self, query: object) -> Member | None:
        """The member entry of a municipality (name or code), or None if not a member."""
        code = regions.lookup(query).code
        return next((m for m in self.members if m.kunta.code == code), None)


def fee_tier(population: float | int | None) -> int:
    """The yearly fee (€) of a member with this many residents."""
    return _tier(population)[2]


def fee_tier_label(population: float | int | None) -> str:
    """The tier's wording for tables (``9 000–45 000 asukasta``)."""
    return _tier(population)[3]


def _tier(population: float | int | None) -> tuple[float, float, int, str]:
    if population is None or (isinstance(population, float) and math.isnan(population)):
        raise ValueError("the fee tier needs the population; it is missing")
    if population < 0:
        raise ValueError(f"population cannot be negative ({population})")
    # residents are whole people: 45 000.4 is not "over 45 000"
    n = round(population)
    return next(t for t in FEE_TIERS if n <= t[1])


# -- loading ------------------------------------------------------------------------------
def default_path() -> Path | None:
    """The repository's ``params/network.yaml``, if this is a checkout that has one."""
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load_network(path: Path | str | None = None) -> Network:
    """Read and validate a network file; raises ParamsError naming file, field and line."""
    if path in (None, ""):
        path = default_path()
        if path is None:
            raise ParamsError("No network file given and params/network.yaml was not found.",
                              file="params/network.yaml")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError("The file does not exist. Give the path of the network YAML "
                          "(e.g. params/network.yaml).", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParamsError(f"The file cannot be read as UTF-8 text: {exc}",
                          file=str(path)) from None
    return parse_network(text, source=str(path), path=path)


def parse_network(text: str, *, source: str = "<network>", path: Path | None = None) -> Network:
    """Validate the YAML text of a network file (``source`` names it in errors)."""
    raw, root = _read_mapping(text, source)
    try:
        spec = _NetworkSpec.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(exc.errors()[0], raw, root, source) from None
    check = _MemberCheck(source, root)
    members = [check.member(i, ms) for i, ms in enumerate(spec.members)]
    return Network(name=spec.name, period=spec.period, members=members, path=path)


def dump_network(network: Network) -> str:
    """The network as YAML that :func:`parse_network` reads back as the same network: the
    report factory hands the notebooks the member entries that validated, written out from the
    validated data (the consultants' file itself is never edited). Codes are written as
    quoted text, so the leading zero of ``"020"`` survives any YAML reader."""
    members = []
    for m in network.members:
        entry: dict[str, object] = {"kunta": m.kunta.code}
        if m.verrokit:
            entry["verrokit"] = [p.code for p in m.verrokit]
        if m.notes:
            entry["notes"] = m.notes
        members.append(entry)
    data = {"name": network.name, "period": network.period, "members": members}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_style=None)


@dataclass(frozen=True)
class MemberError:
    """A member entry that does not validate (:func:`check_members`)."""

    index: int  # position in the file's members list (0-based)
    query: str  # the entry's kunta as written ("" when it is not plain text)
    kunta: Municipality | None  # resolved, when the kunta itself is fine
    error: ParamsError
    lines: tuple[int, int] | None  # 0-based first and last line (None: a flow-style list)


def check_members(text: str, *, source: str = "<network>", path: Path | None = None
                  ) -> tuple[Network | None, list[MemberError]]:
    """Validate a network file member by member, in one pass: the network of the entries that
    validate (None if none does) and the first problem of each that does not. An error outside
    the members (YAML, name, period) raises ParamsError. One pass, so a file of thousands of
    broken entries is planned in time proportional to its length (re-validating the file after
    each bad entry took cubic time)."""
    raw, root = _read_mapping(text, source)
    raw_members = raw.get("members")
    errors: dict[int, ParamsError] = {}
    try:
        spec = _NetworkSpec.model_validate(raw)
        specs: list[_MemberSpec | None] = list(spec.members)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _data_loc(raw, err)
            if len(loc) >= 2 and loc[0] == "members" and isinstance(loc[1], int):
                if loc[1] not in errors:
                    errors[loc[1]] = _spec_error(err, raw, root, source)
            else:
                raise _spec_error(err, raw, root, source) from None
        good = [m for i, m in enumerate(raw_members) if i not in errors]
        spec = _NetworkSpec.model_validate({**raw, "members": good}) if good else None
        it = iter(spec.members if spec else [])
        specs = [None if i in errors else next(it) for i in range(len(raw_members))]
    check = _MemberCheck(source, root)
    members: list[Member] = []
    for i, ms in enumerate(specs):
        if ms is None:
            continue
        try:
            members.append(check.member(i, ms))
        except ParamsError as exc:
            errors[i] = exc
    spans = _member_spans(root, text)
    out = []
    for i in sorted(errors):
        entry = raw_members[i] if isinstance(raw_members, list) else None
        q = entry.get("kunta") if isinstance(entry, dict) else None
        query = str(q).strip() if isinstance(q, str | int) and not isinstance(q, bool) else ""
        kunta = check.resolved[i] if i in check.resolved else _lookup(query)
        out.append(MemberError(i, query, kunta, errors[i],
                               spans[i] if spans and i < len(spans) else None))
    network = (Network(name=spec.name, period=spec.period, members=members, path=path)
               if members and spec is not None else None)
    return network, out


def _lookup(query: str) -> Municipality | None:
    if not query:
        return None
    try:
        return regions.lookup(query)
    except UnknownMunicipality:
        return None


class _MemberCheck:
    """Resolves member entries in file order; a municipality listed twice is the later
    entry's error (entries that failed are not counted)."""

    def __init__(self, source: str, root: yaml.Node | None) -> None:
        self.source, self.root = source, root
        self.reg = regions.registry()
        self.seen: dict[str, int] = {}
        self.resolved: dict[int, Municipality | None] = {}  # member index -> its kunta

    def error(self, message: str, loc: tuple, line_loc: tuple | None = None) -> ParamsError:
        return ParamsError(message, file=self.source, field=_field(loc),
                           line=_line(self.root, loc if line_loc is None else line_loc))

    def resolve(self, query: object, loc: tuple) -> Municipality:
        try:
            return self.reg.get(query)
        except UnknownMunicipality as exc:
            raise self.error(exc.message, loc) from None

    def member(self, i: int, ms: _MemberSpec) -> Member:
        self.resolved[i] = None  # an unknown kunta is not looked up again
        kunta = self.resolve(ms.kunta, ("members", i, "kunta"))
        self.resolved[i] = kunta
        if kunta.code in self.seen:
            raise self.error(f"{kunta.name_fi} is listed twice (also members["
                             f"{self.seen[kunta.code]}]). Remove one entry.",
                             ("members", i, "kunta"), ("members", i))
        peers: list[Municipality] = []
        codes: set[str] = set()
        for j, q in enumerate(ms.verrokit):
            loc = ("members", i, "verrokit", j)
            peer = self.resolve(q, loc)
            if peer.code == kunta.code:
                raise self.error(f"{kunta.name_fi} cannot be its own comparison municipality. "
                                 "Remove it from 'verrokit'.", loc)
            if peer.code in codes:
                raise self.error(f"{peer.name_fi} is listed twice in 'verrokit'. Remove one.",
                                 loc)
            codes.add(peer.code)
            peers.append(peer)
        self.seen[kunta.code] = i
        return Member(kunta=kunta, verrokit=peers, notes=ms.notes)


def _member_spans(root: yaml.Node | None, text: str) -> list[tuple[int, int]]:
    """0-based (first, last) line of every item of the top-level ``members`` list; empty for
    a flow-style list (``members: [...]``), whose items share lines."""
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


def _read_mapping(text: str, source: str) -> tuple[dict, yaml.Node | None]:
    """The file's top-level mapping and node tree; ParamsError for YAML that is not one."""
    try:
        raw, root = load_yaml(text, source=source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, yaml.constructor.ConstructorError):  # !!python/... and the like
            raise ParamsError(f"Tags that make objects are not allowed ({problem}): a "
                              "parameter file holds plain text, numbers and lists. Remove the "
                              "'!!' tag.", file=source,
                              line=mark.line + 1 if mark else None) from None
        raise ParamsError(f"YAML syntax error: {problem}. Check the indentation and quoting.",
                          file=source, line=mark.line + 1 if mark else None) from None
    if raw is None:
        raise ParamsError("The file is empty. It needs 'name', 'period' and 'members' "
                          "(see params/network.yaml in the repository).", file=source)
    if not isinstance(raw, dict):
        raise ParamsError(f"Expected a mapping with 'name', 'period' and 'members', found "
                          f"{_type_name(raw)}.", file=source, line=_line(root, ()))
    return raw, root


def _spec_error(err: dict, raw: object, root: yaml.Node | None, source: str) -> ParamsError:
    loc = _data_loc(raw, err)
    err = {**err, "loc": loc}
    return ParamsError(_explain(err), file=source, field=_field(loc), line=_line(root, loc))


def load_yaml(text: str, *, source: str = "<params>") -> tuple[object, yaml.Node | None]:
    """The data of a parameter file and its node tree (for line numbers), read with
    :class:`_TextSafeLoader`. Raises ``yaml.YAMLError`` for the parser's own errors and
    ParamsError for aliases that expand beyond :data:`MAX_VALUES` values or refer to
    themselves."""
    loader = _TextSafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_expansion(root, source)
        return loader.construct_document(root), root
    except RecursionError:
        raise ParamsError("The YAML is nested too deeply to be a parameter file.",
                          file=source) from None
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Count the values the file expands to, each alias as often as it is used, without
    expanding anything: one pass over the distinct nodes, however often aliases repeat them."""
    size: dict[int, int] = {}
    path: set[int] = set()  # the nodes being counted: an alias to one of them is a loop
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted = stack.pop()
        key = id(node)
        if counted:
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            path.discard(key)
            if size[key] > MAX_VALUES:
                raise ParamsError(
                    f"YAML aliases (*name) expand this file to more than {MAX_VALUES:,} values "
                    "(an 'alias bomb'); a network file needs a few thousand at most. Write the "
                    "values out instead of repeating aliases.".replace(",", " "),
                    file=source, line=node.start_mark.line + 1)
            continue
        if key in size:
            continue
        if key in path:
            raise ParamsError("A YAML alias (*name) refers to the list or mapping it is in, "
                              "which never ends. Write the values out.", file=source,
                              line=node.start_mark.line + 1)
        path.add(key)
        stack.append((node, True))
        stack += [(c, False) for c in _children(node) if id(c) not in size]


# -- error wording ------------------------------------------------------------------------
def _field(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _data_loc(raw: object, err: dict) -> tuple:
    """The parts of a pydantic error location that address the data: union members add their
    type tags (``'constrained-str'``), which mean nothing to the file's author."""
    out: list = []
    node = raw
    for part in err["loc"]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and err["type"] == "missing":
            pass  # the missing key itself: name it
        else:
            continue
        out.append(part)
    return tuple(out)


def _type_name(v: object) -> str:
    if v is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", int: "a number",
            float: "a number", bool: "true/false"}.get(type(v), type(v).__name__)


def _explain(err: dict) -> str:
    kind, loc = err["type"], err["loc"]
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"The required field '{name}' is missing."
    if kind == "extra_forbidden":
        return (f"Unknown field '{name}'. Allowed: name, period, members; each member: kunta, "
                "verrokit, notes.")
    if kind == "too_short" and name == "members":
        return "The network has no members. List at least one under 'members'."
    if kind in ("list_type",):
        return f"Expected a list (lines starting with '- '), found {_type_name(err['input'])}."
    if kind in ("model_type", "dict_type"):
        return f"Expected a mapping (key: value), found {_type_name(err['input'])}."
    if kind.startswith("string") or kind.startswith("int"):
        if kind == "string_too_short" or err["input"] is None:
            return f"'{name}' is empty."
        what = "text" if name in ("name", "notes") else "a municipality name or code"
        return f"Expected {what}, found {_type_name(err['input'])}."
    msg = err.get("msg", "invalid value")
    return msg.removeprefix("Value error, ")[:1].upper() + msg.removeprefix("Value error, ")[1:]


def _line(root: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line
