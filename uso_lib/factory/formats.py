"""The report's other formats in the factory: a PDF and a slide deck made from the page.

``uso report --format html,pdf,pptx`` renders the notebook once; the PDF
(:mod:`uso_lib.factory.pdf`) and the deck (:mod:`uso_lib.factory.slides`) are made from the
finished HTML in the same job, so they travel with the page and the appendix (a Dask worker
sends them back too) and are written with them and the manifest entry in one go. The HTML is
always written: it is the reading copy, and what later runs convert from.

The manifest entry lists the outputs (``outputs``: format -> file, and for the deck the hash of
its template), and ``file_hashes`` holds their hashes. A run whose page is up to date makes
only the formats that are missing, modified or made from another template, from the page on
disk, without executing the notebook (a *convert-only* job); the earlier outputs that are
still valid are carried into the new entry.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from uso_lib import fmt
from uso_lib.errors import UsoError

if TYPE_CHECKING:
    from uso_lib.factory.jobs import Job, Outcome

FORMATS = ("html", "pdf", "pptx")
EXTRA = ("pdf", "pptx")  # made from the page


def parse_formats(value: str | Iterable[str]) -> tuple[str, ...]:
    """``"html,pdf"`` -> ``("html", "pdf")`` in the canonical order; html is always there."""
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = {s.strip().lower().lstrip(".") for s in items if s.strip()}
    unknown = sorted(wanted - set(FORMATS))
    if unknown:
        raise UsoError(f"Unknown report format {', '.join(unknown)}: the formats are "
                       f"{', '.join(FORMATS)}.", hint="For example --format html,pdf,pptx.")
    return tuple(f for f in FORMATS if f in wanted or f == "html")


def extra(formats: Sequence[str]) -> tuple[str, ...]:
    return tuple(f for f in formats if f in EXTRA)


def check(formats: Sequence[str], pptx_template: str | Path | None = None) -> bytes | None:
    """What the formats need, before anything is rendered: Playwright and Chromium for a PDF
    (a UsoError naming what is missing), a readable template for the deck. Returns the
    template's bytes (None: python-pptx's own 16:9 layout)."""
    if "pdf" in formats:
        from uso_lib.factory.pdf import check as check_pdf

        check_pdf()
    if pptx_template is not None and "pptx" not in formats:
        raise UsoError("--pptx-template is for slide decks: add pptx to --format.")
    if "pptx" in formats:
        from uso_lib.factory.slides import read_template

        return read_template(pptx_template)
    return None


def output_name(key: str, fmt_: str) -> str:
    return f"{key}.{fmt_}"


def template_key(template: bytes | None) -> str | None:
    from uso_lib.factory.manifest import text_hash

    return text_hash(template) if template else None


def missing(entry: dict | None, formats: Sequence[str], out: Path,
            template: bytes | None) -> list[str]:
    """The extra formats of ``formats`` that an up-to-date report lacks: never made, the file
    gone or changed, or (the deck) made from another template."""
    from uso_lib.factory.manifest import file_hash

    entry = entry or {}
    made = entry.get("outputs") or {}
    hashes = entry.get("file_hashes") or {}
    todo = []
    for f in extra(formats):
        meta = made.get(f)
        path = out / str((meta or {}).get("file") or "")
        if (not meta or not path.is_file() or hashes.get(path.name) != file_hash(path)
                or (f == "pptx" and meta.get("template") != template_key(template))):
            todo.append(f)
    return todo


def reuse(entry: dict, out: Path, still_valid: Iterable[str]) -> dict:
    """What a convert-only job carries into its outcome: the files of the up-to-date report
    (``files``: the page, the appendix and the outputs that stay valid, name -> content) and
    those outputs' manifest meta (``outputs``)."""
    made = entry.get("outputs") or {}
    names = [entry["file"], *(entry.get("appendix") or [])]
    names += [made[f]["file"] for f in still_valid]
    return {"files": {name: (out / name).read_bytes() for name in names},
            "outputs": {f: made[f] for f in still_valid}}


_MADE = re.compile(rb"Laadittu (\d{1,2}\.\d{1,2}\.\d{4})")


def make(html: bytes, formats: Sequence[str], *, key: str, title: str,
         template: bytes | None = None, timeout: float | None = None
         ) -> tuple[dict[str, bytes], dict[str, dict]]:
    """The extra formats of one page: (file name -> content, format -> manifest meta)."""
    files: dict[str, bytes] = {}
    meta: dict[str, dict] = {}
    if "pdf" in formats:
        from uso_lib.factory.pdf import html_to_pdf

        m = _MADE.search(html)
        day = m.group(1).decode() if m else fmt.day(date.today())
        name = output_name(key, "pdf")
        files[name] = html_to_pdf(html, title=title, date=day, timeout=timeout)
        meta["pdf"] = {"file": name}
    if "pptx" in formats:
        from uso_lib.factory.slides import html_to_pptx

        name = output_name(key, "pptx")
        files[name] = html_to_pptx(html, template=template)
        meta["pptx"] = {"file": name, "template": template_key(template)}
    return files, meta


def finish(job: Job, out: Outcome) -> None:
    """After the page: the job's extra formats into the outcome. A format that cannot be
    made fails the report (nothing of it is written), with the format as the reason."""
    if not job.formats or not out.ok or out.html is None:
        return
    current = "pdf" if "pdf" in job.formats else "pptx"
    try:
        for f in job.formats:
            current = f
            files, meta = make(out.html, (f,), key=job.key, title=job.title,
                               template=job.pptx_template, timeout=job.timeout)
            out.outputs.update(files)
            out.output_meta.update(meta)
    except Exception as exc:  # recorded per municipality, never raised
        out.status, out.reason = "failed", current
        out.error = exc.message if isinstance(exc, UsoError) else f"{type(exc).__name__}: {exc}"
        out.html, out.files, out.outputs, out.output_meta = None, {}, {}, {}


def convert_only(job: Job, out: Outcome) -> Outcome:
    """A report whose page is up to date: its files as they are, and the missing formats."""
    assert job.reuse is not None
    files = dict(job.reuse["files"])
    kept = dict(job.reuse["outputs"])
    out.status, out.attempts = "ok", 0
    out.html = files.pop(output_name(job.key, "html"))
    out.outputs = {m["file"]: files.pop(m["file"]) for m in kept.values()}
    out.output_meta = kept
    out.files = files  # the appendix
    out.notes.append("page up to date; made " + ", ".join(job.formats))
    finish(job, out)
    return out


def release() -> None:
    """Stop the PDF printer of this process, if one was started."""
    if "uso_lib.factory.pdf" in sys.modules:
        sys.modules["uso_lib.factory.pdf"].release()
