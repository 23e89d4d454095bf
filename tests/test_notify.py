"""Notifications against real servers on loopback: an SMTP server with STARTTLS and a webhook receiver.

The SMTP server below is a small real one (sockets, TLS upgrade with a throwaway CA made with `cryptography`,
AUTH PLAIN, DATA); smtplib talks to it exactly as it would to Exchange Online or Gmail. The webhook receiver is
http.server. Nothing is mocked.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import socketserver
import ssl
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idaudit.core import exitcodes
from idaudit.core.config import load_config
from idaudit.core.errors import ConfigError
from idaudit.orchestration.audit import AuditOutcome, TenantOutcome
from idaudit.orchestration.notify import (
    EmailSettings,
    NotifyError,
    NotifySettings,
    WebhookSettings,
    parse_notify,
    send_email,
    send_notifications,
    slack_payload,
    teams_payload,
)

USER, PASSWORD = "idaudit@clinic.example", "s3cret-app-password"


# ---- a throwaway CA and server certificate -----------------------------------------------------------------

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    d = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("idaudit test CA")).issuer_name(_name("idaudit test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "cert.pem", d / "key.pem")
    return d / "ca.pem", ctx


# ---- a small real SMTP server ------------------------------------------------------------------------------

@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    auth: list[tuple[str, str, bool]] = field(default_factory=list)  # user, password, was TLS active
    offer_starttls: bool = True


class SMTPHandler(socketserver.StreamRequestHandler):
    server: SMTPServer

    def _send(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self) -> None:
        box = self.server.box
        tls_on = False
        sender, rcpts = "", []
        self._send("220 localhost ESMTP idaudit-test")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                ext = []
                if box.offer_starttls and not tls_on:
                    ext.append("STARTTLS")
                if tls_on:
                    ext.append("AUTH PLAIN")
                lines = ["localhost", *ext]
                for i, x in enumerate(lines):
                    self._send(("250 " if i == len(lines) - 1 else "250-") + x)
            elif verb == "STARTTLS":
                self._send("220 ready to start TLS")
                conn = self.server.tls.wrap_socket(self.connection, server_side=True)
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                tls_on = True
            elif verb == "AUTH":
                parts = line.split(" ")
                decoded = base64.b64decode(parts[2]).split(b"\0")
                box.auth.append((decoded[1].decode(), decoded[2].decode(), tls_on))
                ok = decoded[1].decode() == USER and decoded[2].decode() == PASSWORD
                self._send("235 2.7.0 accepted" if ok else "535 5.7.8 bad credentials")
            elif verb == "MAIL":
                sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                self._send("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                self._send("250 OK")
            elif verb == "DATA":
                self._send("354 end with <CRLF>.<CRLF>")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                box.messages.append(message_from_bytes(data, policy=email_policy.default))
                box.envelopes.append((sender, rcpts))
                self._send("250 queued")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            else:
                self._send("250 OK")


class SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tls: ssl.SSLContext, box: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.tls = tls
        self.box = box


@pytest.fixture()
def smtp(tls: tuple[Path, ssl.SSLContext]) -> Iterator[tuple[int, Mailbox, Path]]:
    box = Mailbox()
    server = SMTPServer(tls[1], box)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield server.server_address[1], box, tls[0]
    finally:
        server.shutdown()
        server.server_close()


# ---- a webhook receiver ------------------------------------------------------------------------------------

@dataclass
class Posts:
    bodies: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    paths: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture()
def webhook() -> Iterator[tuple[str, Posts]]:
    posts = Posts()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers["Content-Length"])
            posts.bodies.append(json.loads(self.rfile.read(n)))
            posts.paths.append(self.path)
            self.send_response(posts.status)
            self.end_headers()
            self.wfile.write(b"1")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhookb2/SECRET-TOKEN", posts
    finally:
        server.shutdown()
        server.server_close()


# ---- an outcome to announce --------------------------------------------------------------------------------

def _outcome() -> AuditOutcome:
    lake = TenantOutcome(
        "Lakeside Surgery", exitcodes.FINDINGS, reports=(Path("/srv/idaudit/out/lakeside.xlsx"),),
        run_id=3, posture_score=42.0, counts={"fail": 11, "unknown": 1, "waived": 0, "pass": 10},
        changes={"new": 1, "newly waived": 0, "no longer verifiable": 0, "still open": 10, "resolved": 0},
        new_serious=1,
        callouts=("NEW since run 2: Mail forwarded outside — Eve\x1b[31m <b>Lin</b>: forwards to x@proton.example",),
        incomplete_sections=("conditionalAccessPolicies",))
    hill = TenantOutcome("Hilltop Clinic", exitcodes.ERROR, error="sign-in failed: AADSTS7000215")
    return AuditOutcome((lake, hill), dt.datetime(2026, 11, 16, 6, 30, tzinfo=dt.UTC))


def _email_settings(port: int, ca: Path, **kw: object) -> EmailSettings:
    base = dict(host="127.0.0.1", port=port, security="starttls", sender="idaudit@clinic.example",
                to=("it@clinic.example", "vciso@partner.example"), username=USER, password=PASSWORD,
                ca_file=str(ca), timeout=10.0)
    base.update(kw)
    return EmailSettings(**base)  # type: ignore[arg-type]


def test_email_summary_over_starttls(smtp: tuple[int, Mailbox, Path]) -> None:
    port, box, ca = smtp
    send_email(_outcome(), _email_settings(port, ca))
    assert box.auth == [(USER, PASSWORD, True)]  # the password crossed only inside TLS
    assert box.envelopes == [("idaudit@clinic.example", ["it@clinic.example", "vciso@partner.example"])]
    msg = box.messages[0]
    assert msg["Subject"] == ("idaudit weekly audit 2026-11-16: 2 tenant(s), 1 new high/critical finding(s), "
                              "1 failed")
    body = msg.get_payload(decode=True).decode()
    assert "Lakeside Surgery" in body and "Posture score: 42/100" in body and "new 1" in body
    assert "forwards to x@proton.example" in body and "\x1b" not in body
    assert "Error: sign-in failed: AADSTS7000215" in body
    assert "Not collected: conditionalAccessPolicies" in body


def test_email_refused_without_starttls(smtp: tuple[int, Mailbox, Path]) -> None:
    port, box, ca = smtp
    box.offer_starttls = False
    with pytest.raises(NotifyError, match="does not offer STARTTLS"):
        send_email(_outcome(), _email_settings(port, ca))
    assert box.auth == [] and box.messages == []


def test_email_untrusted_certificate_fails_closed(smtp: tuple[int, Mailbox, Path], tmp_path: Path) -> None:
    port, box, _ = smtp
    with pytest.raises(NotifyError, match=r"CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError"):
        send_email(_outcome(), _email_settings(port, _other_ca(tmp_path)))
    assert box.auth == []


def _other_ca(tmp_path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("other")).issuer_name(_name("other"))
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    p = tmp_path / "other.pem"
    p.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p


@pytest.mark.parametrize("fmt", ["teams", "slack"])
def test_webhook_received(webhook: tuple[str, Posts], fmt: str) -> None:
    url, posts = webhook
    errors = send_notifications(_outcome(), NotifySettings(webhook=WebhookSettings(fmt, url, None, 10.0)))
    assert errors == [] and posts.paths == ["/webhookb2/SECRET-TOKEN"]
    body = posts.bodies[0]
    if fmt == "teams":
        assert body["type"] == "message"
        att = body["attachments"][0]
        assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
        texts = [b["text"] for b in att["content"]["body"]]
        assert att["content"]["type"] == "AdaptiveCard"
        assert any("Lakeside Surgery" in t for t in texts)
        assert any("\\<b\\>Lin\\</b\\>" in t for t in texts)  # markup in a user name shown, not rendered
    else:
        assert body["text"].startswith("idaudit weekly audit 2026-11-16")
        sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
        assert "*Lakeside Surgery*" in sections[0] and "&lt;b&gt;Lin&lt;/b&gt;" in sections[0]
        assert "AADSTS7000215" in sections[1]


def test_webhook_error_does_not_leak_url(webhook: tuple[str, Posts]) -> None:
    url, posts = webhook
    posts.status = 500
    errors = send_notifications(_outcome(), NotifySettings(webhook=WebhookSettings("slack", url, None, 10.0)))
    assert errors == ["webhook (slack) answered HTTP 500"]
    closed = "http://127.0.0.1:9/webhookb2/SECRET-TOKEN"
    errors = send_notifications(_outcome(), NotifySettings(webhook=WebhookSettings("teams", closed, None, 5.0)))
    assert len(errors) == 1 and "SECRET" not in errors[0]


def test_payload_sizes_bounded() -> None:
    out = _outcome()
    many = TenantOutcome("Big", exitcodes.FINDINGS, callouts=tuple(f"NEW: rule {i} " + "x" * 400 for i in range(500)))
    big = AuditOutcome((*out.tenants, many), out.started_at)
    slack = slack_payload(big)
    assert all(len(b["text"]["text"]) <= 3000 for b in slack["blocks"] if b["type"] == "section")
    teams = teams_payload(big)
    assert len(json.dumps(teams)) < 28_000  # Teams rejects messages over ~28 KB


def _notify_config(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "n.toml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


def test_notify_config_errors_name_key(tmp_path: Path) -> None:
    cfg = _notify_config(tmp_path, """
        [notify.email]
        host = "smtp.example"
        sender = "a@b.example"
        to = ["c@d.example"]
        password = "inline"
    """)
    with pytest.raises(ConfigError, match=r"notify\.email\.password.*secrets must not be in the config"):
        parse_notify(load_config(cfg), env={})
    cfg = _notify_config(tmp_path, """
        [notify.webhook]
        format = "teams"
        url_env = "IDAUDIT_WEBHOOK"
    """)
    with pytest.raises(ConfigError, match="IDAUDIT_WEBHOOK is not set"):
        parse_notify(load_config(cfg), env={})
    s = parse_notify(load_config(cfg), env={"IDAUDIT_WEBHOOK": "https://x.example/hook/abc"})
    assert s.webhook is not None and "abc" not in repr(s.webhook)
    cfg = _notify_config(tmp_path, """
        [notify.email]
        host = "smtp.example"
        sender = "a@b.example"
        to = ["c@d.example"]
        security = "none"
    """)
    with pytest.raises(ConfigError, match=r"notify\.email\.security"):
        parse_notify(load_config(cfg), env={})


def test_scheduled_audit_notifies_both_channels(smtp: tuple[int, Mailbox, Path], webhook: tuple[str, Posts],
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: run_audit with [notify] e-mail + webhook; both real servers receive the summary."""
    from datetime import UTC, datetime

    from idaudit.orchestration.audit import run_audit
    from tests.test_audit_scheduled import FakeWeek

    port, box, ca = smtp
    url, posts = webhook
    monkeypatch.setenv("T_SMTP_USER", USER)
    monkeypatch.setenv("T_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("T_WEBHOOK", url)
    cfg = _notify_config(tmp_path, f"""
        [output]
        dir = "out"
        formats = ["json"]
        [[tenants]]
        name = "Lakeside Surgery"
        provider = "microsoft"
        tenant_id = "tid-lakeside"
        [notify]
        when = "always"
        [notify.email]
        host = "127.0.0.1"
        port = {port}
        sender = "idaudit@clinic.example"
        to = ["it@clinic.example"]
        username_env = "T_SMTP_USER"
        password_env = "T_SMTP_PASSWORD"
        ca_file = "{ca}"
        [notify.webhook]
        format = "slack"
        url_env = "T_WEBHOOK"
    """)
    fake = FakeWeek()
    out = run_audit(load_config(cfg), collector=fake.collector, auditor=fake.auditor,
                    now=datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    assert out.notify_errors == () and out.exit_code == exitcodes.FINDINGS
    assert len(box.messages) == 1 and "Lakeside Surgery" in box.messages[0].get_payload(decode=True).decode()
    assert len(posts.bodies) == 1 and "9 new high/critical" in posts.bodies[0]["text"]


def test_notification_failure_makes_exit_code_error(webhook: tuple[str, Posts], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from idaudit.orchestration.audit import run_audit
    from tests.test_audit_scheduled import FakeWeek

    url, posts = webhook
    posts.status = 403
    monkeypatch.setenv("T_WEBHOOK", url)
    cfg = _notify_config(tmp_path, """
        [output]
        formats = ["json"]
        [[tenants]]
        name = "Lakeside Surgery"
        provider = "microsoft"
        [notify.webhook]
        format = "teams"
        url_env = "T_WEBHOOK"
    """)
    fake = FakeWeek()
    out = run_audit(load_config(cfg), collector=fake.collector, auditor=fake.auditor,
                    now=datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    assert out.notify_errors == ("webhook (teams) answered HTTP 403",)
    assert out.exit_code == exitcodes.ERROR


def test_free_port_is_closed() -> None:
    """Guard for test_webhook_error_does_not_leak_url: nothing listens on 127.0.0.1:9 here."""
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", 9)) != 0
