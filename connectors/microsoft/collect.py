"""Collect one Microsoft 365 tenant into a snapshot directory: sign in, read every section, write the manifest.

Nothing aborts the run except a failed sign-in (CollectionError). Every other failure becomes a section status in
the manifest. On Ctrl-C the manifest is left marked incomplete, so nobody mistakes a half-collected tenant for a
clean one.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any

from connectors.asyncrun import run_coroutine
from connectors.email_dns import dns_options_from
from connectors.interface import CollectionProgress
from connectors.microsoft.collectors import ALL_SECTIONS_IN_ORDER, MicrosoftCollection
from connectors.microsoft.exchange import ExchangeClient
from connectors.microsoft.http import AdapterTransport, ApiError, build_http_client
from connectors.microsoft.logs import LogCollection
from connectors.microsoft.options import GLOBAL_AUTHORITY_HOST, MicrosoftOptions
from connectors.microsoft.recorder import SectionRecorder
from connectors.progress import make_progress
from idaudit.core.config import TenantConfig
from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, LogWindow
from idaudit.core.sections import MICROSOFT_SECTIONS
from idaudit.core.snapshot import SnapshotWriter

log = logging.getLogger(__name__)
SOURCE = "microsoft-graph"


def collect_microsoft(options: MicrosoftOptions, out_dir: str | os.PathLike[str], *,
                      progress: bool | CollectionProgress | None = True,
                      sections: Collection[str] | None = None) -> Path:
    """Collect the tenant described by `options` into `out_dir` and return the snapshot path.

    `progress`: True for a terminal bar (silent when stderr is not a TTY), False/None for silence, or any
    CollectionProgress (a notebook prints one line per section). `sections` limits collection to those section names (idaudit/core/sections.py); None collects everything.
    Raises CollectionError when sign-in fails; the message carries the AADSTS code, never the secret.
    """
    wanted = _check_sections(sections)
    from connectors.microsoft.auth import MsalSignIn  # lazy: start-up time
    from connectors.microsoft.redact import redacted_logging

    with redacted_logging([options.client_secret or "", options.certificate_password or ""]):
        sign_in = MsalSignIn(options)
        sign_in.token(options.graph_scope)  # fail fast, before anything is written
        return run_coroutine(_collect(options, sign_in, Path(out_dir), progress, wanted))


def _check_sections(sections: Collection[str] | None) -> set[str] | None:
    if sections is None:
        return None
    known = {s.name for s in MICROSOFT_SECTIONS}
    unknown = sorted(set(sections) - known)
    if unknown:
        raise CollectionError(f"unknown Microsoft section(s): {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
    return set(sections)


async def _collect(options: MicrosoftOptions, sign_in: Any, out_dir: Path, progress: bool | CollectionProgress | None,
                   wanted: set[str] | None) -> Path:
    from connectors.microsoft.auth import MsalAccessTokenProvider  # lazy: start-up time
    from connectors.microsoft.graph import GraphClient

    stats: dict[str, int] = {}
    client = build_http_client(options.ca_bundle, options.timeout, options.concurrency, options.time_scale, stats)
    bar: Any = None
    writer: SnapshotWriter | None = None
    try:
        graph_transport = AdapterTransport(
            client, MsalAccessTokenProvider(sign_in, options.graph_scope, options.graph_endpoint),
            options.graph_endpoint, options.time_scale, stats)
        graph = GraphClient(graph_transport, options.graph_endpoint, concurrency=options.concurrency,
                            time_scale=options.time_scale)
        organization: list[Any] | ApiError
        try:
            organization = await graph.get_all("organization")
        except ApiError as exc:
            organization = exc
        org0 = organization[0] if isinstance(organization, list) and organization else {}
        tenant_id = str(org0.get("id") or options.tenant_id)
        writer = SnapshotWriter(out_dir, "microsoft", tenant_id, str(org0.get("displayName") or ""), source=SOURCE)
        planned = [s for s in ALL_SECTIONS_IN_ORDER if wanted is None or s in wanted]
        if progress is None or isinstance(progress, bool):
            bar = make_progress(bool(progress), len(planned), provider="microsoft")
        else:
            bar = progress
        recorder = SectionRecorder(writer, bar, wanted)
        bar.section_started("organization")
        if isinstance(organization, ApiError):
            recorder.fail("organization", organization)
        else:
            recorder.ok("organization", organization)

        exchange: ExchangeClient | None = None
        exchange_unavailable: ApiError | None = None
        wants_exchange = any(recorder.wants(s) for s in ALL_SECTIONS_IN_ORDER if s.startswith("exchange."))
        if options.collect_exchange and wants_exchange:
            try:
                sign_in.token(options.exchange_scope)
                exo_transport = AdapterTransport(
                    client, MsalAccessTokenProvider(sign_in, options.exchange_scope, options.exchange_endpoint),
                    options.exchange_endpoint, options.time_scale, stats)
                exchange = ExchangeClient(exo_transport, options.exchange_endpoint, tenant_id)
            except CollectionError as exc:
                exchange_unavailable = ApiError(401, "ExchangeSignInFailed", str(exc))
        elif not options.collect_exchange:
            exchange_unavailable = ApiError(0, "NotCollected", "Exchange collection was turned off")

        window = LogWindow.ending(options.log_window_end or writer.collected_at, options.lookback_days)
        logs = LogCollection(graph, recorder, options, window)
        await MicrosoftCollection(graph, recorder, exchange=exchange,
                                  exchange_unavailable=exchange_unavailable, logs=logs,
                                  dns=options.dns).run()
        writer.finish(complete=True)
        log.info("collected %s into %s (%s requests, %s throttled answers)", tenant_id, out_dir,
                 stats.get("requests", 0), stats.get("retryable_responses", 0))
        return out_dir
    except BaseException:
        if writer is not None:
            writer.finish(complete=False)
        raise
    finally:
        if bar is not None:
            bar.close()
        await client.aclose()


def _read_secret_file(path: Path, tenant: str) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise CollectionError(f"tenant {tenant!r}: cannot read client_secret_file {path} ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users; chmod 600 it", path)
    if not text:
        raise CollectionError(f"tenant {tenant!r}: client_secret_file {path} is empty")
    return text


def options_from_config(tenant: TenantConfig, **overrides: Any) -> MicrosoftOptions:
    """MicrosoftOptions from a [[tenants]] entry. Secrets come from the environment variable or file it names,
    never from the TOML itself."""
    o = tenant.options
    name = tenant.name

    def need(key: str) -> str:
        value = o.get(key, "").strip()
        if not value:
            raise CollectionError(f"tenant {name!r}: '{key}' is required for a Microsoft tenant")
        return value

    secret: str | None = None
    if o.get("client_secret_env"):
        var = o["client_secret_env"]
        secret = os.environ.get(var)
        if not secret:
            raise CollectionError(f"tenant {name!r}: environment variable {var} (client_secret_env) is not set")
    elif o.get("client_secret_file"):
        secret = _read_secret_file(Path(o["client_secret_file"]).expanduser(), name)
    cert_password = None
    if o.get("certificate_password_env"):
        cert_password = os.environ.get(o["certificate_password_env"])
        if cert_password is None:
            raise CollectionError(f"tenant {name!r}: environment variable {o['certificate_password_env']} "
                                  "(certificate_password_env) is not set")
    authority_host = o.get("authority") or GLOBAL_AUTHORITY_HOST
    tenant_id = need("tenant_id")
    if authority_host.rstrip("/").endswith("/" + tenant_id):
        authority_host = authority_host.rstrip("/")[: -len(tenant_id) - 1]
    kwargs: dict[str, Any] = {
        "tenant_id": tenant_id,
        "client_id": need("client_id"),
        "client_secret": secret,
        "certificate_path": Path(o["certificate_file"]).expanduser() if o.get("certificate_file") else None,
        "certificate_password": cert_password,
        "authority_host": authority_host,
    }
    for key in ("graph_endpoint", "exchange_endpoint"):
        if o.get(key):
            kwargs[key] = o[key]
    if o.get("ca_bundle"):
        kwargs["ca_bundle"] = Path(o["ca_bundle"]).expanduser()
    kwargs["dns"] = dns_options_from(o.get("dns_resolver"), o.get("dns_timeout"), where=f"tenant {name!r}: ")
    kwargs.update(overrides)
    if not kwargs.get("client_secret") and not kwargs.get("certificate_path") and not kwargs.get("device_code"):
        raise CollectionError(f"tenant {name!r}: give client_secret_env, client_secret_file or certificate_file")
    return MicrosoftOptions(**kwargs)


def collect_from_config(tenant: TenantConfig, out_dir: str | os.PathLike[str], *,
                        progress: bool | CollectionProgress | None = True,
                        sections: Collection[str] | None = None, lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Path:
    """Collect a tenant named in the config (see idaudit.core.config.TenantConfig); the logs cover the last
    `lookback_days`."""
    return collect_microsoft(options_from_config(tenant, lookback_days=lookback_days), out_dir, progress=progress,
                             sections=sections)


class MicrosoftCollector:
    """The Microsoft connector behind the generic Collector protocol (connectors/interface.py)."""

    provider = "microsoft"

    def __init__(self, options: MicrosoftOptions) -> None:
        self.options = options

    def collect(self, out_dir: Path, *, sections: Collection[str] | None = None,
                progress: CollectionProgress | None = None) -> Path:
        return collect_microsoft(self.options, out_dir, progress=progress, sections=sections)
