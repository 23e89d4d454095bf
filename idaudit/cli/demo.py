"""`idaudit demo`: audit a simulated ambulatory-surgery centre end to end (no real tenant needed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from idaudit.cli.common import print_run_summary
from idaudit.core import exitcodes


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo", help="run the demo audit against a simulated tenant",
        description="Start a simulated tenant on loopback (a believable ambulatory-surgery centre with the problems "
                    "real ones have), collect it through the real connector, run every check and write the "
                    "workbook. Deterministic for a given --seed.",
    )
    p.add_argument("--out", type=Path, default=Path("demo-output"), help="output directory (default: %(default)s)")
    p.add_argument("--users", type=int, default=300, help="number of users (default: %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="random seed of the synthetic tenant (default: %(default)s)")
    p.add_argument("--provider", choices=["microsoft", "google"], default="microsoft",
                   help="which provider to simulate (default: %(default)s)")
    p.add_argument("--format", default="xlsx,html,csv,json", help="report formats, any of xlsx,html,csv,json,pdf (pdf needs LibreOffice; default: %(default)s)")
    p.add_argument("--direct", action="store_true",
                   help="skip the simulator and connector: render the raw snapshot directly (no sockets)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from idaudit.orchestration.demo import run_demo  # lazy: start-up time

    if args.users < 10 or args.users > 200_000:
        print("idaudit: error: --users must be between 10 and 200000", file=sys.stderr)
        return exitcodes.USAGE
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    result = run_demo(args.out, users=args.users, seed=args.seed, provider=args.provider, formats=formats,
                      direct=args.direct, progress=sys.stderr.isatty())
    print(f"simulated tenant collected via {result.via}: snapshot in {result.snapshot}")
    print(f"config with the demo's break-glass waiver: {result.config}")
    print_run_summary(result.run, result.reports)
    return exitcodes.OK
