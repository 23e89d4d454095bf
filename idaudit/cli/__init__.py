"""Command line: `idaudit <command>`. Each command lives in its own module with `register(subparsers)`.

Only this layer turns exceptions into exit codes (see idaudit.exitcodes).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from idaudit import exitcodes
from idaudit.errors import IdauditError
from idaudit.version import __version__

# Modules under idaudit.cli that add a sub-command; a missing module (feature not installed) is skipped.
COMMAND_MODULES = ("demo", "check", "checks_cmd", "collect", "audit", "diff", "schedule", "simulate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idaudit",
        description="MFA and identity-hygiene audit for Microsoft 365 / Entra ID and Google Workspace: finds the "
                    "gaps (no MFA, forwarding rules, consented apps) that let stolen credentials exfiltrate mail.",
        epilog=exitcodes.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"idaudit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"idaudit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"idaudit.cli.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.func(args)
        return code
    except IdauditError as exc:
        print(f"idaudit: error: {exc}", file=sys.stderr)
        return exitcodes.ERROR
    except KeyboardInterrupt:
        print("idaudit: interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
