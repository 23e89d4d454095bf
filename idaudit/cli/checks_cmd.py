"""`idaudit checks list`: the check catalogue (id, severity, providers, title)."""

from __future__ import annotations

import argparse

from checks import builtin_checks
from idaudit.core import exitcodes
from idaudit.core.engine import catalogue


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("checks", help="list the checks", description="Show the check catalogue.")
    csub = p.add_subparsers(dest="checks_command", metavar="ACTION")
    csub.required = True
    lp = csub.add_parser("list", help="list every check: id, severity, providers, title")
    lp.add_argument("--provider", choices=["microsoft", "google"], help="only checks for this provider")
    lp.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    registry = builtin_checks()
    for meta in catalogue(registry):
        providers = ",".join(sorted(p.value for p in meta.providers))
        if args.provider and args.provider not in providers:
            continue
        print(f"{meta.id}  {meta.severity.value:8}  {providers:16}  {meta.title}")
    return exitcodes.OK
