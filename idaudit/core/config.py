"""The TOML configuration: thresholds, trusted domains, app allow-list, break-glass accounts, waivers, tenants.

Every error names the file and the key. Secrets never live here: a tenant names the environment variable or
file that holds its secret.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from idaudit.core.engine import CheckSettings, Waiver
from idaudit.core.errors import ConfigError
from idaudit.core.logwindow import MAX_LOOKBACK_DAYS

_AUDIT_KEYS = {"stale_days", "guest_stale_days", "global_admin_min", "global_admin_max", "trusted_domains",
               "allowed_apps", "break_glass", "lookback_days", "takeover_window_days"}
_WAIVER_KEYS = {"check", "subject", "owner", "reason", "expires"}
_TENANT_KEYS = {"name", "provider", "tenant_id", "client_id", "client_secret_env", "client_secret_file",
                "certificate_file", "certificate_password_env", "authority", "graph_endpoint",
                "exchange_endpoint", "service_account_file", "service_account_env", "admin_subject",
                "customer_id", "api_endpoint", "token_uri", "ca_bundle", "output_dir", "directory_quota",
                "dns_resolver", "dns_timeout"}
# Google: Directory API calls per minute the project may make (2,400 by default; Google grants more on request).
# The connector paces tokens.list to it; a number above the real quota earns 429s and can leave users unknown.
_DIRECTORY_QUOTA_MAX = 1_000_000
_TOP_KEYS = {"audit", "waivers", "tenants", "history", "notify", "output"}
# Sections owned by later layers (history, notify, output) are validated there; kept raw here.


@dataclass(frozen=True)
class TenantConfig:
    name: str
    provider: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class Config:
    path: Path | None
    settings: CheckSettings = field(default_factory=CheckSettings)
    waivers: tuple[Waiver, ...] = ()
    tenants: tuple[TenantConfig, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}


def _check_keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(path, f"{where}.{key}" if where else key,
                              f"unknown key ({hint}allowed: {', '.join(sorted(allowed))})")


def _int(path: Path, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(path, key, f"must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ConfigError(path, key, f"must be between {lo} and {hi}, got {value}")
    return value


def _str_list(path: Path, key: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(path, key, "must be a list of non-empty strings")
    return frozenset(v.strip().casefold() for v in value)


def _date(path: Path, key: str, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(path, key, f"must be a date like 2027-01-31, got {value!r}")


def parse_config(doc: Mapping[str, Any], path: Path) -> Config:
    _check_keys(path, "", doc, _TOP_KEYS)
    for table in ("history", "notify", "output"):  # validated in detail by their layers; a non-table is an error here
        if table in doc and not isinstance(doc[table], dict):
            raise ConfigError(path, table, f"must be a table ([{table}])")
    audit = doc.get("audit", {})
    if not isinstance(audit, dict):
        raise ConfigError(path, "audit", "must be a table")
    _check_keys(path, "audit", audit, _AUDIT_KEYS)
    defaults = CheckSettings()
    settings = CheckSettings(
        stale_days=_int(path, "audit.stale_days", audit.get("stale_days", defaults.stale_days), 1, 3650),
        guest_stale_days=_int(path, "audit.guest_stale_days",
                              audit.get("guest_stale_days", defaults.guest_stale_days), 1, 3650),
        global_admin_min=_int(path, "audit.global_admin_min",
                              audit.get("global_admin_min", defaults.global_admin_min), 0, 100),
        global_admin_max=_int(path, "audit.global_admin_max",
                              audit.get("global_admin_max", defaults.global_admin_max), 1, 100),
        trusted_domains=_str_list(path, "audit.trusted_domains", audit.get("trusted_domains", [])),
        allowed_apps=_str_list(path, "audit.allowed_apps", audit.get("allowed_apps", [])),
        break_glass=_str_list(path, "audit.break_glass", audit.get("break_glass", [])),
        lookback_days=_int(path, "audit.lookback_days", audit.get("lookback_days", defaults.lookback_days), 1,
                           MAX_LOOKBACK_DAYS),
        takeover_window_days=_int(path, "audit.takeover_window_days",
                                  audit.get("takeover_window_days", defaults.takeover_window_days), 1,
                                  MAX_LOOKBACK_DAYS),
    )
    if settings.global_admin_min > settings.global_admin_max:
        raise ConfigError(path, "audit.global_admin_min", "must not exceed audit.global_admin_max")
    if settings.takeover_window_days > settings.lookback_days:
        raise ConfigError(path, "audit.takeover_window_days",
                          f"must not exceed audit.lookback_days ({settings.lookback_days}): the logs read cover "
                          "only that many days")

    waivers_doc = doc.get("waivers", [])
    if not isinstance(waivers_doc, list):
        raise ConfigError(path, "waivers", "must be an array of tables ([[waivers]])")
    waivers = []
    for i, w in enumerate(waivers_doc):
        where = f"waivers[{i}]"
        if not isinstance(w, dict):
            raise ConfigError(path, where, "must be a table")
        _check_keys(path, where, w, _WAIVER_KEYS)
        for req in ("check", "subject", "owner", "reason", "expires"):
            if req not in w:
                raise ConfigError(path, f"{where}.{req}", "is required (a waiver needs an owner, a reason and an expiry)")
        for key in ("check", "subject", "owner", "reason"):
            if not isinstance(w[key], str) or not w[key].strip():
                raise ConfigError(path, f"{where}.{key}", "must be a non-empty string")
        waivers.append(Waiver(check_id=w["check"].strip(), subject=w["subject"].strip(), owner=w["owner"].strip(),
                              reason=w["reason"].strip(), expires=_date(path, f"{where}.expires", w["expires"])))

    tenants_doc = doc.get("tenants", [])
    if not isinstance(tenants_doc, list):
        raise ConfigError(path, "tenants", "must be an array of tables ([[tenants]])")
    tenants = []
    seen: set[str] = set()
    for i, t in enumerate(tenants_doc):
        where = f"tenants[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(path, where, "must be a table")
        _check_keys(path, where, t, _TENANT_KEYS)
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(path, f"{where}.name", "is required")
        if name in seen:
            raise ConfigError(path, f"{where}.name", f"duplicate tenant name {name!r}")
        seen.add(name)
        provider = t.get("provider")
        if provider not in ("microsoft", "google"):
            raise ConfigError(path, f"{where}.provider", "must be 'microsoft' or 'google'")
        if "directory_quota" in t:
            quota = t["directory_quota"]
            if provider != "google":
                raise ConfigError(path, f"{where}.directory_quota", "applies to Google tenants only")
            if isinstance(quota, bool) or not isinstance(quota, int) or not 1 <= quota <= _DIRECTORY_QUOTA_MAX:
                raise ConfigError(path, f"{where}.directory_quota",
                                  f"must be a whole number of calls per minute, 1 to {_DIRECTORY_QUOTA_MAX:,} "
                                  "(Google's default is 2400)")
            t = {**t, "directory_quota": str(quota)}
        if "dns_timeout" in t:  # seconds for one DNS name (SPF / DMARC lookups), retries included
            secs = t["dns_timeout"]
            if isinstance(secs, bool) or not isinstance(secs, int | float) or not 0 < secs <= 120:
                raise ConfigError(path, f"{where}.dns_timeout", "must be a number of seconds, more than 0 and at "
                                                                "most 120")
            t = {**t, "dns_timeout": str(secs)}
        for k, v in t.items():
            if not isinstance(v, str):
                raise ConfigError(path, f"{where}.{k}", "must be a string")
            if k in ("client_secret", "secret", "password"):
                raise ConfigError(path, f"{where}.{k}", "secrets must not be in the config: use *_env or *_file")
        tenants.append(TenantConfig(name=name, provider=provider, options=dict(t)))
    return Config(path=path, settings=settings, waivers=tuple(waivers), tenants=tuple(tenants), raw=dict(doc))


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Load a TOML config; None gives the documented defaults."""
    if path is None:
        return Config(path=None)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, "-", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(p, "-", "is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(p, "-", f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(p, "-", f"not UTF-8 text (byte {exc.start}): TOML files are UTF-8") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = str(exc)
        if "(at end of document)" in where:  # say which line that is: the reader has an editor, not a parser
            where = where.replace("(at end of document)", f"(at end of document, line {text.count(chr(10)) + 1})")
        raise ConfigError(p, "-", f"not valid TOML: {where}") from exc
    return parse_config(doc, p)
