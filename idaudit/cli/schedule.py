"""`idaudit schedule --print systemd|cron`: the unit files or cron line for the weekly audit, filled in.

Printing (not installing) keeps root out of idaudit: the administrator reads what will run, then installs it.
docs/scheduling.md explains each line.
"""

from __future__ import annotations

import argparse
import getpass
import shlex
import shutil
import sys
from pathlib import Path

from idaudit.core import exitcodes

DEFAULT_CALENDAR = "Mon *-*-* 06:00:00"
DEFAULT_CRON = "0 6 * * 1"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "schedule", help="print a systemd timer + service or a cron line for the weekly audit",
        description="Print ready-to-install scheduling files for `idaudit audit`. Nothing is installed. "
                    "With --per-tenant, prints a systemd template unit (idaudit-audit@NAME) so each client "
                    "tenant runs as its own job. See docs/scheduling.md.",
    )
    p.add_argument("--print", dest="kind", choices=["systemd", "cron"], required=True,
                   help="which scheduler to print for")
    p.add_argument("--config", type=Path, required=True, help="the idaudit TOML config the job will use")
    p.add_argument("--user", default=None, help="account the job runs as (default: the current user)")
    p.add_argument("--env-file", type=Path, default=Path("/etc/idaudit/idaudit.env"),
                   help="file (mode 0600) holding the secrets' environment variables (default: %(default)s)")
    p.add_argument("--on-calendar", default=DEFAULT_CALENDAR,
                   help="systemd OnCalendar expression (default: %(default)r)")
    p.add_argument("--cron", default=DEFAULT_CRON, help="cron schedule fields (default: %(default)r)")
    p.add_argument("--per-tenant", action="store_true",
                   help="systemd: print a template unit taking the tenant name as instance (%%i)")
    p.add_argument("--executable", type=Path, help="path of the idaudit command (default: found on PATH)")
    p.set_defaults(func=run)


def _executable(explicit: Path | None) -> str:
    if explicit is not None:
        return str(explicit.resolve())
    found = shutil.which("idaudit")
    if found:
        return str(Path(found).resolve())
    return f"{Path(sys.executable).resolve()} -m idaudit"


def systemd_units(exe: str, config: Path, user: str, env_file: Path, calendar: str, per_tenant: bool) -> str:
    workdir = config.parent
    name = "idaudit-audit@" if per_tenant else "idaudit-audit"
    tenant_arg = " --tenant %i" if per_tenant else ""
    return f"""# /etc/systemd/system/{name}.service
[Unit]
Description=idaudit weekly MFA and identity-hygiene audit{' of tenant %i' if per_tenant else ''}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User={user}
WorkingDirectory={workdir}
# Secrets (client secret, SMTP password, webhook URL) live here, mode 0600, never in the TOML.
EnvironmentFile={env_file}
UMask=0077
ExecStart={exe} audit --config {config}{tenant_arg}
# Exit codes 3 (new high/critical findings) and 4 (incomplete) are results, not failures of the service.
SuccessExitStatus=3 4
TimeoutStartSec=6h
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths={workdir}

# /etc/systemd/system/{name}.timer
[Unit]
Description=Run idaudit weekly{' for tenant %i' if per_tenant else ''}

[Timer]
OnCalendar={calendar}
RandomizedDelaySec=15m
Persistent=true

[Install]
WantedBy=timers.target

# Install:
#   sudo systemctl daemon-reload
#   sudo systemctl enable --now {name}{'NAME' if per_tenant else ''}.timer
"""


def cron_line(exe: str, config: Path, user: str, env_file: Path, schedule: str) -> str:
    log = config.parent / "idaudit-audit.log"
    cmd = (f"set -a; . {shlex.quote(str(env_file))}; set +a; umask 077; "
           f"{exe} audit --config {shlex.quote(str(config))} >> {shlex.quote(str(log))} 2>&1")
    cmd = cmd.replace("%", "\\%")  # cron turns an unescaped % into a newline
    return (f"# /etc/cron.d/idaudit — weekly audit (exit 3 = new high/critical findings, 4 = incomplete, 5 = error)\n"
            f"{schedule} {user} /bin/sh -c {shlex.quote(cmd)}\n")


def run(args: argparse.Namespace) -> int:
    config = args.config.expanduser().resolve()
    user = args.user or getpass.getuser()
    exe = _executable(args.executable)
    if args.kind == "systemd":
        print(systemd_units(exe, config, user, args.env_file, args.on_calendar, args.per_tenant), end="")
    else:
        print(cron_line(exe, config, user, args.env_file, args.cron), end="")
    return exitcodes.OK
