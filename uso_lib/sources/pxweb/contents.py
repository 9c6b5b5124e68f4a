"""Which content value of a table an indicator means: by code first, by label only as a
reported fallback.

Codes are stable where labels are not (the key figures' labels were reworded in 2023), but
publishers add prefixes to codes (StatFin 11ae serves ``muutl-vm43_netto`` for ``vm43_netto``
since June 2026). So a catalogue code is matched exactly, then ignoring case, then ignoring a
publisher prefix (``vaesto`` finds ``vaerak-vaesto``, and ``muutl-vm43_netto`` finds a bare
``vm43_netto`` in an older table). Only when no code matches, or the catalogue knows only the
published label, is the label matched against the metadata's value texts -- ignoring case,
spaces and a trailing year -- and the refresh summary says which code the label found, so the
catalogue can be completed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from uso_lib.catalog import Indicator
from uso_lib.errors import SourceError
from uso_lib.sources.pxweb.meta import Variable

_TRAILING_YEAR = re.compile(r",\s*(19|20)\d{2}$")


@dataclass(frozen=True)
class ContentMatch:
    code: str  # the table's value code
    how: str  # "code", "prefix", "label" or "only" (the table's single content)
    note: str | None = None  # for the refresh summary: a label fallback or a prefixed code


def _stem(code: str) -> str:
    return code.casefold().split("-", 1)[-1]


def match_code(wanted: str, values: tuple[str, ...]) -> str | None:
    """``wanted`` among ``values``: exactly, ignoring case, or ignoring a publisher prefix
    (only when that leaves a single candidate)."""
    if wanted in values:
        return wanted
    low = {v.casefold(): v for v in values}
    if wanted.casefold() in low:
        return low[wanted.casefold()]
    hits = [v for v in values if _stem(v) == _stem(wanted)]
    return hits[0] if len(hits) == 1 else None


def label_key(text: str) -> str:
    """A value label compared ignoring case, every space and a trailing year (", 2021")."""
    text = unicodedata.normalize("NFC", str(text)).strip()
    text = _TRAILING_YEAR.sub("", text)
    return "".join(text.casefold().split())


def match_label(label: str, var: Variable, *, what: str, hint: str) -> str:
    """The value code of ``var`` whose text is ``label`` (see :func:`label_key`).

    No match: a :class:`SourceError` listing the table's closest labels, so a maintainer can
    correct the catalogue; several matches (the same item for two years): one naming them.
    """
    key = label_key(label)
    hits = [code for code, text in zip(var.values, var.value_texts, strict=False)
            if label_key(text) == key]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise SourceError(f"{what}: the label {label!r} names several {var.code} values: "
                          + ", ".join(f"{c} ({var.label(c)!r})" for c in hits) + ".", hint=hint)
    close = process.extract(key, {i: label_key(t) for i, t in enumerate(var.value_texts)},
                            scorer=fuzz.WRatio, limit=5)
    listed = "; ".join(f"{var.value_texts[i]!r} ({var.values[i]})" for _, _, i in close)
    raise SourceError(f"{what}: no {var.code} value is labelled {label!r}. Closest labels of "
                      f"the table: {listed or 'none (the variable has no value texts)'}.",
                      hint="Correct live.content_label in the catalogue to the table's exact "
                           "label, or set live.content to the code. " + hint)


def content_code(ind: Indicator, content: Variable, *, what: str, hint: str) -> ContentMatch:
    """The content value of one indicator (see the module docstring); a SourceError naming the
    table's codes when neither code nor label matches."""
    code, label = ind.live.content, ind.live.content_label
    where = f"{what}: indicator {ind.id}"
    if code is not None:
        hit = match_code(code, content.values)
        if hit == code or (hit is not None and hit.casefold() == code.casefold()):
            return ContentMatch(hit, "code")
        if hit is not None:
            return ContentMatch(hit, "prefix", f"{ind.id}: content code {code} is served as "
                                               f"{hit}; set live.content: {hit}.")
        if not label:
            shown = ", ".join(content.values[:20]) + (" ..." if len(content.values) > 20
                                                       else "")
            raise SourceError(f"{where}: no content code {code!r}; the table has {shown}.",
                              hint=hint)
        hit = match_label(label, content, what=where, hint=hint)
        return ContentMatch(hit, "label", f"{ind.id}: content code {code} is not in the "
                                          f"table; its label {label!r} found {hit} "
                                          f"({content.label(hit)!r}): correct live.content "
                                          "once confirmed.")
    if label:
        hit = match_label(label, content, what=where, hint=hint)
        return ContentMatch(hit, "label", f"{ind.id}: content label {label!r} resolved to "
                                          f"code {hit}; set live.content: {hit} once "
                                          "confirmed.")
    if len(content.values) != 1:
        raise SourceError(f"{where} names no content code and the table has "
                          f"{len(content.values)} ({', '.join(content.values[:10])}).",
                          hint=hint)
    return ContentMatch(content.values[0], "only")


__all__ = ["ContentMatch", "match_code", "label_key", "match_label", "content_code"]
