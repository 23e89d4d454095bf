"""Sign-in with msal (client secret, certificate, or device code for Jupyter) and the bridge to kiota.

The token cache is persisted owner-only (0600) so a scheduled run reuses a valid token and a notebook user is
not asked for a device code every time. Tokens and secrets are never logged or put into an error message: a
failed sign-in raises CollectionError with msal's error code and description (AADSTS...), which name the
problem without echoing the credential.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator

from connectors.microsoft.options import MicrosoftOptions, load_certificate
from idaudit.core.atomic import write_text_atomic
from idaudit.core.errors import CollectionError

log = logging.getLogger(__name__)

_KNOWN_AUTHORITY_HOSTS = {"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
                          "login.partner.microsoftonline.cn"}


def _print_device_message(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def requests_session(ca_bundle: Path | None) -> Any:
    """A requests.Session for msal. With a CA bundle, proxy/CA variables from the environment are ignored:
    REQUESTS_CA_BUNDLE would otherwise silently override `verify`."""
    import requests

    session = requests.Session()
    if ca_bundle is not None:
        session.trust_env = False
        session.verify = str(ca_bundle)
    return session


class MsalSignIn:
    """One msal application per collection; hands out access tokens per resource scope (Graph, Exchange)."""

    def __init__(self, options: MicrosoftOptions) -> None:
        import msal
        import requests

        self.options = options
        self._lock = threading.Lock()
        self._cache = msal.SerializableTokenCache()
        self._secret = options.client_secret or ""
        cache_path = options.token_cache_path
        if cache_path is not None and Path(cache_path).is_file():
            try:
                self._cache.deserialize(Path(cache_path).read_text(encoding="utf-8"))
            except ValueError:
                log.warning("token cache %s is unreadable; starting with an empty cache", cache_path)
        host = urlsplit(options.authority_host).hostname or ""
        common: dict[str, Any] = {
            "authority": options.authority,
            "token_cache": self._cache,
            "http_client": requests_session(options.ca_bundle),
            "timeout": options.timeout,
        }
        if host not in _KNOWN_AUTHORITY_HOSTS:
            common["instance_discovery"] = False
        try:
            if options.device_code:
                self._app: Any = msal.PublicClientApplication(options.client_id, **common)
            else:
                credential: Any
                if options.client_secret:
                    credential = options.client_secret
                else:
                    assert options.certificate_path is not None
                    cert = load_certificate(Path(options.certificate_path), options.certificate_password)
                    credential = {"private_key": cert.private_key_pem, "thumbprint": cert.thumbprint}
                self._app = msal.ConfidentialClientApplication(options.client_id, client_credential=credential,
                                                               **common)
        except (requests.RequestException, ValueError) as exc:
            raise CollectionError(self._clean(
                f"cannot reach the sign-in authority {options.authority}: {type(exc).__name__}: {exc}")) from None

    def _clean(self, text: str) -> str:
        """Never let a credential through, whatever an error message chose to quote."""
        if self._secret:
            text = text.replace(self._secret, "[secret]")
        return text

    def token(self, scope: str, *, refresh: bool = False) -> str:
        """An access token for `scope` (e.g. https://graph.microsoft.com/.default), from cache when valid;
        `refresh` bypasses the cache (the API rejected a token msal still thought valid)."""
        import requests

        with self._lock:
            try:
                result = self._acquire(scope, refresh)
            except (requests.RequestException, ValueError) as exc:
                raise CollectionError(self._clean(
                    f"sign-in to tenant {self.options.tenant_id} failed: cannot reach "
                    f"{self.options.authority}: {type(exc).__name__}: {exc}")) from None
            self._save_cache()
        if not result or "access_token" not in result:
            result = result or {}
            desc = str(result.get("error_description", "no token returned")).strip().splitlines()
            raise CollectionError(self._clean(
                f"sign-in to tenant {self.options.tenant_id} as app {self.options.client_id} "
                f"({self.options.credential_kind}) failed for {scope}: {result.get('error', 'error')}: "
                f"{desc[0] if desc else ''}"))
        return str(result["access_token"])

    def _acquire(self, scope: str, refresh: bool = False) -> dict[str, Any] | None:
        if not self.options.device_code:
            # msal bypasses its cache when given a claims challenge; an empty one asks for nothing extra.
            result: dict[str, Any] | None = self._app.acquire_token_for_client(
                scopes=[scope], claims_challenge='{"access_token":{}}' if refresh else None)
            return result
        accounts = self._app.get_accounts()
        if accounts:
            result = self._app.acquire_token_silent([scope], account=accounts[0], force_refresh=refresh)
            if result and "access_token" in result:
                return result
        flow = self._app.initiate_device_flow(scopes=[scope])
        if "user_code" not in flow:
            return flow  # carries error / error_description
        callback = self.options.device_code_callback or _print_device_message
        callback(str(flow.get("message", f"enter code {flow['user_code']}")))
        result = self._app.acquire_token_by_device_flow(flow)
        return result

    def _save_cache(self) -> None:
        path = self.options.token_cache_path
        if path is not None and self._cache.has_state_changed:
            write_text_atomic(Path(path), self._cache.serialize(), mode=0o600)
            self._cache.has_state_changed = False


class MsalAccessTokenProvider(AccessTokenProvider):
    """kiota's token hook: a token only for the allowed host (a nextLink to another host gets no token)."""

    def __init__(self, sign_in: MsalSignIn, scope: str, endpoint: str) -> None:
        self._sign_in = sign_in
        self._scope = scope
        origin = urlsplit(endpoint)
        self._netloc = origin.netloc.lower()
        self._validator = AllowedHostsValidator([origin.hostname or ""])
        self._refresh = False

    def refresh_next(self) -> None:
        """The API answered 401 to our token: fetch a fresh one for the next request (once)."""
        self._refresh = True

    async def get_authorization_token(self, uri: str,
                                      additional_authentication_context: dict[str, Any] | None = None) -> str:
        if not self._validator.is_url_host_valid(uri):
            log.warning("refusing to send a token to %s (not an allowed host)", urlsplit(uri).hostname)
            return ""
        parts = urlsplit(uri)
        if parts.scheme != "https" or parts.netloc.lower() != self._netloc:
            log.warning("refusing to send a token to %s (not the configured endpoint)", parts.hostname)
            return ""
        refresh, self._refresh = self._refresh, False
        return self._sign_in.token(self._scope, refresh=refresh)

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._validator
