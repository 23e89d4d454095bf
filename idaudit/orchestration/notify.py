"""Notifications after a scheduled audit: an e-mail summary (SMTP) and a webhook post (Teams or Slack).

The weekly run is only useful if someone hears about it. Secrets never sit in the TOML: the SMTP password and
the webhook URL (which is itself a bearer secret) come from an environment variable or a file named in the
config. E-mail always goes over TLS (STARTTLS by default, or implicit TLS) with certificate verification; a
credential is never sent in clear. Untrusted text (user and rule names inside call-outs) is cleaned of control
characters and escaped for the target's markup.

Config (all optional; no [notify] table means no notification):

    [notify]
    when = "always"            # always | changes (new or resolved findings) | problems (exit code not 0)
    [notify.email]
    host = "smtp.office365.com"
    port = 587
    security = "starttls"      # starttls | tls
    sender = "idaudit@clinic.example"
    to = ["it-manager@clinic.example", "vciso@partner.example"]
    username_env = "IDAUDIT_SMTP_USER"
    password_env = "IDAUDIT_SMTP_PASSWORD"     # or password_file = "/etc/idaudit/smtp-password"
    ca_file = ""               # optional: a private CA bundle
    [notify.webhook]
    format = "teams"           # teams | slack
    url_env = "IDAUDIT_WEBHOOK_URL"            # or url_file = "/etc/idaudit/webhook-url"
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idaudit.core import exitcodes
from idaudit.core.config import Config
from idaudit.core.errors import ConfigError, IdauditError

if TYPE_CHECKING:
    from idaudit.core.outcomes import AuditOutcome

log = logging.getLogger(__name__)

_NOTIFY_KEYS = {"when", "email", "webhook"}
_EMAIL_KEYS = {"host", "port", "security", "sender", "to", "username_env", "password_env", "password_file",
               "ca_file", "timeout"}
_WEBHOOK_KEYS = {"format", "url_env", "url_file", "ca_file", "timeout"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
SLACK_TEXT_LIMIT = 2900
CALLOUT_LIMIT = 10


class NotifyError(IdauditError):
    """A notification could not be delivered (the message says which and why, never the secret)."""


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    security: str  # starttls | tls
    sender: str
    to: tuple[str, ...]
    username: str | None
    password: str | None
    ca_file: str | None
    timeout: float = 30.0

    def __repr__(self) -> str:  # never print the password
        return f"EmailSettings(host={self.host!r}, port={self.port}, security={self.security!r}, to={self.to!r})"


@dataclass(frozen=True)
class WebhookSettings:
    format: str  # teams | slack
    url: str
    ca_file: str | None
    timeout: float = 30.0

    def __repr__(self) -> str:  # the URL embeds the webhook's secret
        return f"WebhookSettings(format={self.format!r}, url=<secret>)"


@dataclass(frozen=True)
class NotifySettings:
    when: str = "always"
    email: EmailSettings | None = None
    webhook: WebhookSettings | None = None

    @property
    def enabled(self) -> bool:
        return self.email is not None or self.webhook is not None


def _secret(where: Path | str, prefix: str, table: Mapping[str, Any], env: Mapping[str, str],
            required: bool) -> str | None:
    env_key, file_key = f"{prefix}_env", f"{prefix}_file"
    if env_key in table and file_key in table:
        raise ConfigError(where, f"{file_key}", f"give either {env_key} or {file_key}, not both")
    if env_key in table:
        name = table[env_key]
        if not isinstance(name, str) or not name:
            raise ConfigError(where, env_key, "must name an environment variable")
        value = env.get(name)
        if not value:
            raise ConfigError(where, env_key, f"environment variable {name} is not set")
        return value
    if file_key in table:
        path = Path(str(table[file_key]))
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(where, file_key, f"cannot read {path}: {exc.strerror}") from None
    if required:
        raise ConfigError(where, env_key, f"is required ({env_key} or {file_key})")
    return None


def _keys(where: Path | str, name: str, table: Any, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(where, name, "must be a table")
    for key in table:
        if key in ("password", "url", "secret", "username"):
            raise ConfigError(where, f"{name}.{key}", "secrets must not be in the config: use *_env or *_file")
        if key not in allowed:
            raise ConfigError(where, f"{name}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    return table


def _timeout(where: Path | str, key: str, value: Any) -> float:
    """Seconds; a string or a list must be an error naming the key, not a ValueError from float()."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(where, key, "must be a number of seconds between 0 and 3600")
    return float(value)


def parse_notify(config: Config, env: Mapping[str, str] | None = None) -> NotifySettings:
    """Validate [notify]; errors name the config file and key. Secrets are read here, from env or file."""
    env = os.environ if env is None else env
    where: Path | str = config.path or "<defaults>"
    raw = config.raw.get("notify")
    if raw is None:
        return NotifySettings()
    table = _keys(where, "notify", raw, _NOTIFY_KEYS)
    when = table.get("when", "always")
    if when not in ("always", "changes", "problems"):
        raise ConfigError(where, "notify.when", "must be 'always', 'changes' or 'problems'")
    email = None
    if "email" in table:
        e = _keys(where, "notify.email", table["email"], _EMAIL_KEYS)
        for req in ("host", "sender", "to"):
            if req not in e:
                raise ConfigError(where, f"notify.email.{req}", "is required")
        for key in ("host", "sender", "ca_file"):
            if key in e and (not isinstance(e[key], str) or not e[key].strip()):
                raise ConfigError(where, f"notify.email.{key}", "must be a non-empty string")
        to = e["to"]
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not to or not all(isinstance(x, str) and "@" in x for x in to):
            raise ConfigError(where, "notify.email.to", "must be a list of e-mail addresses")
        security = e.get("security", "starttls")
        if security not in ("starttls", "tls"):
            raise ConfigError(where, "notify.email.security",
                              "must be 'starttls' or 'tls' (mail is never sent without TLS)")
        port = e.get("port", 587 if security == "starttls" else 465)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(where, "notify.email.port", "must be a port number")
        username = None
        if "username_env" in e:
            username = env.get(str(e["username_env"]))
            if not username:
                raise ConfigError(where, "notify.email.username_env",
                                  f"environment variable {e['username_env']} is not set")
        password = _secret(where, "password", e, env, required=False)
        if (username is None) != (password is None):
            raise ConfigError(where, "notify.email.password_env",
                              "give both a user name and a password, or neither")
        email = EmailSettings(host=str(e["host"]), port=port, security=security, sender=str(e["sender"]),
                              to=tuple(to), username=username, password=password,
                              ca_file=str(e["ca_file"]) if e.get("ca_file") else None,
                              timeout=_timeout(where, "notify.email.timeout", e.get("timeout", 30)))
    webhook = None
    if "webhook" in table:
        w = _keys(where, "notify.webhook", table["webhook"], _WEBHOOK_KEYS)
        fmt = w.get("format", "teams")
        if fmt not in ("teams", "slack"):
            raise ConfigError(where, "notify.webhook.format", "must be 'teams' or 'slack'")
        url = _secret(where, "url", w, env, required=True)
        assert url is not None
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")):
            raise ConfigError(where, "notify.webhook.url_env", "the webhook URL must use https")
        webhook = WebhookSettings(format=fmt, url=url, ca_file=str(w["ca_file"]) if w.get("ca_file") else None,
                                  timeout=_timeout(where, "notify.webhook.timeout", w.get("timeout", 30)))
    return NotifySettings(when=when, email=email, webhook=webhook)


# ---- the message -------------------------------------------------------------------------------------------

def clean(text: object) -> str:
    return _CONTROL.sub("?", "" if text is None else str(text))


_VERDICT = {exitcodes.OK: "clean", exitcodes.FINDINGS: "NEW high/critical findings",
            exitcodes.INCOMPLETE: "incomplete: some data was not collected", exitcodes.ERROR: "ERROR"}


def summary_lines(outcome: AuditOutcome) -> tuple[str, list[tuple[str, list[str]]]]:
    """(subject, [(tenant heading, lines)]) shared by every channel."""
    n_serious = sum(t.new_serious for t in outcome.tenants)
    errors = sum(1 for t in outcome.tenants if t.exit_code == exitcodes.ERROR)
    takeover = sum(t.takeover_signs for t in outcome.tenants)
    subject = ((f"SIGNS OF TAKEOVER ({takeover} user(s)) — " if takeover else "")
               + f"idaudit weekly audit {outcome.started_at.strftime('%Y-%m-%d')}: "
               f"{len(outcome.tenants)} tenant(s), {n_serious} new high/critical finding(s)"
               + (f", {errors} failed" if errors else ""))
    sections = []
    for t in outcome.tenants:
        lines = [f"Result: {_VERDICT.get(t.exit_code, str(t.exit_code))}"]
        if t.error:
            lines.append(f"Error: {clean(t.error)}")
        else:
            score = "n/a" if t.posture_score is None else f"{t.posture_score:.0f}/100"
            lines.append(f"Posture score: {score}")
            lines.append("Findings: " + ", ".join(f"{k} {v}" for k, v in t.counts.items() if v))
            if t.changes is None:
                lines.append("First recorded run of this tenant.")
            else:
                lines.append("Since last run: " + ", ".join(f"{k} {v}" for k, v in t.changes.items()))
            lines += [clean(c) for c in t.callouts[:CALLOUT_LIMIT]]
            if len(t.callouts) > CALLOUT_LIMIT:
                lines.append(f"... and {len(t.callouts) - CALLOUT_LIMIT} more: see the workbook")
            if t.incomplete_sections:
                lines.append("Not collected: " + ", ".join(t.incomplete_sections))
            lines += [f"Report: {p}" for p in t.reports if p.suffix == ".xlsx"]
        sections.append((clean(t.tenant), lines))
    return clean(subject), sections


def email_message(outcome: AuditOutcome, s: EmailSettings) -> EmailMessage:
    subject, sections = summary_lines(outcome)
    body = [subject, ""]
    for heading, lines in sections:
        body += [heading, "-" * len(heading), *lines, ""]
    body.append("Reports hold personal data: keep them on the file share, do not forward them.")
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = s.sender
    msg["To"] = ", ".join(s.to)
    msg.set_content("\n".join(body))
    return msg


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(outcome: AuditOutcome) -> dict[str, Any]:
    """Slack incoming-webhook message: `text` fallback plus Block Kit header and sections."""
    subject, sections = summary_lines(outcome)
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": subject[:150]}}]
    for heading, lines in sections:
        text = f"*{_slack_escape(heading)}*\n" + "\n".join(_slack_escape(x) for x in lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SLACK_TEXT_LIMIT]}})
    return {"text": subject, "blocks": blocks[:50]}


_MD = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")


def _md_escape(text: str) -> str:
    return _MD.sub(r"\\\1", text)


def teams_payload(outcome: AuditOutcome) -> dict[str, Any]:
    """Teams incoming webhook / Workflows message carrying one Adaptive Card."""
    subject, sections = summary_lines(outcome)
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": _md_escape(subject), "weight": "Bolder",
                                   "size": "Medium", "wrap": True}]
    for heading, lines in sections:
        body.append({"type": "TextBlock", "text": _md_escape(heading), "weight": "Bolder", "wrap": True,
                     "separator": True})
        body += [{"type": "TextBlock", "text": _md_escape(x), "wrap": True, "spacing": "None"} for x in lines]
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body}
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}


# ---- delivery ----------------------------------------------------------------------------------------------

def send_email(outcome: AuditOutcome, s: EmailSettings) -> None:
    context = ssl.create_default_context(cafile=s.ca_file) if s.ca_file else ssl.create_default_context()
    msg = email_message(outcome, s)
    try:
        if s.security == "tls":
            with smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context) as smtp:
                _login_and_send(smtp, s, msg)
        else:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise NotifyError(f"e-mail: {s.host}:{s.port} does not offer STARTTLS; refusing to send "
                                      "without TLS")
                smtp.starttls(context=context)
                smtp.ehlo()
                _login_and_send(smtp, s, msg)
    except NotifyError:
        raise
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise NotifyError(f"e-mail via {s.host}:{s.port} failed: {type(exc).__name__}: {exc}") from None


def _login_and_send(smtp: smtplib.SMTP, s: EmailSettings, msg: EmailMessage) -> None:
    if s.username is not None and s.password is not None:
        smtp.login(s.username, s.password)
    smtp.send_message(msg)


def post_webhook(outcome: AuditOutcome, s: WebhookSettings) -> None:
    import requests

    payload = teams_payload(outcome) if s.format == "teams" else slack_payload(outcome)
    session = requests.Session()
    session.trust_env = False  # this machine's CA-bundle variables must not override an explicit ca_file
    try:
        resp = session.post(s.url, json=payload, timeout=s.timeout, verify=s.ca_file or True)
    except requests.RequestException as exc:
        # The exception text may contain the URL, which is a secret: report only its type.
        raise NotifyError(f"webhook ({s.format}) failed: {type(exc).__name__}") from None
    finally:
        session.close()
    if resp.status_code >= 300:
        raise NotifyError(f"webhook ({s.format}) answered HTTP {resp.status_code}")


def should_notify(outcome: AuditOutcome, when: str) -> bool:
    if when == "always":
        return True
    if when == "problems":
        return outcome.exit_code != exitcodes.OK
    return any(t.error or t.changes is None or any(t.changes.get(k, 0) for k in ("new", "resolved", "newly waived"))
               for t in outcome.tenants)


def send_notifications(outcome: AuditOutcome, settings: NotifySettings) -> list[str]:
    """Deliver on every configured channel; returns the failures (each channel is tried independently)."""
    if not settings.enabled or not should_notify(outcome, settings.when):
        return []
    errors = []
    if settings.email is not None:
        try:
            send_email(outcome, settings.email)
        except NotifyError as exc:
            log.error("%s", exc)
            errors.append(str(exc))
    if settings.webhook is not None:
        try:
            post_webhook(outcome, settings.webhook)
        except NotifyError as exc:
            log.error("%s", exc)
            errors.append(str(exc))
    return errors
