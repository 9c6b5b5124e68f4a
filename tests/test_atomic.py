"""uso_lib.atomic: a file, or a set of files, is replaced whole or left as it was."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from uso_lib import atomic
from uso_lib.errors import OutputError


def _old_set(tmp_path):
    files = {tmp_path / "178-juva.html": b"<html>vanha</html>",
             tmp_path / "178-juva-liite.csv": b"indicator;value\nvaesto;5887\n"}
    for p, data in files.items():
        p.write_bytes(data)
    return files


class _FullAfter:
    """``os`` for uso_lib.atomic whose ``n``-th file write fails as a full disk does."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, mode="r", *a, **kw):
        self.calls += 1
        if self.calls == self.n:
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.fdopen(fd, mode, *a, **kw)


def test_set_keeps_the_old_files_when_the_second_write_fails(tmp_path, monkeypatch):
    old = _old_set(tmp_path)
    monkeypatch.setattr(atomic, "os", _FullAfter(2))
    new = {tmp_path / "178-juva-liite.csv": "indicator;value\nvaesto;5769\n",
           tmp_path / "178-juva.html": "<html>uusi</html>",
           tmp_path / "manifest.json": "{}\n"}
    with pytest.raises(OutputError) as info:
        atomic.replace_all(new, what="the report 178-juva")
    monkeypatch.undo()
    msg = str(info.value)
    # which file failed, why, and what is on disk now: the old pair, no manifest
    assert msg.startswith("Cannot write the report 178-juva (178-juva.html): No space left")
    assert "178-juva-liite.csv, 178-juva.html are unchanged" in msg
    assert "manifest.json was not written" in msg
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == old  # no temporary left


def test_set_is_put_back_when_a_rename_fails_half_way(tmp_path, monkeypatch):
    old = _old_set(tmp_path)
    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:  # the first file is already in place
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    with pytest.raises(OutputError, match="no file of the set was replaced"):
        atomic.replace_all({tmp_path / "178-juva.html": "<html>uusi</html>",
                            tmp_path / "178-juva-liite.csv": "uusi\n"})
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == old


def test_set_replaces_every_file_and_can_write_through_a_function(tmp_path):
    _old_set(tmp_path)
    paths = atomic.replace_all({
        tmp_path / "178-juva.html": "<html>uusi</html>",
        tmp_path / "178-juva-liite.csv": lambda p: p.write_text("uusi\n", encoding="utf-8")})
    assert [p.read_text(encoding="utf-8") for p in paths] == ["<html>uusi</html>", "uusi\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["178-juva-liite.csv", "178-juva.html"]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in paths)


def test_atomic_write_names_what_failed(tmp_path):
    blocker = tmp_path / "kartat"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError) as info:
        atomic.atomic_write(blocker / "map.png", b"png", what="the map kartat/map.png",
                            hint="Give another folder.")
    assert str(info.value).startswith("Cannot write the map kartat/map.png: ")
    assert "nothing was written" in str(info.value) and info.value.hint == "Give another folder."


def test_hashes_are_sha256(tmp_path):
    p = tmp_path / "a.bin"
    p.write_bytes(b"uso\x00" * 1000)
    assert atomic.sha256_file(p) == hashlib.sha256(b"uso\x00" * 1000).hexdigest()
    assert atomic.sha256_bytes("Äänekoski") == hashlib.sha256("Äänekoski".encode()).hexdigest()
