"""`idaudit audit`: the scheduled audit — collect, check, report, record history and notify, per tenant."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from idaudit.cli.common import terminal_line
from idaudit.core.config import load_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "audit", help="scheduled audit of every configured tenant (collect, check, report, history, notify)",
        description="For each [[tenants]] entry of the config (or only --tenant NAME): collect a fresh snapshot, "
                    "run the checks, write dated reports, record the run in the history database, and send the "
                    "e-mail / webhook summary configured under [notify]. A per-tenant lock refuses an overlapping "
                    "run of the same tenant. Exit code: 0 clean, 3 new high/critical findings since the last run, "
                    "4 some data not collected, 5 error (worst tenant wins). See docs/scheduling.md.",
    )
    p.add_argument("--config", type=Path, required=True, help="TOML config with [[tenants]] (see README)")
    p.add_argument("--tenant", help="audit only this tenant (lets an outside scheduler fan out one job per tenant)")
    p.add_argument("--out", type=Path, help="root directory for dated outputs (default: [output] dir, else "
                                            "idaudit-output beside the config file)")
    p.add_argument("--history", type=Path, help="history database (default: [history] path, else "
                                                "<out>/idaudit-history.sqlite)")
    p.add_argument("--format", help="comma-separated report formats: xlsx,html,csv,json,pdf (pdf: the board PDF, needs LibreOffice; default: [output] "
                                    "formats, else xlsx,html,json)")
    p.add_argument("--no-notify", action="store_true", help="do not send the e-mail / webhook summary")
    p.add_argument("--pseudonymize", action="store_true",
                   help="reports and notifications show users as stable keyed pseudonyms (history keeps names)")
    p.add_argument("--key-file", type=Path, default=Path("idaudit-pseudonym.key"),
                   help="local key for --pseudonymize (created 0600 if absent; default: %(default)s)")
    p.set_defaults(func=run)


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    """systemd and cron time-outs send SIGTERM: unwind like Ctrl-C so temporary files are removed, the open
    history transaction rolls back and the exit code is the documented 130."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        return _run(args)
    finally:
        # In-process callers (the library, tests) must not keep our handler after the audit returns.
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    from idaudit.orchestration.audit import audit_settings, run_audit  # lazy: start-up time


    config = load_config(args.config)
    formats = [f.strip() for f in args.format.split(",") if f.strip()] if args.format else None
    settings = audit_settings(config, out_root=args.out, history_path=args.history, formats=formats)
    key = None
    if args.pseudonymize:
        from reports.pseudonym import load_or_create_key  # lazy: start-up time

        key = load_or_create_key(args.key_file)
    outcome = run_audit(config, tenant=args.tenant, settings=settings, notify=not args.no_notify,
                        pseudonymize_key=key)
    for t in outcome.tenants:
        name = terminal_line(t.tenant)
        if t.error:
            print(f"{name}: ERROR {terminal_line(t.error)}")
            continue
        score = "n/a" if t.posture_score is None else f"{t.posture_score:.0f}"
        changes = ("first run" if t.changes is None else
                   ", ".join(f"{k} {v}" for k, v in t.changes.items()))
        print(f"{name}: exit {t.exit_code}, score {score}, fail {t.counts.get('fail', 0)}, "
              f"unknown {t.counts.get('unknown', 0)}, new high/critical {t.new_serious} ({changes})")
        for line in t.callouts[:10]:
            print(f"  {terminal_line(line)}")
        for path in t.reports:
            print(f"  wrote {path}")
    if outcome.portfolio is not None:
        print(f"portfolio of {len(outcome.tenants)} tenants: {outcome.portfolio}")
    for err in outcome.notify_errors:
        print(f"notification failed: {terminal_line(err)}")
    return outcome.exit_code
