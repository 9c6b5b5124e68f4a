"""The report as a print-ready PDF: the exported HTML printed by headless Chromium.

The page's own print style sheet (``templates/report.css``, ``@media print``) sets A4, the
margins, a page break before each theme and keeps charts and tables whole; Chromium adds the
running header (the report's title and date) and the page numbers from Playwright's header
and footer templates, keeps the table of contents' links as links to the pages, writes the
document outline (bookmarks) from the headings and a tagged PDF, and leaves the text
selectable. The page is printed twice: the first print's outline says on which page each
heading landed (read with pypdf), and the second has those page numbers in the table of
contents. Chromium is Debian's (``apt-get install chromium``; Playwright is told to use it,
so nothing is downloaded); Playwright is the ``[pdf]`` extra.

Playwright's synchronous API may not run in a thread that also drives another event loop (the
factory's worker threads run the notebook's kernel client), so one printer thread per process
owns Playwright and one browser, started at the first PDF and stopped by :func:`release`;
callers from any thread hand it a page and wait for the PDF.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
from concurrent.futures import Future
from html import escape
from pathlib import Path

from uso_lib.errors import UsoError
from uso_lib.extras import require

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PAGE_TIMEOUT_MS = 120_000

# Playwright's header and footer are drawn in the page margins with their own styles (no
# fonts or colours of the page): small, muted, aligned with the text column.
_HEADER = ('<div style="font-size:8pt;color:#5b6675;width:100%;margin:0 14mm;display:flex;'
           'justify-content:space-between;font-family:sans-serif">'
           '<span>{left}</span><span>{right}</span></div>')
_FOOTER = ('<div style="font-size:8pt;color:#5b6675;width:100%;text-align:center;'
           'font-family:sans-serif">sivu <span class="pageNumber"></span> / '
           '<span class="totalPages"></span></div>')


class PdfError(UsoError):
    """Chromium could not print the page."""


def chromium_path() -> str | None:
    """The Chromium to print with: ``USO_CHROMIUM`` if set, else the first on PATH, else
    Debian's ``/usr/bin/chromium``."""
    env = os.environ.get("USO_CHROMIUM")
    if env:
        return env if Path(env).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def check() -> str:
    """What PDF output needs, checked before a run: Playwright (the ``[pdf]`` extra) and a
    Chromium. Returns the Chromium's path; raises a UsoError that names what is missing."""
    require("playwright.sync_api", "pdf")
    path = chromium_path()
    if path is None:
        where = os.environ.get("USO_CHROMIUM")
        raise UsoError(
            "PDF output needs Chromium, which was not found"
            + (f" at USO_CHROMIUM={where}" if where else " (chromium on PATH)") + ".",
            hint="Install it with `apt-get install chromium` (Debian/Ubuntu), or set "
                 "USO_CHROMIUM to a Chromium or Chrome executable; Playwright itself comes "
                 "with `pip install -e '.[pdf]'`.")
    return path


class _Printer:
    """One thread with Playwright and a browser; jobs come through a queue."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="uso-pdf", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        pw = browser = None
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                html, header, fut = job
                if not fut.set_running_or_notify_cancel():
                    continue
                try:
                    if browser is None:
                        pw = sync_playwright().start()
                        browser = pw.chromium.launch(executable_path=self.executable,
                                                     args=FLAGS, headless=True)
                    fut.set_result(_print(browser, html, header))
                except Exception as exc:
                    fut.set_exception(exc)
                    if browser is not None and not browser.is_connected():
                        browser = None  # a crashed browser is started again next time
        finally:
            if browser is not None:
                try:
                    browser.close()
                except Exception:
                    pass
            if pw is not None:
                try:
                    pw.stop()
                except Exception:
                    pass

    def submit(self, html: bytes, header: tuple[str, str]) -> Future:
        fut: Future = Future()
        self.jobs.put((html, header, fut))
        return fut

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=30)


def _print(browser, html: bytes, header: tuple[str, str]) -> bytes:
    page = browser.new_page()
    try:
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        # the page is self-contained: no request leaves it (images are data URIs)
        page.route("**/*", lambda route: route.abort()
                   if not route.request.url.startswith(("data:", "about:")) else
                   route.continue_())
        page.set_content(html.decode("utf-8"), wait_until="load")
        page.emulate_media(media="print")
        left, right = (escape(h) for h in header)
        options = dict(format="A4", print_background=True, prefer_css_page_size=True,
                       display_header_footer=True,
                       header_template=_HEADER.format(left=left, right=right),
                       footer_template=_FOOTER, outline=True, tagged=True)
        pdf = page.pdf(**options)
        numbers = heading_pages(pdf)
        if numbers and page.evaluate(_TOC_PAGES, numbers):
            pdf = page.pdf(**options)  # the same layout, with the page numbers in the TOC
        return pdf
    finally:
        page.close()


# The printed table of contents gets each entry's page number, right-aligned on the entry's
# own line, so that the pages do not move between the two prints.
_TOC_PAGES = """numbers => {
  let n = 0;
  for (const a of document.querySelectorAll("nav.toc a")) {
    const page = numbers[a.textContent.replace(/\\s+/g, " ").trim()];
    if (page === undefined) continue;
    const span = document.createElement("span");
    span.className = "toc-page";
    span.textContent = String(page);
    span.style.cssText = "float:right;color:#5b6675;font-variant-numeric:tabular-nums";
    a.after(span);
    n += 1;
  }
  return n;
}"""


def heading_pages(pdf: bytes) -> dict[str, int]:
    """Heading text -> page number (1-based), from the document outline Chromium writes;
    the first heading of a text wins. Empty when pypdf is missing or the outline unreadable."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return {}
    import io

    try:
        reader = PdfReader(io.BytesIO(pdf))
        out: dict[str, int] = {}

        def walk(items) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item)
                else:
                    title = " ".join(str(item.title).split())
                    out.setdefault(title, reader.get_destination_page_number(item) + 1)

        walk(reader.outline)
        return out
    except Exception:  # a page number is a convenience: the PDF stands without it
        return {}


_LOCK = threading.Lock()
_PRINTER: _Printer | None = None


def html_to_pdf(html: bytes, *, title: str, date: str = "",
                timeout: float | None = 300.0) -> bytes:
    """``html`` (a self-contained page) as PDF bytes; the running header shows ``title`` and
    ``date``. Safe to call from any thread; the printer starts at the first call."""
    global _PRINTER
    with _LOCK:
        if _PRINTER is None or not _PRINTER.thread.is_alive():
            _PRINTER = _Printer(check())
        printer = _PRINTER
    fut = printer.submit(html, (title, date))
    try:
        return fut.result(timeout=timeout)
    except TimeoutError:
        fut.cancel()
        raise PdfError(f"Chromium did not print the page within {timeout:g} s.") from None
    except UsoError:
        raise
    except Exception as exc:
        raise PdfError(f"Chromium could not print the page: {type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''}") from None


def release() -> None:
    """Stop the printer thread and its browser (the end of a run)."""
    global _PRINTER
    with _LOCK:
        printer, _PRINTER = _PRINTER, None
    if printer is not None:
        printer.stop()
