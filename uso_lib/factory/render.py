"""Run a parameterised report notebook and turn it into one self-contained HTML file.

Execution is in-process: papermill's parameter injection (the same ``injected-parameters`` cell
the papermill command line writes) and nbclient driving a
:class:`~uso_lib.factory.kernels.WarmKernel`, cell by cell, so a failure names the cell of the
template notebook. The HTML comes from nbconvert's HTMLExporter with the code, the prompts, the
parameter cells and every stderr stream (warnings) removed, wrapped in uso's own page
(``templates/report.html.j2``): Finnish ``lang``, a table of contents from the h2/h3 headings,
a print style sheet, images as data URIs and no external resources, so the file can be mailed
or archived on its own.

The page and its appendix are written together (:func:`uso_lib.atomic.replace_all`): a reader
sees the old files or the new ones, never half of one, also when the process is killed.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import unquote

import nbformat
from jinja2 import Environment, FileSystemLoader, select_autoescape
from lxml import etree
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from papermill.parameterize import parameterize_notebook

from uso_lib import __version__
from uso_lib.atomic import replace_all
from uso_lib.errors import UsoError
from uso_lib.factory.kernels import KernelStartError, WarmKernel, notebook_imports

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HIDDEN_TAGS = ("injected-parameters", "parameters")
TITLE_PREFIX = "Tilanneanalyysi"
NBCONVERT_ALT = "No description has been provided for this image"


class RenderError(UsoError):
    """A report could not be rendered; says which cell failed and with what exception."""

    reason = "error"

    def __init__(self, message: str, *, cell: int | None = None, ename: str = "",
                 evalue: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.cell, self.ename, self.evalue = cell, ename, evalue


class RenderTimeout(RenderError):
    reason = "timeout"


class KernelDied(RenderError):
    """The kernel process vanished mid-report (out of memory, a crash, killed)."""

    reason = "kernel-died"


class NotebookError(RenderError):
    """The template notebook itself is missing or not a notebook."""

    reason = "notebook"


@dataclass
class Rendered:
    """One rendered report, still in memory: the factory decides where it goes."""

    html: bytes
    files: dict[str, bytes] = field(default_factory=dict)  # appendix file name -> content
    seconds: float = 0.0


# -- notebook in --------------------------------------------------------------------------
def read_notebook(source: str | os.PathLike, *, text: str | None = None) -> nbformat.NotebookNode:
    """The template notebook, with the metadata papermill expects on every cell."""
    path = Path(source)
    try:
        raw = text if text is not None else path.read_text(encoding="utf-8")
        nb = nbformat.reads(raw, as_version=4)
    except FileNotFoundError:
        raise NotebookError(f"Report notebook not found: {path}",
                            hint="Give the notebook with --notebook PATH.") from None
    except Exception as exc:  # nbformat raises several types for broken JSON
        raise NotebookError(f"{path} is not a readable Jupyter notebook: {exc}") from exc
    nb = nbformat.v4.upgrade(nb) or nb
    nb.metadata.setdefault("papermill", {"default_parameters": {}, "parameters": {},
                                         "environment_variables": {}})
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return nb


def parameterize(nb: nbformat.NotebookNode, params: Mapping[str, object],
                 kernel_name: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with papermill's injected-parameters cell after the parameters cell."""
    copy = nbformat.from_dict(nb)
    return parameterize_notebook(copy, dict(params), kernel_name=kernel_name, language="python")


# -- execution ----------------------------------------------------------------------------
def _template_cell(nb: nbformat.NotebookNode, index: int) -> int:
    """1-based number of executed cell ``index`` in the template notebook (the injected
    parameters cell does not exist there)."""
    injected = next((i for i, c in enumerate(nb.cells)
                     if "injected-parameters" in c.metadata.get("tags", [])), None)
    return index + 1 - (1 if injected is not None and index > injected else 0)


def _first_line(cell: nbformat.NotebookNode) -> str:
    line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def execute(nb: nbformat.NotebookNode, kernel: WarmKernel, *, workdir: str | os.PathLike,
            timeout: float | None = None) -> nbformat.NotebookNode:
    """Run every cell of ``nb`` in ``kernel`` (after wiping the previous report's state),
    with ``workdir`` as the working directory and ``timeout`` seconds for the whole notebook.
    Raises RenderError / RenderTimeout / KernelDied; after the latter two the kernel is gone."""
    kernel.prepare(workdir)
    kernel.uses += 1
    client = kernel.client_for(nb, timeout)
    deadline = None if not timeout else time.monotonic() + timeout
    for index, cell in enumerate(nb.cells):
        number = _template_cell(nb, index)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                kernel.kill()
                raise RenderTimeout(f"timed out after {timeout:g} s before cell {number}",
                                    cell=number)
            client.timeout = max(1, math.ceil(left))
        try:
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except CellExecutionError as exc:
            raise RenderError(
                f"cell {number} ({_first_line(cell)}) raised {exc.ename}: {exc.evalue}",
                cell=number, ename=exc.ename, evalue=exc.evalue) from None
        except CellTimeoutError:
            kernel.kill()
            raise RenderTimeout(f"timed out after {timeout:g} s in cell {number} "
                                f"({_first_line(cell)})", cell=number) from None
        except DeadKernelError:
            kernel.shutdown()
            raise KernelDied(f"the kernel died in cell {number} ({_first_line(cell)})",
                             cell=number) from None
    return nb


# -- HTML out -----------------------------------------------------------------------------
class _DropNoise(Preprocessor):
    """Removes the parameter cells (the template's and papermill's injected one, whatever
    they print), stderr streams (warnings, log lines) and code cells left without output."""

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            if set(cell.metadata.get("tags", [])) & set(HIDDEN_TAGS):
                continue
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", [])
                                if not (o.get("output_type") == "stream"
                                        and o.get("name") == "stderr")]
                if not cell.outputs:
                    continue
            cells.append(cell)
        nb.cells = cells
        return nb, resources


class _OneParseExporter(HTMLExporter):
    """nbconvert's HTML exporter without its closing BeautifulSoup pass.

    ``HTMLExporter.from_notebook_node`` parses the page it has just rendered and serialises it
    again only to give images without alt text a stand-in and inputs and outputs a tabindex.
    :func:`_structure` parses the page anyway (with lxml) and does both there
    (:func:`_accessible`), so a report is parsed and serialised once instead of twice (nbconvert's
    pass is a noticeable cost for a page of a megabyte).
    This method is nbconvert 7's up to that pass, on its public API (the filters' constructors,
    ``register_filter`` and the template exporter's own ``from_notebook_node``);
    ``tests/test_render.py`` checks that the page stays the same as with the stock exporter."""

    def from_notebook_node(self, nb, resources=None, **kw):
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        # the widget filter finds the notebook's widget state under the notebook's name, which
        # nbconvert makes "Notebook" when the resources do not name it
        meta = (resources or {}).get("metadata")
        name = (os.path.join(meta.get("path", ""), meta.get("name", "")) if meta is not None
                else "Notebook")
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata={name: nb.metadata},
                                                 parent=self, resources={"metadata": {
                                                     "name": name}})
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


# How the page is exported. optimistic_validation: the notebook is checked against its schema
# once after the preprocessors, not after each of them (a dozen times per report).
EXPORTER_OPTIONS = {"template_name": "basic", "exclude_input": True,
                    "exclude_input_prompt": True, "exclude_output_prompt": True,
                    "embed_images": True, "optimistic_validation": True}

# Exporters no export is using. An nbconvert exporter keeps state while it runs, so it serves
# one export at a time; building one compiles nbconvert's templates, which is slow, so it is
# kept for the next export, in whichever thread (a worker, or warm_up ahead of the first report).
_IDLE: queue.SimpleQueue[HTMLExporter] = queue.SimpleQueue()


def _new_exporter(cls: type[HTMLExporter] = _OneParseExporter) -> HTMLExporter:
    """An exporter set up for reports (``cls`` is for the test against the stock one)."""
    log = logging.getLogger("uso.render.nbconvert")  # its alt-text notices are noise here
    log.setLevel(logging.ERROR)
    exp = cls(log=log, **EXPORTER_OPTIONS)
    exp.register_preprocessor(_DropNoise(), enabled=True)
    return exp


@contextlib.contextmanager
def _exporter() -> Iterator[HTMLExporter]:
    """An idle exporter, or a new one, for one export; idle again afterwards."""
    try:
        exp = _IDLE.get_nowait()
    except queue.Empty:
        exp = _new_exporter()
    try:
        yield exp
    finally:
        _IDLE.put(exp)


@cache
def _page_env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES),
                       autoescape=select_autoescape(["html", "j2"]), keep_trailing_newline=True)


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-").lower() or "osio"


# -- the page as a tree -------------------------------------------------------------------
# The body nbconvert renders is parsed with lxml (libxml2's HTML parser, in C) and written out
# again by lxml's HTML serializer, several times quicker than BeautifulSoup's html.parser on a
# report's page (benchmarks/README.md). libxml2 builds from broken or odd
# HTML what a browser builds: a <p> ends where a <div> starts, a <textarea> holds text, not tags,
# a document inside an output loses its <html>/<head>/<body> tags, a repeated attribute keeps
# its first value. The page is written as parsed, whitespace and attribute order included;
# libxml2 writes void elements as <br>, an HTML 4 boolean attribute bare (<input checked>), and
# spaces, control and non-ASCII characters in href, src and action percent-encoded, as a
# browser's URL parser does anyway: "#Väestö" is written "#V%C3%A4est%C3%B6", and a browser
# still finds id="Väestö" with it (tests/test_render.py checks that the page means the same as
# the one nbconvert's own exporter leads to).
_WRAPPERS = frozenset({"html", "head", "body"})  # what libxml2 puts around a fragment
_NOT_TEXT = frozenset({"script", "style", "template", "rt", "rp"})  # not in a heading's text
_WORDS = re.compile(r"\S+")


def _parse(html: str) -> etree._Element:
    """``html``, a fragment, parsed as the content of a page's ``<body>``; that body is
    returned. huge_tree: without it libxml2 silently drops an attribute value over 10 MB (a
    large image's data URI). A parser per call: an lxml parser serves one thread at a time."""
    parser = etree.HTMLParser(encoding="utf-8", huge_tree=True, no_network=True)
    page = etree.fromstring(f"<html><body>{html}</body></html>".encode(), parser)
    body = page.find("body")
    # After a stray </html> in an output libxml2 starts another <html> beside the first; what
    # it holds is still the report's, so it goes on in the body.
    for node in list(page.itersiblings()):
        _move_into(body, node)
    return body


def _add_text(parent: etree._Element, text: str | None) -> None:
    """``text`` at the end of what ``parent`` holds."""
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _move_into(body: etree._Element, node: etree._Element) -> None:
    """``node`` to the end of ``body``; libxml2's html, head and body tags give up only
    their content."""
    if node.tag not in _WRAPPERS:
        body.append(node)  # with its tail
        return
    _add_text(body, node.text)
    for child in list(node):
        _move_into(body, child)
    _add_text(body, node.tail)


def _inner_html(body: etree._Element) -> str:
    """What ``body`` holds, written by lxml (every child with the text after it)."""
    return escape(body.text or "", quote=False) + "".join(
        etree.tostring(el, method="html", encoding="unicode") for el in body)


def _classes(el: etree._Element) -> list[str]:
    return _WORDS.findall(el.get("class") or "")


def _strings(el: etree._Element) -> Iterator[str]:
    """The text inside ``el`` piece by piece (not comments, scripts, style sheets)."""
    skip = 0  # open elements whose text is not the heading's
    for event, node in etree.iterwalk(el, events=("start", "end", "comment", "pi")):
        if event == "start":
            if node.tag in _NOT_TEXT:
                skip += 1
            elif node.text and not skip:
                yield node.text
            continue
        if event == "end" and node.tag in _NOT_TEXT:
            skip -= 1
        if node.tail and node is not el and not skip:
            yield node.tail


def _text(el: etree._Element, sep: str) -> str:
    return sep.join(s for s in (piece.strip() for piece in _strings(el)) if s)


FOCUSABLE = {"jp-Cell-inputWrapper", "jp-OutputArea-output"}


def _accessible(tags: list[etree._Element]) -> None:
    """What nbconvert's HTMLExporter adds after rendering (see :class:`_OneParseExporter`),
    in Finnish: images without alt text get "Kuvio" (also those that have nbconvert's English
    stand-in), and inputs and outputs inside a ``.jp-Notebook`` become focusable."""
    for tag in tags:
        if tag.tag == "img":
            if tag.get("alt", NBCONVERT_ALT) == NBCONVERT_ALT:
                tag.set("alt", "Kuvio")
        elif (tag.tag == "div" and FOCUSABLE.intersection(_classes(tag))
              and any("jp-Notebook" in _classes(a) for a in tag.iterancestors())):
            tag.set("tabindex", "0")


def _structure(body: str) -> tuple[etree._Element, list[dict]]:
    """Make every h1-h3 id unique (a heading keeps the id it has, so links made by the report
    itself still resolve; one without an id, or with a taken one, gets a readable new one) and
    collect the table of contents from the h2/h3 headings. The tree is walked once for all of
    it (a report has ~4500 tags). Returns the parsed body (see :func:`_parse`) and the TOC."""
    root = _parse(body)
    tags = list(root.iterdescendants(etree.Element))
    _accessible(tags)
    headings = [t for t in tags if t.tag in ("h1", "h2", "h3")]
    heading_set = set(headings)
    used: set[str] = {t.get("id") for t in tags
                      if t.get("id") is not None and t not in heading_set}
    used.add("toc-title")
    toc: list[dict] = []
    for h in headings:
        anchors = [a for a in h.iter("a") if "anchor-link" in _classes(a)]
        text = " ".join(_text(h, " ").removesuffix("¶").split())
        for a in anchors:  # the ¶ is not part of the heading's text
            text = " ".join(text.replace(_text(a, ""), "").split())
        # nbconvert percent-encodes non-ASCII ids ("V%C3%A4est%C3%B6"); a link written by hand
        # ("#Väestö") only finds the decoded form, and an encoded link finds both.
        ident = unquote(h.get("id") or "")
        h.set("id", ident)
        for a in anchors:
            a.set("href", f"#{ident}")
        if not ident or ident in used:
            base = _slug(ident or text)
            ident, n = base, 1
            while ident in used:
                n += 1
                ident = f"{base}-{n}"
            h.set("id", ident)
            for a in anchors:
                a.set("href", f"#{ident}")
        used.add(ident)
        if h.tag in ("h2", "h3"):
            toc.append({"id": ident, "text": text, "level": int(h.tag[1])})
    return root, toc


def _nest(toc: list[dict]) -> list[dict]:
    """h3 entries become children of the h2 before them, so that the numbered list counts
    chapters only (1. Yhteenveto, 2. Väestökehitys ...) and the indicators sit under them."""
    out: list[dict] = []
    for item in toc:
        if item["level"] == 3 and out:
            out[-1]["children"].append(item)
        else:
            out.append({**item, "children": []})
    return out


def _place_toc(root: etree._Element, nav: str) -> bool:
    """Put the table of contents ``nav`` right after the block of ``root`` (the parsed body)
    that holds the first h1, the report's title, so that it follows the title and whatever the
    title's cell says. False, and nothing placed, when there is no h1 (the page template then
    adds title and nav)."""
    block = next(root.iter("h1"), None)
    if block is None:
        return False
    while block.getparent() is not root:
        block = block.getparent()
    fragment = _parse(nav)
    tail, block.tail = block.tail, fragment.text  # the text after the block follows the nav
    last = block
    for node in list(fragment):
        last.addnext(node)
        last = node
    last.tail = (last.tail or "") + (tail or "")
    return True


def page_title(name: str) -> str:
    return f"{TITLE_PREFIX}: {name}"


def to_html(nb: nbformat.NotebookNode, *, title: str) -> str:
    """The executed notebook as one self-contained HTML page."""
    with _exporter() as exporter:
        body, _ = exporter.from_notebook_node(nb)
    root, toc = _structure(body)
    env = _page_env()
    nav = env.get_template("toc.html.j2").render(toc=_nest(toc)) if toc else ""
    if nav and _place_toc(root, nav):
        nav = ""
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html.j2").render(
        title=title, body=_inner_html(root), nav=nav,
        has_h1=next(root.iter("h1"), None) is not None, css=css, version=__version__)


def warm_up(exporters: int = 1) -> None:
    """Get the export ready before the first report needs it: ``exporters`` idle exporters
    with nbconvert's templates and uso's page templates compiled; cold, the first report's
    export would wait for them. The factory calls this while its kernels start, when this
    process has nothing else to do."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Otsikko\n\n## Osio\n\n### Kohta &amp; muuta")])
    made = [_new_exporter() for _ in range(exporters - _IDLE.qsize())]  # an earlier run's stay
    try:
        for exp in made:
            exp.from_notebook_node(nbformat.from_dict(nb))
    finally:
        for exp in made:
            _IDLE.put(exp)
    to_html(nb, title=TITLE_PREFIX)


# -- files --------------------------------------------------------------------------------
# -- one report ---------------------------------------------------------------------------
def render_to_memory(nb: nbformat.NotebookNode, params: Mapping[str, object], *,
                     kernel: WarmKernel, title: str, appendix_stem: str | None = None,
                     timeout: float | None = None,
                     inputs: Mapping[str, str | bytes] | None = None) -> Rendered:
    """Execute ``nb`` with ``params`` in ``kernel`` and export it. The kernel works in a fresh
    private folder that holds ``inputs`` (file name -> content, e.g. the network file the
    ``verkosto`` parameter names); with ``appendix_stem`` the ``liite`` parameter is set to
    that stem (relative to the folder) and the files the notebook writes as ``<stem>.*`` are
    returned alongside the HTML, ready to be placed next to it. Relative paths keep the
    parameters, and so the report, the same wherever and whenever it is rendered."""
    start = time.perf_counter()
    params = dict(params)
    if appendix_stem is not None:
        params["liite"] = appendix_stem
    work = Path(tempfile.mkdtemp(prefix="uso-render-"))
    try:
        for name, data in (inputs or {}).items():
            # a plain name, or one folder deep (huomiot/178-juva.md beside the network file)
            parts = [p for p in Path(name).parts if p not in ("", ".", "..", "/")][-2:]
            target = work.joinpath(*parts)
            target.parent.mkdir(exist_ok=True)
            if isinstance(data, str):
                target.write_text(data, encoding="utf-8")
            else:
                target.write_bytes(data)
        executed = execute(parameterize(nb, params, kernel.name), kernel, workdir=work,
                           timeout=timeout)
        html = to_html(executed, title=title).encode("utf-8")
        files = {}
        if appendix_stem is not None:
            for p in sorted(work.iterdir()):
                if p.is_file() and p.name.startswith(appendix_stem + "."):
                    files[p.name] = p.read_bytes()
        return Rendered(html=html, files=files, seconds=time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(notebook: str | os.PathLike, params: Mapping[str, object], out: str | os.PathLike,
           *, title: str, timeout: float | None = None, kernel_name: str | None = None,
           appendix: bool = True) -> Path:
    """Render one report to ``out`` (an .html path) in a kernel of its own. The factory
    (:mod:`uso_lib.factory`) does the same with warm kernels; this is the simple path for
    scripts. Appendix files land next to ``out`` (``<stem>-liite.csv`` / ``.xlsx``)."""
    out = Path(out)
    nb = read_notebook(notebook)
    stem = out.stem + "-liite" if appendix else None
    try:
        kernel = WarmKernel(kernel_name, imports=notebook_imports(nb)).start()
    except KernelStartError as exc:
        raise RenderError(str(exc)) from exc
    try:
        done = render_to_memory(nb, params, kernel=kernel, title=title, appendix_stem=stem,
                                timeout=timeout)
    finally:
        kernel.shutdown()
    # the page and its appendix change together or not at all
    return replace_all({**{out.parent / name: data for name, data in done.files.items()},
                        out: done.html})[-1]
