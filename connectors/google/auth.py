"""Service-account credentials with domain-wide delegation: one token per (impersonated user, scope).

Why one scope per token: when an administrator delegated only some of the scopes, Google refuses the whole token
request (`unauthorized_client`). Asking per scope lets every other section still be collected, and the refused
one is recorded as `forbidden` with the exact scope to delegate.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from google.auth.exceptions import RefreshError, TransportError
from google.oauth2 import service_account

DWD_HELP = ("Admin console > Security > Access and data control > API controls > Manage domain-wide delegation: "
            "add the service account's client id with this scope")


class CredentialFactory:
    """Builds and caches service-account credentials per (subject, scope); thread-safe.

    google-auth credentials refresh themselves lazily (AuthorizedHttp calls before_request); the cache makes
    the admin's token shared by all threads so it is fetched once, not once per request.
    """

    def __init__(self, info: Mapping[str, Any], token_uri: str) -> None:
        key = dict(info)
        key["token_uri"] = token_uri
        self._base = service_account.Credentials.from_service_account_info(key)
        self._client_id = str(info.get("client_id") or "")
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], service_account.Credentials] = {}
        self._scoped: dict[str, service_account.Credentials] = {}

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def client_email(self) -> str:
        return str(self._base.service_account_email)

    def for_subject(self, subject: str, scope: str, *, cached: bool = True) -> service_account.Credentials:
        """Credentials impersonating `subject` with one scope.

        Per-user Gmail credentials are not cached (`cached=False`): each user is impersonated once per run, so a
        cache would only hold 20,000 tokens in memory. They share one scoped copy of the key (the signer is parsed
        once), so making one is cheap.
        """
        with self._lock:
            scoped = self._scoped.get(scope)
            if scoped is None:
                scoped = self._scoped[scope] = self._base.with_scopes([scope])
            if not cached:
                return scoped.with_subject(subject)
            creds = self._cache.get((subject, scope))
            if creds is None:
                creds = self._cache[(subject, scope)] = scoped.with_subject(subject)
            return creds


def refresh_error_kind(exc: RefreshError | TransportError) -> str:
    """'not_delegated' (scope or client not authorised), 'bad_subject' (user cannot be impersonated), 'other'."""
    text = str(exc.args[0]) if exc.args else str(exc)
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
    error = str(data.get("error", "")) or text.split(":", 1)[0]
    if error in ("unauthorized_client", "access_denied") or "unauthorized_client" in text:
        return "not_delegated"
    if error == "invalid_grant" and ("user" in text.lower() or "subject" in text.lower()):
        return "bad_subject"
    return "other"


def describe_refresh_error(exc: RefreshError | TransportError, scope: str, client_id: str) -> str:
    """One sentence an administrator can act on; never contains the key or a token."""
    text = str(exc.args[0]) if exc.args else str(exc)
    if refresh_error_kind(exc) == "not_delegated":
        return (f"token refused ({text}): scope {scope} is not delegated to service account client id "
                f"{client_id or '?'} — {DWD_HELP}")
    return f"token request failed for scope {scope}: {text}"
