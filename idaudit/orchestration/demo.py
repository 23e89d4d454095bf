"""The demo audit: a synthetic ambulatory-surgery centre, end to end.

simulated tenant (simulator, on loopback) -> the real connector (msal + msgraph-sdk, or google-auth +
google-api-python-client) -> raw snapshot -> normalise -> checks -> workbook. The demo exercises exactly the code a
real tenant does; only the far end of the wire is simulated.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from idaudit.core.atomic import write_text_atomic
from idaudit.core.config import Config, load_config
from idaudit.core.engine import AuditRun
from idaudit.orchestration.pipeline import audit_snapshot
from reports import write_reports
from simulator import build_organisation, render_microsoft_snapshot
from simulator.google import render_google_snapshot


@dataclass(frozen=True)
class DemoResult:
    snapshot: Path
    config: Path
    run: AuditRun
    reports: tuple[Path, ...]
    via: str  # "connector" (simulator + real client libraries) or "rendered" (no network)


def demo_config_text(org: object, provider: str) -> str:
    """The demo's idaudit.toml: a break-glass account with a documented, expiring waiver."""
    break_glass = [p for p in getattr(org, "people", ()) if getattr(p, "kind", "") == "break_glass"]
    domain = getattr(org, "domain", "example.org")
    principals = [f"{getattr(p, 'local_part', 'breakglass')}@{domain}" for p in break_glass]
    lines = [
        "# Demo configuration written by `idaudit demo` (see README: Configuration).",
        "[audit]",
        "stale_days = 90",
        "global_admin_min = 2",
        "global_admin_max = 4",
        'trusted_domains = ["quest-diagnostics-partner.com"]',
        "# idaudit's own read-only app registration holds Exchange.ManageAsApp by design. The second entry is the",
        "# mistake the demo shows: a display name, which idaudit never trusts (a look-alike app uses the same name).",
        f'allowed_apps = ["{getattr(org, "auditor_app_id", "")}", "idaudit (read-only audit)"]'
        if getattr(org, "auditor_app_id", "") else "allowed_apps = []",
        f"break_glass = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in principals)}]",
        "",
    ]
    expires = datetime.now(UTC).date().replace(year=datetime.now(UTC).year + 1).isoformat()
    for principal in principals[:1]:
        for check_id in BREAK_GLASS_WAIVED_CHECKS:
            lines += [
                "[[waivers]]",
                f'check = "{check_id}"',
                f'subject = "{principal}"',
                'owner = "IT manager"',
                'reason = "Break-glass account: excluded from Conditional Access by design; FIDO2 key in the safe, '
                'sign-ins alerted"',
                f"expires = {expires}",
                "",
            ]
    return "\n".join(lines)


# Checks a break-glass account is expected to fail by design (excluded from the MFA policy).
BREAK_GLASS_WAIVED_CHECKS: tuple[str, ...] = ("IDA-AUTH-002", "IDA-AUTH-005")


# Left out of the demo app's consent so the report shows an `unknown` check and how to fix it.
DEMO_WITHHELD_PERMISSIONS: tuple[str, ...] = ("Policy.Read.AuthenticationMethod",)


def run_demo(out_dir: Path, users: int = 300, seed: int = 7, provider: str = "microsoft",
             formats: tuple[str, ...] = ("xlsx", "html", "csv", "json"), direct: bool = False,
             progress: bool = True) -> DemoResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    org = build_organisation(users=users, seed=seed)
    snap_dir = out_dir / f"snapshot-{provider}"
    if snap_dir.exists():
        shutil.rmtree(snap_dir)
    via = "rendered" if direct else "connector"
    if provider == "microsoft":
        if direct:
            render_microsoft_snapshot(org, snap_dir)
        else:
            # lazy: start-up time (loads only the chosen provider's client libraries)
            from idaudit.orchestration.demo_microsoft import run_microsoft_demo_collection

            # The demo's admin "forgot" one consent, as real ones do: the Coverage sheet shows the gap and the fix.
            run_microsoft_demo_collection(org, snap_dir, progress=progress,
                                          withheld_permissions=DEMO_WITHHELD_PERMISSIONS)
    elif provider == "google":
        if direct:
            render_google_snapshot(org, snap_dir)
        else:
            # lazy: start-up time (loads only the chosen provider's client libraries)
            from idaudit.orchestration.demo_google import run_google_demo_collection

            run_google_demo_collection(org, snap_dir)
    else:
        raise ValueError(f"unknown provider {provider!r}")
    config_path = out_dir / "idaudit.toml"
    write_text_atomic(config_path, demo_config_text(org, provider))
    config: Config = load_config(config_path)
    run = audit_snapshot(snap_dir, config)
    paths = write_reports(run, out_dir, list(formats))
    return DemoResult(snapshot=snap_dir, config=config_path, run=run, reports=tuple(paths), via=via)
