"""The ``uso`` command line.

Sub-commands live in the modules of this package; each module defines ``register(subparsers)``
and is discovered here, so a new command is a new module. Errors a user can act on
(:class:`uso_lib.errors.UsoError`) are printed as one clear message without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from uso_lib import __version__
from uso_lib.errors import UsoError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uso",
        description="uso: kunnan tilanneanalyysi -- the municipal situation-analysis workbench "
                    "of Kuntaliitto's USO network.",
    )
    parser.add_argument("--version", action="version", version=f"uso {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    mods = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "register"):
            mods.append(mod)
    for mod in sorted(mods, key=lambda m: getattr(m, "ORDER", 50)):
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        rc = args.func(args)
    except UsoError as exc:
        print(f"uso: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("uso: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
