"""The simulator's OAuth token endpoint for service accounts with domain-wide delegation.

A JWT bearer grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`) carries an RS256 assertion signed with
the service account's key: `iss` = the service account, `aud` = the token URI, `scope` = space-separated scopes,
`sub` = the user to impersonate. The signature is verified with the registered public key; every requested scope
must be delegated to the client id. Errors follow Google's OAuth shape `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
NOT_DELEGATED = ("Client is unauthorized to retrieve access tokens using this method, or client not authorized for "
                 "any of the scopes requested.")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    client_id: str
    key_id: str
    public_key: rsa.RSAPublicKey
    private_key_pem: str = field(repr=False)

    def key_file(self, token_uri: str, project: str = "idaudit-sim") -> dict[str, Any]:
        """The JSON a Google Cloud console download would give (type service_account)."""
        return {"type": "service_account", "project_id": project, "private_key_id": self.key_id,
                "private_key": self.private_key_pem, "client_email": self.client_email,
                "client_id": self.client_id, "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri, "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": "", "universe_domain": "googleapis.com"}


def new_service_account(name: str = "idaudit-reader", project: str = "idaudit-sim") -> ServiceAccount:
    """A fresh RSA key per simulator: nothing secret is ever stored in the repository."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    client_id = str(100000000000000000000 + secrets.randbelow(10 ** 20))
    return ServiceAccount(f"{name}@{project}.iam.gserviceaccount.com", client_id, secrets.token_hex(20),
                          key.public_key(), pem)


@dataclass(frozen=True)
class Grant:
    subject: str
    scopes: frozenset[str]
    client_id: str
    expires_at: float


class TokenIssuer:
    """Issues and checks opaque access tokens; `delegated` maps client id -> scopes (None = any scope)."""

    def __init__(self, accounts: list[ServiceAccount], delegated: Mapping[str, frozenset[str] | None],
                 user_exists: Callable[[str], bool], token_uri: Callable[[], str], lifetime: int = 3600) -> None:
        self.accounts = {a.client_email: a for a in accounts}
        self.delegated = dict(delegated)
        self.user_exists = user_exists
        self.token_uri = token_uri
        self.lifetime = lifetime
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.assertion_scopes: list[str] = []  # the `scope` claim of every signed assertion received (tests read it)

    def grant(self, form: Mapping[str, list[str]]) -> tuple[int, dict[str, Any]]:
        def err(status: int, error: str, description: str) -> tuple[int, dict[str, Any]]:
            return status, {"error": error, "error_description": description}

        if (form.get("grant_type") or [""])[0] != JWT_BEARER:
            return err(400, "unsupported_grant_type", "Invalid grant_type: " + (form.get("grant_type") or [""])[0])
        assertion = (form.get("assertion") or [""])[0]
        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header = json.loads(_unb64(head_b64))
            claims = json.loads(_unb64(body_b64))
            signature = _unb64(sig_b64)
        except (ValueError, json.JSONDecodeError):
            return err(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token and in a reasonable "
                                             "timeframe")
        if header.get("alg") != "RS256":
            return err(400, "invalid_grant", "Invalid JWT: unsupported algorithm")
        account = self.accounts.get(str(claims.get("iss", "")))
        if account is None:
            return err(401, "unauthorized_client", "Unknown service account: the client is not registered")
        try:
            account.public_key.verify(signature, f"{head_b64}.{body_b64}".encode(), padding.PKCS1v15(),
                                      hashes.SHA256())
        except InvalidSignature:
            return err(400, "invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0) + 300) or \
                claims.get("exp", 0) - claims.get("iat", 0) > 3600:
            return err(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                                             "reasonable timeframe. Check your iat and exp values in the JWT claim.")
        # google-auth always signs for Google's token endpoint, whatever token_uri it posts to.
        if claims.get("aud") not in (self.token_uri(), GOOGLE_TOKEN_AUDIENCE):
            return err(400, "invalid_grant", "Invalid JWT: the audience must be the token URI")
        with self._lock:
            self.assertion_scopes.append(str(claims.get("scope", "")))
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            return err(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        allowed = self.delegated.get(account.client_id, frozenset())
        subject = str(claims.get("sub") or "")
        if subject:
            if allowed is not None and not scopes <= allowed:
                return err(401, "unauthorized_client", NOT_DELEGATED)
            if not self.user_exists(subject):
                return err(400, "invalid_grant", "Invalid email or User ID")
        token = "ya29.sim-" + secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = Grant(subject, scopes, account.client_id, now + self.lifetime)
        return 200, {"access_token": token, "expires_in": self.lifetime - 1, "token_type": "Bearer"}

    def lookup(self, authorization: str) -> Grant | None:
        if not authorization.lower().startswith("bearer "):
            return None
        with self._lock:
            grant = self._grants.get(authorization[7:].strip())
        if grant is None or grant.expires_at < time.time():
            return None
        return grant

    def expire_all(self) -> None:
        """Tests: every issued token becomes invalid (the client must refresh)."""
        with self._lock:
            self._grants.clear()


def sign_assertion(account_pem: str, claims: Mapping[str, Any], key_id: str = "") -> str:
    """Tests: build an RS256 assertion by hand (e.g. with a wrong key)."""
    key = serialization.load_pem_private_key(account_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    header = {"alg": "RS256", "typ": "JWT", **({"kid": key_id} if key_id else {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(dict(claims)).encode())}"
    sig = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(sig)}"
