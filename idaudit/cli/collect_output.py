"""Where `idaudit collect` writes, and what it tells the user afterwards: shared by every provider's sub-command."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idaudit.cli.common import terminal_line
from idaudit.core import exitcodes
from idaudit.core.snapshot import load_snapshot


def default_out_dir(provider: str, tenant: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in tenant)[:60]
    return Path("snapshots") / f"{provider}-{safe}-{stamp}"


def report_snapshot(path: Path) -> int:
    """Print where the snapshot is and what could not be collected; exit 4 when something is missing."""
    snap = load_snapshot(path)
    gaps = {n: r for n, r in snap.manifest.sections.items() if not r.usable}
    partial = {n: r for n, r in snap.manifest.sections.items() if r.usable and r.failed_subjects}
    print(f"wrote {path} ({len(snap.manifest.sections)} sections, {len(gaps)} not collected)")
    for name, rec in sorted(gaps.items()):
        print(f"  {name}: {rec.status.value} — {terminal_line(rec.detail, 500)}")
    for name, rec in sorted(partial.items()):
        print(f"  {name}: {len(rec.failed_subjects)} subject(s) could not be read")
    return exitcodes.INCOMPLETE if gaps or partial else exitcodes.OK


def add_dns_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dns-resolver", action="append", metavar="HOST[:PORT]",
                   help="DNS resolver for the SPF / DMARC / DKIM lookups (repeatable; default: the system's)")
    p.add_argument("--dns-timeout", type=float, default=5.0, metavar="SECONDS",
                   help="seconds allowed per DNS name, retries included (default: %(default)s)")


def dns_from_args(args: argparse.Namespace) -> Any:
    from connectors.email_dns import dns_options_from  # lazy: start-up time

    return dns_options_from(args.dns_resolver or [], args.dns_timeout, where="--")
