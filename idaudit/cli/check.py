"""`idaudit check SNAPSHOT_DIR`: run the checks on a snapshot already collected (no network)."""

from __future__ import annotations

import argparse
from pathlib import Path

from idaudit.cli.common import exit_code_for, print_run_summary
from idaudit.core.config import load_config
from idaudit.orchestration.pipeline import audit_snapshot


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "check", help="run the checks on a collected snapshot and write reports",
        description="Run every check on a snapshot directory (see docs/snapshot-format.md). No network is used.",
    )
    p.add_argument("snapshot", type=Path, help="snapshot directory (holds manifest.json)")
    p.add_argument("--config", type=Path, help="TOML config: thresholds, trusted domains, waivers")
    p.add_argument("--out", type=Path, default=Path("idaudit-output"), help="directory for reports (default: %(default)s)")
    p.add_argument("--format", default="xlsx",
                   help="comma-separated: xlsx,csv,json,html,pdf (pdf: the board PDF printed by LibreOffice, the "
                        "Summary on page 1; default: %(default)s)")
    p.add_argument("--only", help="comma-separated check ids to run")
    p.add_argument("--pseudonymize", action="store_true",
                   help="replace user names with stable keyed pseudonyms (key kept in --key-file)")
    p.add_argument("--key-file", type=Path, default=Path("idaudit-pseudonym.key"),
                   help="local key for --pseudonymize (created 0600 if absent; default: %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    only = [c.strip() for c in args.only.split(",")] if args.only else None
    result = audit_snapshot(args.snapshot, config, only=only)
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    key = None
    if args.pseudonymize:
        from reports.pseudonym import load_or_create_key  # lazy: start-up time

        key = load_or_create_key(args.key_file)
    from reports import write_reports  # lazy: start-up time

    paths = write_reports(result, args.out, formats, pseudonymize_key=key)
    print_run_summary(result, paths)
    return exit_code_for(result)
