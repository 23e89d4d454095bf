"""`idaudit collect microsoft|google ...`: read a tenant into a snapshot directory (no checks run).

Secrets never go on the command line (they would show in `ps` and shell history): a client secret comes from an
environment variable (--client-secret-env) or a file (--client-secret-file). The Google connector adds its own
sub-command from `idaudit/cli/collect_google.py`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from idaudit.cli import collect_google
from idaudit.cli.collect_output import (
    REDACT_HELP,
    add_dns_arguments,
    default_out_dir,
    dns_from_args,
    finish_snapshot,
)
from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("collect", help="collect a tenant into a snapshot directory (read-only)",
                       description="Read a Microsoft 365 or Google Workspace tenant with read-only permissions "
                                   "and write a snapshot directory; run `idaudit check DIR` on it later.")
    providers = p.add_subparsers(dest="provider", metavar="PROVIDER")
    providers.required = True
    _add_microsoft(providers)
    collect_google.add_collect_parser(providers)


def _add_microsoft(providers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    m = providers.add_parser(
        "microsoft", help="Microsoft 365 / Entra ID (Graph + Exchange Online admin API)", allow_abbrev=False,
        description="Collect a Microsoft 365 tenant with an app registration holding the read-only permissions "
                    "listed in docs/microsoft.md. Exactly one credential: --client-secret-env, "
                    "--client-secret-file, --certificate, or --device-code.")
    m.add_argument("--tenant-id", required=True, help="directory (tenant) id or primary domain")
    m.add_argument("--client-id", required=True, help="application (client) id of the app registration")
    cred = m.add_mutually_exclusive_group(required=True)
    cred.add_argument("--client-secret-env", metavar="VAR", help="environment variable holding the client secret")
    cred.add_argument("--client-secret-file", type=Path, metavar="FILE", help="file holding the client secret (chmod 600)")
    cred.add_argument("--certificate", type=Path, metavar="FILE",
                      help="certificate with private key: PEM (key + cert) or PFX/P12; thumbprint is computed")
    cred.add_argument("--device-code", action="store_true",
                      help="sign in as a user with a device code (delegated; the user needs a reader role)")
    m.add_argument("--certificate-password-env", metavar="VAR", help="environment variable holding the PFX/key password")
    m.add_argument("--authority-host", default=None,
                   help="sign-in host, e.g. https://login.microsoftonline.us (default: global cloud)")
    m.add_argument("--graph-endpoint", default=None, help="Graph endpoint, e.g. https://graph.microsoft.us")
    m.add_argument("--exchange-endpoint", default=None, help="Exchange endpoint, e.g. https://outlook.office365.us")
    m.add_argument("--no-exchange", action="store_true", help="skip the Exchange Online admin API sections")
    add_dns_arguments(m)
    m.add_argument("--ca-bundle", type=Path, help="PEM bundle of CAs to trust (TLS-inspecting proxy, simulator)")
    m.add_argument("--token-cache", type=Path, help="persistent msal token cache file (created 0600)")
    m.add_argument("--concurrency", type=int, default=4, help="parallel $batch requests (default: %(default)s)")
    m.add_argument("--sections", help="comma-separated section names to collect (default: all)")
    m.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS, metavar="N",
                   help="days of sign-in and audit logs to read for signs of takeover (1-180; default: %(default)s)")
    m.add_argument("--out", type=Path, help="snapshot directory to write (default: snapshots/microsoft-TENANT-TIME)")
    m.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway without a TTY)")
    m.add_argument("--redact", action="store_true", help=REDACT_HELP)
    m.set_defaults(func=run_microsoft)


def _secret_from_args(args: argparse.Namespace) -> str | None:
    if args.client_secret_env:
        value = os.environ.get(args.client_secret_env)
        if not value:
            raise CollectionError(f"environment variable {args.client_secret_env} (--client-secret-env) is not set")
        return value
    if args.client_secret_file:
        from connectors.microsoft.collect import _read_secret_file  # lazy: start-up time (msal, msgraph)

        return _read_secret_file(args.client_secret_file, args.tenant_id)
    return None


def run_microsoft(args: argparse.Namespace) -> int:
    from connectors.microsoft.collect import collect_microsoft  # lazy: start-up time (msal, msgraph)
    from connectors.microsoft.options import MicrosoftOptions

    password = None
    if args.certificate_password_env:
        password = os.environ.get(args.certificate_password_env)
        if password is None:
            raise CollectionError(f"environment variable {args.certificate_password_env} is not set")
    kwargs: dict[str, object] = {}
    for key in ("authority_host", "graph_endpoint", "exchange_endpoint"):
        if getattr(args, key):
            kwargs[key] = getattr(args, key)
    options = MicrosoftOptions(
        tenant_id=args.tenant_id, client_id=args.client_id, client_secret=_secret_from_args(args),
        certificate_path=args.certificate, certificate_password=password, device_code=args.device_code,
        ca_bundle=args.ca_bundle, token_cache_path=args.token_cache, concurrency=args.concurrency,
        collect_exchange=not args.no_exchange, dns=dns_from_args(args), lookback_days=args.lookback_days,
        **kwargs)  # type: ignore[arg-type]
    sections = [s.strip() for s in args.sections.split(",") if s.strip()] if args.sections else None
    out = args.out or default_out_dir("microsoft", args.tenant_id)
    path = collect_microsoft(options, out, progress=not args.no_progress, sections=sections)
    return finish_snapshot(path, args.redact)
