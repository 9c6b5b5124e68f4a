"""Spreadsheets for figures no API serves (HYTE-kerroin, state subsidies, emissions, ...).

A user fills the template (``uso_lib/data/templates/uso-aineistopohja.csv`` / ``.xlsx``): one
row per figure with the columns

=============  ========  ===============================================================
column         required  meaning
=============  ========  ===============================================================
kunta          yes       municipality code (``178``) or name (``Juva``); ``SSS``/``koko maa``
vuosi          yes       year, e.g. ``2023``
arvo           yes*      the figure; decimal comma or point; ``5 887`` is fine
indikaattori   yes**     indicator id from ``uso indicators`` (e.g. ``hyte_kerroin``)
lahde          yes       where the figure comes from, as it should read in the report
kategoria      no        breakdown code of the indicator (empty = total)
tila           no        publisher's status symbol when the figure is missing (``..``)
=============  ========  ===============================================================

Figures and years must be plausible for their indicator (:mod:`uso_lib.plausible`: a share
lies within 0-100 %, a population is not negative, a year is not in the future unless the
indicator is a projection), and ``tila`` must be one of the publishers' symbols (``.``, ``..``,
``...``, ``-``, ``:``); the same rules guard a live refresh.

\\* may be empty when ``tila`` says why; \\** may be left out with ``uso data import --indicator``.

Every row is validated and every problem is reported at once, naming the file, the row (as the
spreadsheet program numbers it, header = row 1) and the column, so a user can fix the file in
one go. Nothing is written unless the whole file is valid: half an import would mix old and new
figures without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from uso_lib import catalog as catalog_mod
from uso_lib import plausible, regions
from uso_lib.config import PACKAGE_DATA
from uso_lib.errors import DataError, UsoError
from uso_lib.store import KEY, Store, default_store, normalize

TEMPLATE_DIR = PACKAGE_DATA / "templates"
TEMPLATE_STEM = "uso-aineistopohja"
REQUIRED = ("kunta", "vuosi", "arvo", "indikaattori", "lahde")
OPTIONAL = ("kategoria", "tila")
COLUMNS = REQUIRED + OPTIONAL
ALIASES = {  # folded header -> canonical column
    "kunta": "kunta", "kuntakoodi": "kunta", "municipality": "kunta", "kommun": "kunta",
    "vuosi": "vuosi", "year": "vuosi", "ar": "vuosi",
    "arvo": "arvo", "value": "arvo", "varde": "arvo",
    "indikaattori": "indikaattori", "indicator": "indikaattori", "indikator": "indikaattori",
    "lahde": "lahde", "source": "lahde", "kalla": "lahde",
    "kategoria": "kategoria", "category": "kategoria", "kategori": "kategoria",
    "tila": "tila", "status": "tila",
}
COUNTRY_NAMES = {"sss", "koko maa", "suomi", "finland", "whole country", "hela landet"}
STATUS_VALUES = set(plausible.STATUS_SYMBOLS) | set(plausible.STATUS_ALIASES)
MAX_REPORTED = 25
SHEET_NAMES = ("aineisto", "data")


@dataclass(frozen=True)
class Problem:
    row: int | None  # spreadsheet row number (header = 1), None for the whole file
    column: str | None
    message: str

    def text(self, file: str) -> str:
        where = [file] + ([f"row {self.row}"] if self.row else []) + (
            [f"column '{self.column}'"] if self.column else [])
        return ", ".join(where) + ": " + self.message


class SpreadsheetError(DataError):
    """A spreadsheet that does not validate; lists every problem with file, row and column."""

    def __init__(self, file: Path | str, problems: list[Problem]) -> None:
        self.file, self.problems = str(file), list(problems)
        lines = [p.text(Path(self.file).name) for p in self.problems[:MAX_REPORTED]]
        if len(self.problems) > MAX_REPORTED:
            lines.append(f"... and {len(self.problems) - MAX_REPORTED} more problems")
        n = len(self.problems)
        super().__init__(
            f"{self.file}: {n} problem{'s' if n > 1 else ''}; nothing was imported.\n  "
            + "\n  ".join(lines),
            hint=f"The template with the expected columns: {TEMPLATE_DIR / TEMPLATE_STEM}.csv "
                 "(or .xlsx).")


@dataclass
class Loaded:
    """A validated spreadsheet as store rows."""

    path: Path
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def indicators(self) -> list[str]:
        return sorted(self.frame["indicator"].unique())

    def summary(self) -> pd.DataFrame:
        """Per indicator: rows, municipalities, years, missing figures."""
        g = self.frame.groupby("indicator")
        return pd.DataFrame({
            "rows": g.size(),
            "municipalities": g["kunta"].nunique(),
            "first": g["year"].min(), "last": g["year"].max(),
            "missing": g["value"].apply(lambda s: int(s.isna().sum())),
        }).reset_index()


def template_path(kind: str = "csv") -> Path:
    return TEMPLATE_DIR / f"{TEMPLATE_STEM}.{kind}"


def _header(name: object) -> str:
    key = regions.fold(str(name)).replace(" ", "")
    return ALIASES.get(key, ALIASES.get(regions.fold(str(name)), str(name).strip()))


def read_table(path: Path) -> pd.DataFrame:
    """The sheet as text cells (every value a string, empty cells ''), canonical headers."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
            try:
                book = pd.read_excel(path, sheet_name=None, dtype=object, header=0,
                                     engine="calamine")
            except FileNotFoundError:
                raise
            except Exception as exc:  # calamine has its own error types for broken files
                raise DataError(f"{path}: cannot read the spreadsheet ({exc}).",
                                hint="Is it really a spreadsheet? Open it and save it again "
                                     "as .xlsx, or as .csv.") from exc
            names = {regions.fold(n): n for n in book}
            sheet = next((names[n] for n in SHEET_NAMES if n in names), next(iter(book)))
            df = book[sheet]
        elif suffix in (".csv", ".txt", ".tsv"):
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")  # Excel's "CSV" on Finnish Windows
            first = text.splitlines()[0] if text.strip() else ""
            try:
                sep = csv.Sniffer().sniff(first, delimiters=";,\t").delimiter
            except csv.Error:
                sep = ";"
            df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                             skip_blank_lines=False)
        else:
            raise DataError(f"{path}: unknown spreadsheet type {suffix or '(none)'}; give a "
                            f".csv or .xlsx file (see the template in {TEMPLATE_DIR}).")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file.") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, UsoError):
            raise
        raise DataError(f"{path}: cannot read the spreadsheet ({exc}).") from exc
    df = df.rename(columns=_header)
    return df.apply(lambda col: col.map(_cell))


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime | date):
        return str(v.year) if isinstance(v, datetime) else v.isoformat()
    return str(v).strip()


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float:
    """A figure as typed in a Finnish or English spreadsheet: ``19,7``, ``5 887``, ``-2.5``."""
    s = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("\u2212", "-")
    if "," in s and "." in s:
        raise ValueError("both a decimal comma and a point")
    s = s.replace(",", ".")
    if not _NUMBER.match(s):
        raise ValueError("only digits, a sign, spaces and one decimal separator are allowed")
    return float(s)


def load(path: Path | str, *, indicator: str | None = None,
         cat: catalog_mod.Catalog | None = None, division: int = regions.DEFAULT_DIVISION,
         today: date | None = None) -> Loaded:
    """Validate a filled template and return its store rows (origin ``file``). ``today``
    is the day the years are checked against (default: today)."""
    path = Path(path)
    cat = cat or catalog_mod.catalog()
    reg = regions.registry(division)
    default_ind = cat.get(indicator).id if indicator else None
    df = read_table(path)
    name = path.name
    need = [c for c in REQUIRED if c not in df.columns
            and not (c == "indikaattori" and default_ind)]
    if need:
        found = ", ".join(map(str, df.columns)) or "none"
        raise SpreadsheetError(path, [Problem(1, c, "missing column (the header row has: "
                                                    f"{found})") for c in need])
    problems: list[Problem] = []
    unknown = [c for c in df.columns if c not in COLUMNS and not str(c).startswith("Unnamed")]
    notes = [f"{name}: ignored column(s) {', '.join(map(str, unknown))}"] if unknown else []
    rows, seen = [], {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        if not any(str(rec.get(c, "")).strip() for c in COLUMNS):
            continue  # blank row
        err = len(problems)

        def bad(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(line, column, message))

        # indicator
        ind_id = rec.get("indikaattori", "") or default_ind
        ind = None
        if not ind_id:
            bad("indikaattori", "empty; give an indicator id (see `uso indicators`)")
        elif default_ind and rec.get("indikaattori") and rec["indikaattori"] != default_ind:
            bad("indikaattori", f"{rec['indikaattori']!r} differs from --indicator "
                                f"{default_ind!r}")
        else:
            try:
                ind = cat.get(ind_id)
            except UsoError as exc:
                bad("indikaattori", exc.message)
        # municipality
        kunta = None
        raw_k = rec.get("kunta", "")
        if not raw_k:
            bad("kunta", "empty; give a municipality code or name")
        elif regions.fold(raw_k) in COUNTRY_NAMES:
            kunta = regions.COUNTRY
        else:
            try:
                kunta = reg.get(int(raw_k) if raw_k.isdigit() else raw_k).code
            except UsoError as exc:
                bad("kunta", exc.message)
        # year
        year = None
        raw_y = rec.get("vuosi", "")
        if not re.fullmatch(r"\d{4}", raw_y or "") or not 1900 <= int(raw_y) <= 2100:
            bad("vuosi", f"{raw_y!r} is not a year (four digits, e.g. 2023)")
        else:
            year = int(raw_y)
        # value and status
        raw_v, status = rec.get("arvo", ""), plausible.normal_status(rec.get("tila", ""))
        value = math.nan
        if raw_v in STATUS_VALUES and not status:
            status = plausible.normal_status(raw_v)
        elif raw_v:
            try:
                value = parse_number(raw_v)
            except ValueError as exc:
                bad("arvo", f"{raw_v!r} is not a number ({exc}); write e.g. 19,7 or 5887")
        elif not status:
            bad("arvo", "empty; give the figure, or a status symbol in 'tila' (e.g. '..' = "
                        "not available) -- a missing figure is never taken as 0")
        why = plausible.status_problem(status)
        if why:
            bad("tila", why)
        # plausibility: the indicator's range and years (the same rules as a refresh's)
        if ind is not None and year is not None and len(problems) == err:
            odd = plausible.problem(plausible.limits(ind, today), year, value)
            if odd:
                bad(*odd)
        # source
        source = rec.get("lahde", "")
        if not source:
            bad("lahde", "empty; say where the figure comes from (e.g. 'Valtiovarainministeriö, "
                         "valtionosuuslaskelma 2024')")
        # category
        category = rec.get("kategoria", "")
        if ind is not None and category:
            if not ind.categories:
                bad("kategoria", f"{ind.id} has no breakdown; leave 'kategoria' empty")
            elif category not in ind.categories:
                bad("kategoria", f"{category!r} is not a category of {ind.id} (it has "
                                 f"{', '.join(ind.categories)})")
        if len(problems) > err:
            continue
        key = (ind.id, kunta, year, category)
        if key in seen:
            problems.append(Problem(line, None, f"duplicates row {seen[key]} (same indicator, "
                                                 "municipality, year and category)"))
            continue
        seen[key] = line
        rows.append({"indicator": ind.id, "kunta": kunta, "year": year, "category": category,
                     "value": value, "status": status, "source": source})
    if problems:
        raise SpreadsheetError(path, problems)
    if not rows:
        raise SpreadsheetError(path, [Problem(None, None, "no data rows below the header")])
    vintage = date.fromtimestamp(path.stat().st_mtime).isoformat()
    # the import time to the microsecond: the newest import of a figure wins in the store,
    # whatever the file names
    imported = datetime.now(UTC).isoformat(timespec="microseconds")
    frame = pd.DataFrame(rows).assign(table=name, vintage=vintage, origin="file",
                                      retrieved=imported)
    return Loaded(path=path, frame=normalize(frame).sort_values(KEY).reset_index(drop=True),
                  notes=notes)


def store_name(path: Path) -> str:
    """The local store file of an imported spreadsheet: re-importing a file replaces it."""
    return f"file-{regions.slugify(path.stem) or 'aineisto'}"


def import_file(path: Path | str, *, indicator: str | None = None,
                store: Store | None = None) -> tuple[Loaded, Path]:
    """Validate and write a spreadsheet into the local store; returns it and the file written."""
    loaded = load(path, indicator=indicator)
    store = store or default_store("local")
    written = store.write_local(loaded.frame, store_name(loaded.path))
    return loaded, written
