"""Files that are complete or absent, and the hashes that say whether a file changed.

Every file uso writes (a report, its appendix, the manifest, a store or snapshot parquet file, a
map) goes through :func:`atomic_write`: the content is written to a temporary file in the same
folder and renamed over the target, so a reader sees the old file or the new one, never half of
one, also when the process is killed or the disk fills up. :func:`replace_all` does the same for
a set of files that must change together (a report's HTML, its appendix and its manifest entry).

Temporary files are named ``.<name>.<random>.tmp`` beside their target, so that a run that was
killed while writing can sweep them away (:func:`uso_lib.factory.local.sweep`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from uso_lib.errors import OutputError

#: What :func:`atomic_write` accepts: bytes, text (written as UTF-8), or a function that fills
#: the temporary file at the path it is given (``df.to_parquet``, ``fig.savefig``, ...).
Content = bytes | str | Callable[[Path], object]

DEFAULT_HINT = "Check free disk space and the folder's permissions."
MODE = 0o644  # readable by every user, as a plain write would leave it (mkstemp makes 0600)


def atomic_write(path: str | os.PathLike, data: Content, *, what: str | None = None,
                 hint: str | None = None, mode: int = MODE) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and a rename.

    A failure (disk full, no permission, the folder is a file) raises :class:`OutputError`
    naming ``what`` (default: the path) and saying that nothing was written: the temporary
    file is removed and an earlier file of that name is unchanged. ``hint`` tells the user
    what to do (the command line knows whether that is ``--out`` or ``USO_DATA_DIR``)."""
    path = Path(path)
    try:
        fd, tmp = _temporary(path)
    except OSError as exc:
        raise _cannot_write(path, what, exc, hint) from exc
    try:
        _fill(fd, tmp, data, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _cannot_write(path, what, exc, hint) from exc
        raise
    return path


def replace_all(files: Mapping[str | os.PathLike, Content], *, what: str | None = None,
                hint: str | None = None, mode: int = MODE) -> list[Path]:
    """Replace a set of files all together or not at all.

    Every file is first written to a temporary beside its target; only when all are written
    are they renamed into place. If a write fails, the temporaries are removed and every
    target keeps its old content (or stays absent). If a rename fails half-way (rare: a
    rename allocates no space), the files already renamed are put back from hard links made
    before the first rename, so the old set is restored. The :class:`OutputError` says which
    file failed and what is on disk now (``what`` names the set for the user)."""
    paths = [Path(p) for p in files]
    temps: list[Path] = []
    failed = paths[0] if paths else None
    try:
        for path, data in zip(paths, files.values(), strict=True):
            failed = path
            fd, tmp = _temporary(path)
            temps.append(tmp)
            _fill(fd, tmp, data, mode)
    except BaseException as exc:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _set_unchanged(paths, failed, what, exc, hint) from exc
        raise
    backups = _backups(paths)
    done: list[Path] = []
    try:
        for tmp, path in zip(temps, paths, strict=True):
            os.replace(tmp, path)
            done.append(path)
    except BaseException as exc:
        left = _roll_back(done, backups)
        for tmp in temps[len(done):]:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            failed = paths[len(done)]
            if not left:
                raise _set_unchanged(paths, failed, what, exc, hint) from exc
            raise OutputError(
                f"Cannot write {_which(failed, what)}: {exc.strerror or exc}. Of the files "
                f"written together, {_names(left)} could not be put back and "
                f"{'is' if len(left) == 1 else 'are'} new; the others are as before.",
                hint=hint or DEFAULT_HINT) from exc
        raise
    finally:
        for b in backups.values():
            b.unlink(missing_ok=True)
    return paths


def sha256_bytes(data: bytes | str) -> str:
    """The SHA-256 hex digest of ``data`` (text as UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file's content, read in chunks (a raw data file can be
    hundreds of megabytes)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# -- internals ------------------------------------------------------------------------------
def _temporary(path: Path) -> tuple[int, Path]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the folder's name is taken by a file: say that, not "exists"
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                 str(path.parent)) from None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(tmp)


def _fill(fd: int, tmp: Path, data: Content, mode: int) -> None:
    """Write ``data`` into the open temporary ``fd`` (closed here, whatever happens)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, bytes):
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    else:
        os.close(fd)
        data(tmp)
    os.chmod(tmp, mode)


def _cannot_write(path: Path, what: str | None, exc: OSError, hint: str | None) -> OutputError:
    return OutputError(f"Cannot write {what or path}: {exc.strerror or exc}; nothing was written "
                       "(an earlier file of that name is unchanged).", hint=hint or DEFAULT_HINT)


def _which(failed: Path, what: str | None) -> str:
    return f"{what} ({failed.name})" if what else str(failed)


def _set_unchanged(paths: list[Path], failed: Path, what: str | None, exc: OSError,
                   hint: str | None) -> OutputError:
    old = [p for p in paths if p.exists()]
    new = [p for p in paths if not p.exists()]
    said = []
    if old:
        said.append(f"{_names(old)} {'is' if len(old) == 1 else 'are'} unchanged")
    if new:
        said.append(f"{_names(new)} {'was' if len(new) == 1 else 'were'} not written")
    return OutputError(f"Cannot write {_which(failed, what)}: {exc.strerror or exc}; no file of "
                       f"the set was replaced: {' and '.join(said)}.", hint=hint or DEFAULT_HINT)


def _names(paths: list[Path]) -> str:
    return ", ".join(p.name for p in paths)


def _backups(paths: list[Path]) -> dict[Path, Path]:
    """Hard links to the current files (no data is copied), to put them back if the renames
    fail half-way. Where links are not possible, there is no backup for that file."""
    out: dict[Path, Path] = {}
    for path in paths:
        if not path.is_file():
            continue
        backup = path.with_name(f".{path.name}.{os.getpid()}.old.tmp")
        with contextlib.suppress(OSError):
            backup.unlink(missing_ok=True)
            os.link(path, backup)
            out[path] = backup
    return out


def _roll_back(done: list[Path], backups: dict[Path, Path]) -> list[Path]:
    """Undo the renames in ``done``; returns the files that could not be put back."""
    left = []
    for path in done:
        try:
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                path.unlink()
        except OSError:
            left.append(path)
    return left
