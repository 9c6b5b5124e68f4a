"""Errors a user can act on.

Every error a person can fix (a misspelt name, a bad parameter file, a service that is down)
is a :class:`UsoError`; the command line prints its message without a traceback and exits
with its ``exit_code``. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UsoError(Exception):
    """Base class for errors whose message is meant for the user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UnknownMunicipality(UsoError, LookupError):
    """A name or code that matches no municipality of the division."""

    def __init__(self, query: object, suggestions: list[str] | None = None, *,
                 message: str | None = None) -> None:
        self.query = query
        self.suggestions = list(suggestions or [])
        if message is None:
            message = f"Unknown municipality: {query!r}."
            if self.suggestions:
                message += (" Did you mean: " + ", ".join(self.suggestions) + "? (Or give "
                            "the three-digit code; `uso municipalities` lists them.)")
            else:
                message += " Run `uso municipalities` for the list."
        super().__init__(message)


class MergedMunicipality(UnknownMunicipality):
    """A municipality that existed once but was merged before the division in use."""

    def __init__(self, query: object, *, old_code: str, old_name: str, new_code: str,
                 new_name: str, year: int, division: int) -> None:
        self.old_code, self.old_name = old_code, old_name
        self.new_code, self.new_name = new_code, new_name
        self.merge_year = year
        msg = (f"{old_name} ({old_code}) is not a municipality in the {division} division: it was "
               f"merged into {new_name} ({new_code}) on 1.1.{year}. Use {new_name!r} instead.")
        super().__init__(query, [new_name], message=msg)


class InvalidCode(UnknownMunicipality):
    """A municipality code of the wrong form (codes are three digits, e.g. '178' or 'KU178')."""

    def __init__(self, query: object) -> None:
        msg = (f"{query!r} is not a municipality code: codes have three digits, such as '178' "
               "(or 'KU178'). Give the code or the municipality's name.")
        super().__init__(query, [], message=msg)


class UnknownIndicator(UsoError, KeyError):
    def __init__(self, indicator: str, suggestions: list[str] | None = None) -> None:
        self.indicator = indicator
        msg = f"Unknown indicator: {indicator!r}."
        if suggestions:
            msg += " Did you mean: " + ", ".join(suggestions) + "?"
        msg += " Run `uso indicators` for the list."
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class NoData(UsoError, LookupError):
    """The store has no figure for what was asked (it is never filled in)."""


class ParamsError(UsoError, ValueError):
    """A parameter file or value that does not validate; names the file and the field."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 line: int | None = None) -> None:
        self.file, self.field, self.line = file, field, line
        where = []
        if file:
            where.append(str(file) + (f", line {line}" if line else ""))
        if field:
            where.append(f"field '{field}'")
        prefix = (": ".join([" ".join(where)]) + ": ") if where else ""
        super().__init__(prefix + message)


class DataError(UsoError):
    """A data file (snapshot, store, spreadsheet) that is missing, truncated or malformed."""


class SourceError(UsoError):
    """A live data source failed (after retries)."""

    exit_code = 3


class OutputError(UsoError):
    """An output could not be written (permissions, disk full); nothing partial was left."""
