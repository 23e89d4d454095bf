"""`idaudit collect google ...`: the Google Workspace sub-command, registered by idaudit/cli/collect.py.

The service-account key never goes on the command line: it comes from a file (--service-account-file, chmod 600)
or from an environment variable holding the JSON (--service-account-env).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from idaudit.cli.collect_output import (
    REDACT_HELP,
    add_dns_arguments,
    default_out_dir,
    dns_from_args,
    finish_snapshot,
)
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS


def add_collect_parser(providers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    g = providers.add_parser(
        "google", help="Google Workspace (Admin SDK, Gmail settings, Policy API, Reports)", allow_abbrev=False,
        description="Collect a Google Workspace tenant with a service account that has domain-wide delegation of "
                    "the read-only scopes listed in docs/google.md, impersonating a super admin.")
    key = g.add_mutually_exclusive_group(required=True)
    key.add_argument("--service-account-file", type=Path, metavar="FILE", help="service account key JSON (chmod 600)")
    key.add_argument("--service-account-env", metavar="VAR", help="environment variable holding the key JSON")
    g.add_argument("--admin-subject", required=True, metavar="EMAIL",
                   help="super admin to impersonate for Directory, Reports and Policy API calls")
    g.add_argument("--customer-id", default="my_customer", help="customer id (default: %(default)s)")
    g.add_argument("--api-endpoint", default="", help="override every API's endpoint (simulator, proxy)")
    g.add_argument("--token-uri", default="", help="override the OAuth token endpoint (simulator)")
    g.add_argument("--ca-bundle", type=Path, help="PEM bundle of CAs to trust for an https endpoint")
    g.add_argument("--workers", type=int, default=4, help="parallel worker threads (default: %(default)s)")
    add_dns_arguments(g)
    g.add_argument("--sections", help="comma-separated section names to collect (default: all)")
    g.add_argument("--lookback-days", type=int, default=DEFAULT_LOOKBACK_DAYS, metavar="N",
                   help="days of Reports activities to read for signs of takeover (1-180; default: %(default)s)")
    g.add_argument("--out", type=Path, help="snapshot directory to write (default: snapshots/google-CUSTOMER-TIME)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars (they are off anyway without a TTY)")
    g.add_argument("--redact", action="store_true", help=REDACT_HELP)
    g.set_defaults(func=run_google)


def options_from_args(args: argparse.Namespace) -> object:
    from connectors.google.options import options_from_tenant  # lazy: start-up time (google client)

    opts = {"name": "command line", "admin_subject": args.admin_subject, "customer_id": args.customer_id,
            "api_endpoint": args.api_endpoint, "token_uri": args.token_uri,
            "ca_bundle": str(args.ca_bundle) if args.ca_bundle else ""}
    if args.service_account_file:
        opts["service_account_file"] = str(args.service_account_file)
    else:
        opts["service_account_env"] = args.service_account_env
    return options_from_tenant(opts, workers=args.workers, dns=dns_from_args(args), lookback_days=args.lookback_days)


def run_google(args: argparse.Namespace) -> int:
    from connectors.google.collect import collect_google  # lazy: start-up time (google client)
    from connectors.google.options import GoogleOptions

    options = options_from_args(args)
    assert isinstance(options, GoogleOptions)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()] if args.sections else None
    out = args.out or default_out_dir("google", args.customer_id)
    path = collect_google(options, out, progress=not args.no_progress, sections=sections)
    return finish_snapshot(path, args.redact)
