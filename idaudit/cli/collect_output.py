"""Where `idaudit collect` writes, and what it tells the user afterwards: shared by every provider's sub-command."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idaudit.cli.common import terminal_line
from idaudit.core import exitcodes
from idaudit.core.snapshot import load_snapshot
from idaudit.core.snapshot_redact import redact_snapshot


def default_out_dir(provider: str, tenant: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in tenant)[:60]
    return Path("snapshots") / f"{provider}-{safe}-{stamp}"


REDACT_HELP = ("replace personal data (names, mail local parts, phones, IPs) by pseudonyms in the snapshot written, "
               "keeping every key, id, enum and mail domain: a snapshot you can attach to a report of a mismatch "
               "with your real tenant (docs/fidelity.md)")


def finish_snapshot(path: Path, redact: bool) -> int:
    """Redact when asked, then report; the redacted snapshot is the only one left on disk."""
    if redact:
        redact_snapshot(path)
        print(f"redacted {path}: personal data replaced by pseudonyms (keys, ids, enums and mail domains kept)")
    return report_snapshot(path)


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
