"""The report's data appendix: every figure the report shows, with its source.

A reader who doubts a number, or wants to reuse it in a spreadsheet, finds it here with the
publisher, the table or indicator id, the year and the data date. The appendix is written as
CSV (UTF-8) and XLSX next to the report, both together (:func:`uso_lib.atomic.replace_all`): a
crash or a full disk leaves the previous pair whole, never half a file or a new CSV beside an
old XLSX.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd
from rustpy_xlsxwriter import write_worksheets

from uso_lib.atomic import replace_all
from uso_lib.catalog import Indicator
from uso_lib.regions import COUNTRY, registry
from uso_lib.report.html import indicator_unit

COLUMNS = ["indicator", "label", "kunta", "nimi", "year", "category", "value", "status",
           "unit", "source", "table", "vintage", "origin"]
KEY = ["indicator", "kunta", "year", "category"]


@dataclass
class Appendix:
    """Collects store rows as the report shows them (duplicates collapse on the store key).

    :meth:`add` only keeps the rows with their indicator's label and unit; :meth:`frame`
    labels and joins them in one go. A report adds some 150 pieces, and labelling each piece
    as a DataFrame of its own cost more than the whole appendix built at once."""

    parts: list[tuple[pd.DataFrame, str, str]] = field(default_factory=list)
    _frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def add(self, rows: pd.DataFrame | None, ind: Indicator) -> None:
        if rows is None or rows.empty:
            return
        self.parts.append((rows, ind.label, indicator_unit(ind)))
        self._frame = None

    def frame(self) -> pd.DataFrame:
        """Every figure added, one row per store key, sorted; built once until the next
        :meth:`add` (the sources table and the appendix file both ask for it). The caller
        gets a shallow copy: with copy-on-write, changing it leaves the kept one alone."""
        if self._frame is None:
            self._frame = self._build()
        return self._frame.copy(deep=False)

    def _build(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=COLUMNS)
        df = pd.concat([rows for rows, _, _ in self.parts], ignore_index=True)
        df["label"] = _repeat([(len(rows), label) for rows, label, _ in self.parts])
        df["unit"] = _repeat([(len(rows), unit) for rows, _, unit in self.parts])
        names = _names()
        df["nimi"] = [names.get(k, k) for k in df["kunta"]]
        df = df.reindex(columns=COLUMNS).drop_duplicates(KEY, keep="first")
        return df.sort_values(["indicator", "category", "kunta", "year"],
                              kind="stable").reset_index(drop=True)

    def write(self, prefix: str | os.PathLike, *, meta: dict[str, str] | None = None
              ) -> list[Path]:
        return write(self.frame(), prefix, meta=meta)


def write(df: pd.DataFrame, prefix: str | os.PathLike, *,
          meta: dict[str, str] | None = None) -> list[Path]:
    """Write ``<prefix>.csv`` and ``<prefix>.xlsx`` (sheet "Luvut", its header row frozen and
    with filter buttons, so a reader can narrow 2 500 rows to one indicator or municipality;
    "Tietoja" holds ``meta``: municipality, peers, date, licence). A missing value is an empty
    cell in both, as in the store."""
    base = Path(prefix)
    if base.suffix.lower() in (".csv", ".xlsx"):
        base = base.with_suffix("")
    csv_path = base.with_name(base.name + ".csv")
    xlsx_path = base.with_name(base.name + ".xlsx")

    def _xlsx(p: Path) -> None:
        sheets = [("Luvut", df)]
        if meta:
            sheets.append(("Tietoja", pd.DataFrame(list(meta.items()),
                                                   columns=["kenttä", "arvo"])))
        # rust_xlsxwriter through its Python binding: a report's few thousand cells for a small
        # part of what openpyxl's write-only mode took (benchmarks/README.md); floats keep
        # every digit (openpyxl wrote 16 significant ones)
        write_worksheets(sheets, p, freeze_panes={"Luvut": {"row": 1, "col": 0}},
                         autofilter={"Luvut": True}, bold_headers=True, autofit=True,
                         dedupe_strings={name: True for name, _ in sheets})

    replace_all({csv_path: lambda p: csv_safe(df).to_csv(p, index=False, encoding="utf-8"),
                 xlsx_path: _xlsx}, what=f"the data appendix {base}.csv / .xlsx",
                hint="Check that the folder is writable and the disk not full.")
    return [csv_path, xlsx_path]


# A text cell a spreadsheet would take for a formula (=, +, -, @, or a tab or CR before one):
# OWASP's "CSV Injection" advice, as spreadsheet applications expect, is a leading single
# quote, which makes the cell text. A lone "-" (the nil symbol) and a signed number written
# as text cannot hold a formula and stay as they are.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_PLAIN = re.compile(r"^-$|^[+-]?\d+([.,]\d+)?$")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its text cells neutralised for the CSV appendix (numbers stay numbers; the
    XLSX writes text cells as text already)."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = [f"'{v}" if isinstance(v, str) and _FORMULA_START.match(v)
                        and not _PLAIN.match(v) else v for v in out[col]]
    return out


def _repeat(runs: list[tuple[int, str]]) -> list[str]:
    """[(2, "a"), (1, "b")] -> ["a", "a", "b"]: one value per row of each part."""
    return [text for n, text in runs for _ in range(n)]


@cache
def _names() -> dict[str, str]:
    return {m.code: m.name_fi for m in registry()} | {COUNTRY: "Koko maa"}
