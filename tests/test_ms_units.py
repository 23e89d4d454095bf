"""Unit tests of the Microsoft connector parts that need no server: options, certificates, error mapping,
group discovery, config secrets, CLI wiring. The connector against the simulator is in test_ms_collect*.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from connectors.microsoft.collect import options_from_config
from connectors.microsoft.collectors import eligible_principal_ids, is_no_mailbox, referenced_group_ids
from connectors.microsoft.http import ApiError, error_from_body
from connectors.microsoft.options import (
    OPTIONAL_PERMISSIONS,
    REQUIRED_PERMISSIONS,
    MicrosoftOptions,
    load_certificate,
)
from connectors.microsoft.recorder import failure_detail
from idaudit.cli import build_parser
from idaudit.core.config import TenantConfig
from idaudit.core.errors import CollectionError
from idaudit.core.sections import MICROSOFT_SECTIONS
from idaudit.core.snapshot import SectionStatus

ROOT = Path(__file__).resolve().parents[1]


def _cert(tmp_path: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idaudit-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(42).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert, key


def test_required_permissions_are_read_only_and_documented() -> None:
    doc = (ROOT / "docs" / "microsoft.md").read_text(encoding="utf-8")
    for perm in REQUIRED_PERMISSIONS:
        bare = perm.split(" ")[0]
        assert f"`{bare}`" in doc, f"{bare} missing from docs/microsoft.md"
        assert "Write" not in bare, f"{bare} is not read-only"
    for perm in OPTIONAL_PERMISSIONS:
        assert f"`{perm}`" in doc, f"{perm} missing from docs/microsoft.md"
        assert "Write" not in perm, f"{perm} is not read-only"
    # every permission a section needs is in one of the constants (sections.py is the catalogue)
    names = {p.split(" ")[0] for p in (*REQUIRED_PERMISSIONS, *OPTIONAL_PERMISSIONS)}
    for spec in MICROSOFT_SECTIONS:
        if spec.name.startswith("dns."):  # DNS lookups need no permission, only a resolver that answers
            assert spec.permission == "", spec.name
            continue
        assert spec.permission.split(" ")[0] in names, spec.name


@pytest.mark.parametrize("suffix", [".pem", ".pfx"])
def test_certificate_thumbprint_is_computed_from_pem_and_pfx(tmp_path: Path, suffix: str) -> None:
    cert, key = _cert(tmp_path)
    path = tmp_path / f"app{suffix}"
    if suffix == ".pem":
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(b"pw"))
                         + cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(pkcs12.serialize_key_and_certificates(
            b"app", key, cert, None, serialization.BestAvailableEncryption(b"pw")))
    cred = load_certificate(path, "pw")
    assert cred.thumbprint == cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - x5t is SHA-1
    assert "PRIVATE KEY" in cred.private_key_pem
    assert "PRIVATE" not in repr(cred)
    with pytest.raises(CollectionError, match=str(path)):
        load_certificate(path, "wrong")


def test_options_need_exactly_one_credential_and_hide_the_secret() -> None:
    with pytest.raises(CollectionError, match="exactly one credential"):
        MicrosoftOptions(tenant_id="t", client_id="c")
    with pytest.raises(CollectionError, match="exactly one credential"):
        MicrosoftOptions(tenant_id="t", client_id="c", client_secret="x", device_code=True)
    with pytest.raises(CollectionError, match="https"):
        MicrosoftOptions(tenant_id="t", client_id="c", client_secret="x", authority_host="http://login.example")
    opts = MicrosoftOptions(tenant_id="t", client_id="c", client_secret="hunter2-secret")
    assert "hunter2" not in repr(opts)
    assert opts.graph_scope == "https://graph.microsoft.com/.default"
    assert opts.exchange_scope == "https://outlook.office365.com/.default"


def test_scopes_follow_national_clouds_but_not_local_endpoints() -> None:
    gov = MicrosoftOptions(tenant_id="t", client_id="c", client_secret="x",
                           authority_host="https://login.microsoftonline.us",
                           graph_endpoint="https://graph.microsoft.us",
                           exchange_endpoint="https://outlook.office365.us")
    assert gov.graph_scope == "https://graph.microsoft.us/.default"
    assert gov.exchange_scope == "https://outlook.office365.us/.default"
    assert gov.authority == "https://login.microsoftonline.us/t"
    local = MicrosoftOptions(tenant_id="t", client_id="c", client_secret="x",
                             graph_endpoint="https://127.0.0.1:8443")
    assert local.graph_scope == "https://graph.microsoft.com/.default"


def test_api_errors_map_to_section_status() -> None:
    lic = error_from_body(403, {"error": {"code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
                                          "message": "no premium"}})
    assert lic.section_status is SectionStatus.UNLICENSED
    denied = error_from_body(403, {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}})
    assert denied.section_status is SectionStatus.FORBIDDEN
    assert error_from_body(404, {"error": {"code": "Request_ResourceNotFound"}}).section_status \
        is SectionStatus.NOT_FOUND
    assert error_from_body(500, None).section_status is SectionStatus.ERROR
    assert is_no_mailbox(error_from_body(404, {"error": {"code": "MailboxNotEnabledForRESTAPI"}}))
    assert not is_no_mailbox(error_from_body(404, {"error": {"code": "Request_ResourceNotFound"}}))  # no such user
    # guests and unlicensed accounts: Outlook's "Resource could not be discovered." (issue 21 item 4)
    assert is_no_mailbox(error_from_body(404, {"error": {"code": "ResourceNotFound",
                                                         "message": "Resource could not be discovered."}}))
    # the reason a reader sees names the permission or the licence
    assert "AuditLog.Read.All" in failure_detail("userRegistrationDetails", denied)
    assert "Entra ID P1" in failure_detail("signInActivity", lic)
    assert "Exchange.ManageAsApp" in failure_detail("exchange.mailboxes", ApiError(401, "Unauthorized", "x"))


def test_groups_referenced_by_ca_and_roles() -> None:
    ca = [{"conditions": {"users": {"includeUsers": ["All"], "includeGroups": ["g1"],
                                    "excludeGroups": ["g2", "g1"]}}},
          {"conditions": {"users": {"includeGroups": ["All"], "excludeGroups": None}}}]
    roles = [{"principalId": "g3", "principal": {"@odata.type": "#microsoft.graph.group", "id": "g3"}},
             {"principalId": "u1", "principal": {"@odata.type": "#microsoft.graph.user", "id": "u1"}}]
    assert referenced_group_ids(ca, roles) == ["g1", "g2", "g3"]
    elig = [{"principalId": "u1"}, {"principalId": "g9"}, {"principalId": "g9"}]
    assert eligible_principal_ids(elig, [{"id": "u1"}]) == ["g9"]
    assert eligible_principal_ids(ApiError(403, "x", "y"), []) == []


def test_config_secrets_come_from_env_or_file_and_never_leak(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"name": "riverside", "provider": "microsoft", "tenant_id": "t", "client_id": "c"}
    monkeypatch.delenv("IDAUDIT_TEST_SECRET", raising=False)
    with pytest.raises(CollectionError, match="IDAUDIT_TEST_SECRET"):
        options_from_config(TenantConfig("riverside", "microsoft", {**base, "client_secret_env": "IDAUDIT_TEST_SECRET"}))
    monkeypatch.setenv("IDAUDIT_TEST_SECRET", "s3cr3t-value")
    opts = options_from_config(TenantConfig("riverside", "microsoft",
                                            {**base, "client_secret_env": "IDAUDIT_TEST_SECRET",
                                             "authority": "https://login.microsoftonline.us/t"}))
    assert opts.client_secret == "s3cr3t-value"
    assert opts.authority == "https://login.microsoftonline.us/t"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("file-secret\n")
    secret_file.chmod(0o600)
    opts = options_from_config(TenantConfig("r", "microsoft", {**base, "client_secret_file": str(secret_file)}))
    assert opts.client_secret == "file-secret"
    with pytest.raises(CollectionError, match="client_secret_env, client_secret_file or certificate_file"):
        options_from_config(TenantConfig("r", "microsoft", base))


def test_cli_collect_microsoft_requires_one_credential(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["collect", "microsoft", "--tenant-id", "t", "--client-id", "c"])
    assert "--client-secret-env" in capsys.readouterr().err
    args = parser.parse_args(["collect", "microsoft", "--tenant-id", "t", "--client-id", "c",
                              "--client-secret-env", "X", "--sections", "users,domains"])
    assert args.func.__name__ == "run_microsoft"
    with pytest.raises(SystemExit):  # a secret on the command line is not an option at all
        parser.parse_args(["collect", "microsoft", "--tenant-id", "t", "--client-id", "c",
                           "--client-secret", "oops"])


def test_log_redaction_masks_tokens_jwts_and_secrets() -> None:
    import logging

    from connectors.microsoft.redact import RedactingFilter, redact

    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlcyI6WyJVc2VyLlJlYWQuQWxsIl19.c2lnbmF0dXJl"
    text = redact(f"Authorization: Bearer abcdefghijk123 token={jwt} client_secret=Zq8~secretvalue&x=1 "
                  f'{{"access_token": "opaque-token-value"}} my-own-s3cret', ["my-own-s3cret"])
    for leaked in ("abcdefghijk123", jwt, "Zq8~secretvalue", "opaque-token-value", "my-own-s3cret"):
        assert leaked not in text
    assert "x=1" in text and "Authorization: Bearer [redacted]" in text
    record = logging.LogRecord("msal", logging.DEBUG, __file__, 1, "sent %s", (f"Bearer {jwt}",), None)
    assert RedactingFilter().filter(record)
    assert jwt not in record.getMessage()
