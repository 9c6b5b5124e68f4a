"""The command line as a user runs it (subprocess): registry listings and clear errors."""

from __future__ import annotations

import json


def test_help_lists_commands(uso):
    r = uso("--help")
    assert r.returncode == 0
    for cmd in ("municipalities", "indicators", "data", "snapshot"):
        assert cmd in r.stdout


def test_municipalities_json(uso):
    r = uso("municipalities", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 309
    juva = next(m for m in rows if m["name_fi"] == "Juva")
    assert juva["code"] == "178" and juva["maakunta"] == "Etelä-Savo"


def test_unknown_municipality_suggests_without_traceback(uso):
    r = uso("data", "get", "vaesto", "--kunta", "Juvaa")
    assert r.returncode != 0
    assert "Juva" in r.stderr and "Did you mean" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_unknown_indicator_suggests(uso):
    r = uso("data", "get", "vaestoo", "--kunta", "Juva")
    assert r.returncode != 0
    assert "vaesto" in r.stderr and "Traceback" not in r.stderr
