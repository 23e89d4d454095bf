"""`idaudit diff`: what changed between two recorded runs of a tenant (new, resolved, still open, waived)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from idaudit.cli.common import terminal_line
from idaudit.core import exitcodes
from idaudit.core.errors import IdauditError
from reports.textsafe import clean_text


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "diff", help="compare two recorded runs of a tenant from the history database",
        description="Compare the latest run of a tenant with the one before it (or any two run ids). A finding "
                    "that now reads 'unknown' is reported as no longer verifiable, never as resolved. "
                    "Exit code 3 when there are new high/critical findings, else 0.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--history", type=Path, help="history database (SQLite file written by idaudit audit)")
    src.add_argument("--config", type=Path, help="config whose [history] path to use")
    p.add_argument("--tenant", help="tenant name, tenant id or provider:tenant_id (needed when several are recorded)")
    p.add_argument("--from", dest="from_run", type=int, help="older run id (default: the run before --to)")
    p.add_argument("--to", dest="to_run", type=int, help="newer run id (default: the tenant's latest run)")
    p.add_argument("--list", action="store_true", help="list the recorded runs instead of comparing")
    p.add_argument("--json", action="store_true", help="print the changes as JSON")
    p.add_argument("--all", action="store_true", help="also list findings still open (default: only changes)")
    p.set_defaults(func=run)


def _history_path(args: argparse.Namespace) -> Path:
    if args.history:
        return Path(args.history)
    from idaudit.core.config import load_config  # lazy: start-up time
    from idaudit.orchestration.audit import audit_settings

    return audit_settings(load_config(args.config)).history_path


def _tenant_key(history, wanted: str | None) -> str:  # type: ignore[no-untyped-def]
    tenants = history.tenants()
    if not tenants:
        raise IdauditError(f"{history.path}: no runs recorded yet")
    if wanted is None:
        if len(tenants) > 1:
            names = ", ".join(f"{n} ({k})" for k, n in tenants)
            raise IdauditError(f"several tenants are recorded, choose one with --tenant: {names}")
        return str(tenants[0][0])
    for key, name in tenants:
        if wanted in (key, name, key.split(":", 1)[1]):
            return str(key)
    raise IdauditError(f"{history.path}: no recorded runs for tenant {wanted!r}")


def run(args: argparse.Namespace) -> int:
    from reports.diff import diff_findings  # lazy: start-up time
    from reports.history import History

    path = _history_path(args)
    if not path.exists():
        raise IdauditError(f"{path}: history database not found")
    with History(path) as h:
        if args.list:
            keys = [k for k, _ in h.tenants()] if args.tenant is None else [_tenant_key(h, args.tenant)]
            for key in keys:
                for r in h.runs(key):
                    score = "n/a" if r.posture_score is None else f"{r.posture_score:.0f}"
                    print(f"{r.run_id:6}  {terminal_line(r.tenant_name)} ({r.tenant_key})  "
                          f"{r.collected_at:%Y-%m-%d %H:%M}  score {score}  "
                          f"fail {r.counts.get('fail', 0)} unknown {r.counts.get('unknown', 0)}")
            return exitcodes.OK
        if args.to_run is not None:
            newer = h.get(args.to_run)
            key = newer.tenant_key
        else:
            key = _tenant_key(h, args.tenant)
            newer = h.previous(key)  # type: ignore[assignment]
        older = h.get(args.from_run) if args.from_run is not None else h.previous(key, before=newer.run_id)
        if older is None:
            raise IdauditError(f"only one run of {newer.tenant_name!r} is recorded: nothing to compare with")
        if older.tenant_key != newer.tenant_key:
            raise IdauditError(f"runs {older.run_id} and {newer.run_id} belong to different tenants")
        diff = diff_findings(h.findings(older.run_id), h.findings(newer.run_id), older.label(), newer.label())
    changes = diff.changes if args.all else diff.changes[diff.changes["change"] != "still open"]
    if args.json:
        print(json.dumps({"from": older.run_id, "to": newer.run_id, "counts": diff.counts(),
                          "changes": [{k: clean_text(v) for k, v in row.items()}
                                      for row in changes.to_dict("records")]}, indent=1, ensure_ascii=False))
    else:
        print(f"{terminal_line(newer.tenant_name)}: {older.label()} -> {newer.label()}")
        print("  " + ", ".join(f"{k}: {v}" for k, v in diff.counts().items()))
        for c in changes.to_dict("records"):
            print(f"  [{c['change']:20}] {c['severity']:8} {c['check_id']} {terminal_line(c['subject'])} — "
                  f"{terminal_line(c['evidence'], 160)}")
    return exitcodes.FINDINGS if len(diff.new_serious()) else exitcodes.OK
