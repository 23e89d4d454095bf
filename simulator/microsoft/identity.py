"""The simulated Microsoft identity platform: OpenID configuration, the v2.0 token endpoint (client credentials by
secret or certificate assertion, device code, refresh token) and validation of the access tokens it issues.

Errors follow the identity platform's shape: `{"error", "error_description": "AADSTSnnnn: ...", "error_codes",
"timestamp", "trace_id", "correlation_id", "error_uri"}`. Access tokens are JWT-shaped (header.payload.signature,
base64url) and carry `aud`, `tid`, `exp`, and `roles` (application permissions) or `scp` (delegated); they are
signed with a per-run HMAC key, so only this simulator can validate them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator.builder import GRAPH_READ_PERMISSIONS, OPTIONAL_READ_PERMISSIONS, TAKEOVER_READ_PERMISSIONS
from simulator.server import WireRequest, WireResponse
from simulator.tls import ClientCertificate

GRAPH_AUDIENCE = "https://graph.microsoft.com"
EXCHANGE_AUDIENCE = "https://outlook.office365.com"
AUDIENCES = (GRAPH_AUDIENCE, EXCHANGE_AUDIENCE)
EXCHANGE_ROLE = "Exchange.ManageAsApp"
ALL_READ_PERMISSIONS: tuple[str, ...] = (*GRAPH_READ_PERMISSIONS, *TAKEOVER_READ_PERMISSIONS, *OPTIONAL_READ_PERMISSIONS,
                                         EXCHANGE_ROLE)
_OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenError(Exception):
    """An access token the simulator refuses; the message is Graph's."""


@dataclass
class DeviceFlow:
    client_id: str
    scope: str
    polls_left: int
    expires: float


def aad_error(status: int, error: str, code: int, description: str) -> WireResponse:
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return WireResponse(status, {
        "error": error,
        "error_description": f"AADSTS{code}: {description}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\n"
                             f"Timestamp: {stamp}",
        "error_codes": [code], "timestamp": stamp, "trace_id": trace, "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    })


class IdentityPlatform:
    """One tenant with one registered confidential client (secret + certificate) that may also use device code."""

    def __init__(self, *, tenant_id: str, tenant_names: Iterable[str], client_id: str, app_object_id: str,
                 certificate: ClientCertificate, permissions: Iterable[str] | None, token_lifetime: int = 3600,
                 device_code_polls: int = 1, device_user: tuple[str, str, str] = ("", "", "")) -> None:
        self.tenant_id = tenant_id
        self.tenant_names = {tenant_id.lower(), *(n.lower() for n in tenant_names)}
        self.client_id = client_id
        self.app_object_id = app_object_id
        self.client_secret = secrets.token_urlsafe(30)
        self.certificate = certificate
        self.permissions = tuple(ALL_READ_PERMISSIONS if permissions is None else permissions)
        self.token_lifetime = token_lifetime
        self.device_code_polls = device_code_polls
        self.device_user = device_user  # (object id, user principal name, display name)
        self._key = secrets.token_bytes(32)
        self._flows: dict[str, DeviceFlow] = {}
        self._refresh: dict[str, str] = {}
        self._lock = threading.Lock()
        self.issued = 0
        self.requested_scopes: list[str] = []  # the `scope` of every token request, in order (tests assert on it)

    # ---- tokens -------------------------------------------------------------------------------------------------

    def _sign(self, header: dict[str, Any], payload: dict[str, Any]) -> str:
        head = b64url(json.dumps(header, separators=(",", ":")).encode())
        body = b64url(json.dumps(payload, separators=(",", ":")).encode())
        sig = hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64url(sig)}"

    def issue(self, audience: str, *, roles: Iterable[str] = (), scp: str = "", auth_method: str = "1",
              lifetime: int | None = None) -> tuple[str, int]:
        now = int(time.time())
        life = self.token_lifetime if lifetime is None else lifetime
        claims: dict[str, Any] = {
            "aud": audience, "iss": f"https://sts.windows.net/{self.tenant_id}/", "iat": now, "nbf": now,
            "exp": now + life, "appid": self.client_id, "appidacr": auth_method,
            "idp": f"https://sts.windows.net/{self.tenant_id}/", "oid": self.app_object_id,
            "sub": self.app_object_id, "tid": self.tenant_id, "uti": secrets.token_urlsafe(16), "ver": "1.0",
        }
        if scp:
            claims.update(scp=scp, idtyp="user", oid=self.device_user[0], sub=self.device_user[0],
                          upn=self.device_user[1], name=self.device_user[2])
        else:
            claims.update(roles=sorted(roles), idtyp="app")
        with self._lock:
            self.issued += 1
        return self._sign({"typ": "JWT", "alg": "HS256", "kid": "idaudit-sim"}, claims), life

    def verify(self, token: str, audience: str) -> dict[str, Any]:
        """Claims of a valid token for `audience`; TokenError with Graph's message otherwise."""
        if not token:
            raise TokenError("Access token is empty.")
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("IDX14100: JWT is not well formed, there are no dots (.).")
        try:
            expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, b64url_decode(parts[2])):
                raise TokenError("Access token validation failure. Invalid signature.")
            claims = json.loads(b64url_decode(parts[1]))
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("Access token validation failure. Invalid token.") from exc
        if claims.get("exp", 0) <= time.time():
            raise TokenError("Lifetime validation failed, the token is expired.")
        if claims.get("aud") != audience:
            raise TokenError("Access token validation failure. Invalid audience.")
        if claims.get("tid") != self.tenant_id:
            raise TokenError("Access token validation failure. Invalid tenant.")
        return dict(claims)

    # ---- endpoints ----------------------------------------------------------------------------------------------

    def _tenant_ok(self, tenant: str) -> bool:
        return tenant.lower() in self.tenant_names or tenant.lower() in ("organizations", "common")

    def _unknown_tenant(self, tenant: str) -> WireResponse:
        return aad_error(400, "invalid_request", 90002,
                         f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                         f"signing into the correct cloud. Check with your subscription administrator, this may "
                         f"happen if there are no active subscriptions for the tenant.")

    def openid_configuration(self, req: WireRequest, tenant: str) -> WireResponse:
        if not self._tenant_ok(tenant):
            return self._unknown_tenant(tenant)
        base = f"{req.base_url}/{tenant}"
        return WireResponse(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{req.base_url}/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"], "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{req.base_url}/{self.tenant_id}/v2.0", "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{req.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "tid", "oid"],
            "tenant_region_scope": "NA", "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })

    def _resource(self, scope: str) -> str | None:
        wanted = [s for s in scope.split() if s not in _OIDC_SCOPES]
        if not wanted:
            return None
        for aud in AUDIENCES:
            if all(s.startswith(aud + "/") for s in wanted):
                return aud
        return None

    def _roles_for(self, audience: str) -> list[str]:
        if audience == EXCHANGE_AUDIENCE:
            return [p for p in self.permissions if p == EXCHANGE_ROLE]
        return [p for p in self.permissions if p != EXCHANGE_ROLE]

    def _client_auth(self, form: dict[str, str], req: WireRequest, tenant: str) -> WireResponse | str:
        """Authenticate the confidential client: returns the auth method ("1" secret, "2" certificate) or an error."""
        client_id = form.get("client_id", "")
        auth = req.header("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
            client_id, form = cid, {**form, "client_secret": secret}
        if client_id != self.client_id:
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{client_id}' was not found in the directory "
                             f"'{tenant}'. This can happen if the application has not been installed by the "
                             f"administrator of the tenant or consented to by any user in the tenant.")
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            problem = self._check_assertion(form.get("client_assertion", ""), req)
            return problem if problem else "2"
        secret = form.get("client_secret", "")
        if "client_secret" not in form:
            return aad_error(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: 'client_assertion' or "
                             "'client_secret'.")
        if not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return aad_error(401, "invalid_client", 7000215,
                             "Invalid client secret provided. Ensure the secret being sent in the request is the "
                             f"client secret value, not the client secret ID, for a secret added to app "
                             f"'{self.client_id}'.")
        return "1"

    def _check_assertion(self, assertion: str, req: WireRequest) -> WireResponse | None:
        parts = assertion.split(".")
        if len(parts) != 3:
            return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        cert = self.certificate
        x5t = str(header.get("x5t") or "").rstrip("=")  # msal keeps base64 padding; the spec drops it
        x5t256 = str(header.get("x5t#S256") or "").rstrip("=")
        if x5t != cert.x5t and x5t256 != cert.x5t_s256:
            return aad_error(401, "invalid_client", 700027,
                             "The certificate with identifier used to sign the client assertion is not registered "
                             "on application.")
        public = cert.certificate.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        signed = f"{parts[0]}.{parts[1]}".encode()
        alg = header.get("alg")
        try:
            if alg == "RS256":
                public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            elif alg == "PS256":
                public.verify(signature, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                             salt_length=padding.PSS.AUTO), hashes.SHA256())
            else:
                return aad_error(401, "invalid_client", 5002738, f"Invalid JWT token. '{alg}' is not supported.")
        except InvalidSignature:
            return aad_error(401, "invalid_client", 700027, "Client assertion failed signature validation.")
        now = time.time()
        if claims.get("exp", 0) < now - 300 or claims.get("nbf", 0) > now + 300:
            return aad_error(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return aad_error(401, "invalid_client", 700021,
                             "Client assertion application identifier doesn't match 'client_id' parameter.")
        if not str(claims.get("aud", "")).endswith("/oauth2/v2.0/token"):
            return aad_error(401, "invalid_client", 700212,
                             "No matching federated identity record found for presented assertion audience.")
        return None

    def token(self, req: WireRequest, tenant: str) -> WireResponse:
        if not self._tenant_ok(tenant):
            return self._unknown_tenant(tenant)
        form = dict(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
        grant = form.get("grant_type", "")
        if "scope" in form:
            with self._lock:
                self.requested_scopes.append(form["scope"])
        if grant == "client_credentials":
            if tenant.lower() in ("organizations", "common"):
                return aad_error(400, "invalid_request", 700016, "Use a tenant-specific endpoint for client "
                                                                 "credentials.")
            auth = self._client_auth(form, req, tenant)
            if isinstance(auth, WireResponse):
                return auth
            scope = form.get("scope", "")
            audience = self._resource(scope)
            if audience is None or not scope.strip().endswith("/.default"):
                return aad_error(400, "invalid_scope", 1002012,
                                 f"The provided value for scope {scope} is not valid. Client credential flows must "
                                 f"have a scope value with /.default suffixed to the resource identifier "
                                 f"(application ID URI).")
            token, life = self.issue(audience, roles=self._roles_for(audience), auth_method=auth)
            return WireResponse(200, {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
                                      "access_token": token})
        if grant == DEVICE_GRANT:
            return self._poll_device(form, req.base_url)
        if grant == "refresh_token":
            return self._refresh_grant(form, req.base_url)
        return aad_error(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant}'.")

    # ---- device code ------------------------------------------------------------------------------------------

    def devicecode(self, req: WireRequest, tenant: str) -> WireResponse:
        if not self._tenant_ok(tenant):
            return self._unknown_tenant(tenant)
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        if form.get("client_id") != self.client_id:
            return aad_error(400, "unauthorized_client", 700016,
                             f"Application with identifier '{form.get('client_id')}' was not found in the "
                             f"directory '{tenant}'.")
        if self._resource(form.get("scope", "")) is None:
            return aad_error(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' "
                                                          "is not valid.")
        code = secrets.token_urlsafe(24)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        with self._lock:
            self._flows[code] = DeviceFlow(self.client_id, form.get("scope", ""), self.device_code_polls,
                                           time.time() + 900)
        return WireResponse(200, {
            "user_code": user_code, "device_code": code, "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900, "interval": 1,
            "message": f"To sign in, use a web browser to open the page https://microsoft.com/devicelogin and "
                       f"enter the code {user_code} to authenticate.",
        })

    def _user_tokens(self, scope: str, base_url: str) -> dict[str, Any]:
        audience = self._resource(scope) or GRAPH_AUDIENCE
        scp = " ".join(p for p in self._roles_for(audience))
        token, life = self.issue(audience, scp=scp, auth_method="0")
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = scope
        oid, upn, name = self.device_user
        now = int(time.time())
        id_token = self._sign({"typ": "JWT", "alg": "HS256"}, {
            "aud": self.client_id, "iss": f"{base_url}/{self.tenant_id}/v2.0",
            "iat": now, "nbf": now, "exp": now + life, "name": name, "oid": oid, "preferred_username": upn,
            "sub": oid, "tid": self.tenant_id, "ver": "2.0"})
        client_info = b64url(json.dumps({"uid": oid, "utid": self.tenant_id}).encode())
        return {"token_type": "Bearer", "scope": scp, "expires_in": life, "ext_expires_in": life,
                "access_token": token, "refresh_token": refresh, "id_token": id_token, "client_info": client_info}

    def _poll_device(self, form: dict[str, str], base_url: str) -> WireResponse:
        with self._lock:
            flow = self._flows.get(form.get("device_code", ""))
            if flow is None or flow.expires < time.time():
                return aad_error(400, "expired_token", 70020, "The provided value for the input parameter "
                                                              "'device_code' is not valid. This device code has "
                                                              "expired.")
            if flow.polls_left > 0:
                flow.polls_left -= 1
                return aad_error(400, "authorization_pending", 70016,
                                 "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
            del self._flows[form.get("device_code", "")]
        return WireResponse(200, self._user_tokens(flow.scope, base_url))

    def _refresh_grant(self, form: dict[str, str], base_url: str) -> WireResponse:
        with self._lock:
            scope = self._refresh.pop(form.get("refresh_token", ""), None)
        if scope is None:
            return aad_error(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        return WireResponse(200, self._user_tokens(form.get("scope") or scope, base_url))
