"""The one HTTP layer for every Google section: discovery services, paging, batches, quota retries, threads.

- Services are built from the discovery documents bundled with google-api-python-client (static_discovery=True:
  no network fetch of the document) with `client_options={"api_endpoint": ...}` when an endpoint is overridden.
- Batches go to `BatchHttpRequest(batch_uri=<endpoint>/batch)`: the client's own `new_batch_http_request()`
  ignores the endpoint override (PLATFORM-FACTS.md).
- httplib2 is not thread-safe: every worker thread gets its own `httplib2.Http` (and its own built services);
  all of them share `workers` connection slots, so sections running at the same time never exceed it.
- Directory calls (pages, single reads, every part of a batch, every re-send) are paced to the documented quota
  (`directory_quota` per `quota_window`, pacing.py) before they are sent, so a large tenant waits for quota
  instead of collecting 429s until the retries run out.
- Quota errors (429, 403 rateLimitExceeded / userRateLimitExceeded) are retried with exponential backoff and
  jitter, honouring Retry-After; inside a batch only the throttled parts are sent again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.feedparser import FeedParser
from http.client import HTTPException
from typing import Any, cast
from urllib.parse import urlparse, urlsplit, urlunparse

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient import _auth as api_auth
from googleapiclient.discovery import build
from googleapiclient.errors import BatchError, HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from connectors.google.auth import CredentialFactory, describe_refresh_error, refresh_error_kind
from connectors.google.options import GoogleOptions
from connectors.google.pacing import ConnectionSlots, QuotaWindow
from idaudit.core.snapshot import SectionStatus

log = logging.getLogger(__name__)

API_DISABLED_REASONS = frozenset({"accessNotConfigured", "SERVICE_DISABLED"})
QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"})


@dataclass(frozen=True)
class ApiFailure(Exception):
    """A call that failed for good: the status it means for its section and a detail an admin can act on."""

    status: SectionStatus
    detail: str
    http_status: int = 0
    reason: str = ""

    def __str__(self) -> str:
        return self.detail


def error_reason(exc: HttpError) -> tuple[str, str]:
    """(first `errors[].reason` or `error.status`, message) from a Google JSON error body."""
    try:
        body = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
        err = body.get("error", {}) if isinstance(body, dict) else {}
    except (ValueError, AttributeError):
        return "", str(exc.reason or "")
    if not isinstance(err, dict):
        return str(err), str(body.get("error_description", ""))
    reasons = [e.get("reason", "") for e in err.get("errors", []) if isinstance(e, dict)]
    reason = next((r for r in reasons if r), "") or str(err.get("status", ""))
    return reason, str(err.get("message", ""))


def is_quota_error(exc: HttpError) -> bool:
    status = exc.resp.status
    if status == 429:
        return True
    return status == 403 and error_reason(exc)[0] in QUOTA_REASONS


def is_transient(exc: HttpError) -> bool:
    """Worth retrying: a quota answer (429, 403 rateLimitExceeded) or a server error."""
    return is_quota_error(exc) or exc.resp.status >= 500


class BadAnswer(Exception):
    """A 2xx answer whose body is not JSON (cut or garbled on the way). googleapiclient's JsonModel hands such a
    body back as the raw text instead of raising, which the callers would take for data: retried like a cut
    connection, then the section's (or the user's) error. Not a frozen dataclass: contextlib sets __traceback__."""


def not_json(response: Any) -> bool:
    return isinstance(response, str | bytes)


def retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after") if exc.resp is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: BaseException, what: str, scope: str = "", client_id: str = "") -> ApiFailure:
    """Turn an exception into the section status it means (forbidden, not_found, error) with the reason."""
    if isinstance(exc, ApiFailure):
        return exc
    if isinstance(exc, RefreshError | TransportError):
        kind = refresh_error_kind(exc)
        status = SectionStatus.FORBIDDEN if kind == "not_delegated" else SectionStatus.ERROR
        return ApiFailure(status, f"{what}: {describe_refresh_error(exc, scope, client_id)}")
    if isinstance(exc, HttpError):
        code = exc.resp.status
        reason, message = error_reason(exc)
        detail = f"{what}: HTTP {code} {reason} {message}".strip()
        if code in (401, 403) and not is_quota_error(exc):
            hint = f" (grant scope {scope} and use a super admin as admin_subject)" if scope else ""
            if reason in API_DISABLED_REASONS:  # the scope is fine: the API is off in the key's Cloud project
                hint = " (enable this API in the service account's Google Cloud project: APIs & Services > Library)"
            return ApiFailure(SectionStatus.FORBIDDEN, detail + hint, code, reason)
        if code == 404:
            return ApiFailure(SectionStatus.NOT_FOUND, detail, code, reason)
        return ApiFailure(SectionStatus.ERROR, detail, code, reason)
    return ApiFailure(SectionStatus.ERROR, f"{what}: {type(exc).__name__}: {exc}")


class PartBatch(BatchHttpRequest):
    """BatchHttpRequest that writes a batch of body-less parts (every read we batch) as plain text.

    The library builds the multipart body through `email.generator`, folding every header of every part twice
    (the part's own application/http text, then the MIME part around it): for the Gmail batches that was the
    largest single CPU cost of the collection, paid under the GIL for each of ~76,000 parts. For parts without
    a body the text is fixed (request line, Content-Type, MIME-Version, the request's headers with the
    credentials applied, Host; then the MIME part headers), so it is written directly. A part with a body, or
    a header the email package would have to encode, goes through the library's own code. Sending, the answer's
    parsing, the 401 re-send and the callbacks stay the library's. tests/test_google_pacing.py checks that both
    bodies parse to the same parts.
    """

    def _execute(self, http: Any, order: list[str], requests: dict[str, HttpRequest]) -> None:
        texts = [self._serialize_request(requests[rid]) if requests[rid].body is None else None for rid in order]
        if any(t is None or not t.endswith("\n\n") for t in texts):
            super()._execute(http, order, requests)
            return
        boundary = "===============" + uuid.uuid4().hex + "=="
        body = "".join(f"--{boundary}\nContent-Type: application/http\nMIME-Version: 1.0\n"
                       f"Content-Transfer-Encoding: binary\nContent-ID: {self._id_to_header(rid)}\n\n{text}\n"
                       for rid, text in zip(order, texts, strict=True)) + f"--{boundary}--\n"
        resp, content = http.request(self._batch_uri, method="POST", body=body,
                                     headers={"content-type": f'multipart/mixed; boundary="{boundary}"'})
        if resp.status >= 300:
            raise HttpError(resp, content, uri=self._batch_uri)
        self._read_answer(resp, content)

    def _read_answer(self, resp: Any, content: bytes) -> None:
        """The library's own parsing of a multipart answer (googleapiclient.http.BatchHttpRequest._execute)."""
        parser = FeedParser()
        parser.feed(f"content-type: {resp['content-type']}\r\n\r\n" + content.decode("utf-8"))
        answer = parser.close()
        if not answer.is_multipart():
            raise BatchError("Response not in multipart/mixed format.", resp=resp, content=content)
        parts = cast(list[Any], answer.get_payload())  # a multipart message's payload: its list of parts
        for part in parts:
            request_id = self._header_to_id(part["Content-ID"])
            response, text = self._deserialize_response(part.get_payload())
            self._responses[request_id] = (response, text.encode("utf-8") if isinstance(text, str) else text)

    def _serialize_request(self, request: HttpRequest) -> str:
        if request.body is not None:
            return str(super()._serialize_request(request))
        parsed = urlparse(request.uri)
        headers = dict(request.headers)
        if request.http is not None:
            credentials = api_auth.get_credentials_from_http(request.http)
            if credentials is not None:
                api_auth.apply_credentials(credentials, headers)
        content_type = headers.pop("content-type", "application/json")
        lines = [f"{request.method} {urlunparse(('', '', parsed.path, parsed.params, parsed.query, ''))} HTTP/1.1",
                 f"Content-Type: {content_type}", "MIME-Version: 1.0",
                 *(f"{k}: {v}" for k, v in headers.items()), f"Host: {parsed.netloc}"]
        text = "\n".join(lines)
        if not text.isascii() or "\r" in text or any("\n" in f"{k}{v}" for k, v in headers.items()):
            return str(super()._serialize_request(request))
        return text + "\n\n"


@dataclass(frozen=True)
class GmailSettings:
    """The discovery resources of gmail.users.settings one thread needs (built once per thread)."""

    settings: Any
    forwarding_addresses: Any
    filters: Any
    delegates: Any


class GoogleClient:
    """Services, credentials and retries for one collection run; safe to share between worker threads."""

    def __init__(self, options: GoogleOptions, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = options
        self.creds = CredentialFactory(options.service_account_info, options.effective_token_uri)
        self._local = threading.local()
        self._sleep = sleep
        self._rng = random.Random()
        host = urlsplit(options.api_endpoint).hostname if options.api_endpoint else None
        self._loopback = host in ("127.0.0.1", "localhost", "::1")
        self.retries = 0  # quota retries performed (for tests and the benchmark)
        self._count_lock = threading.Lock()
        self.slots = ConnectionSlots(options.workers)
        self.directory_quota = QuotaWindow(options.directory_quota, options.quota_window)

    # ---- per-thread transport -------------------------------------------------------------------------
    def http(self) -> httplib2.Http:
        """This thread's own httplib2.Http (httplib2 is not thread-safe)."""
        h = getattr(self._local, "http", None)
        if h is None:
            kwargs: dict[str, Any] = {"timeout": self.options.timeout}
            if self.options.ca_bundle:
                kwargs["ca_certs"] = self.options.ca_bundle
            if self._loopback:
                kwargs["proxy_info"] = None
            h = self.slots.http(**kwargs)
            self._local.http = h
        return h

    def authorized(self, creds: Any) -> google_auth_httplib2.AuthorizedHttp:
        return google_auth_httplib2.AuthorizedHttp(creds, http=self.http())

    def service(self, name: str, version: str) -> Any:
        """A discovery Resource built once per thread from the bundled document."""
        cache: dict[tuple[str, str], Any] = getattr(self._local, "services", None) or {}
        self._local.services = cache
        if (name, version) not in cache:
            client_options = {"api_endpoint": self.options.api_endpoint} if self.options.api_endpoint else None
            cache[(name, version)] = build(name, version, http=self.http(), static_discovery=True,
                                           cache_discovery=False, client_options=client_options)
        return cache[(name, version)]

    def gmail_settings(self) -> GmailSettings:
        """This thread's Gmail settings resources. googleapiclient builds a nested discovery `Resource` anew on
        every walk (`users().settings().filters()` ...), which cost about a fifth of the Gmail phase's CPU when
        done per user; built once per thread they are reused for every user."""
        found: GmailSettings | None = getattr(self._local, "gmail_settings", None)
        if found is None:
            settings = self.service("gmail", "v1").users().settings()
            found = GmailSettings(settings, settings.forwardingAddresses(), settings.filters(), settings.delegates())
            self._local.gmail_settings = found
        return found

    def quota_for(self, uri: str) -> QuotaWindow | None:
        """The client-side quota a request to `uri` counts against (only the Directory API binds)."""
        return self.directory_quota if "/admin/directory/" in urlsplit(uri).path else None

    def batch_uri(self, service: Any) -> str:
        """<endpoint>/batch for an overridden endpoint; the API's own batch path otherwise."""
        if self.options.api_endpoint:
            return self.options.api_endpoint + "/batch"
        root = str(getattr(service, "_rootDesc", {}).get("rootUrl", "https://www.googleapis.com/"))
        return root.rstrip("/") + "/batch"

    def refresh(self, creds: Any) -> None:
        """Fetch a token now (so a refused scope or user surfaces here, once); a cut connection is retried."""
        self._with_retries(lambda: creds.refresh(google_auth_httplib2.Request(self.http())), "token request")

    # ---- retries ----------------------------------------------------------------------------------------
    def backoff(self, attempt: int, hint: float | None = None) -> None:
        delay = min(self.options.backoff_cap, self.options.backoff_base * (2 ** attempt))
        delay = delay * (0.5 + self._rng.random() / 2)
        if hint is not None:
            delay = max(delay, min(hint, self.options.backoff_cap))
        with self._count_lock:
            self.retries += 1
        self._sleep(delay)

    def execute(self, request: HttpRequest, creds: Any) -> Any:
        """Run one request with `creds`, retrying quota errors, 5xx and transport errors with backoff."""
        http = self.authorized(creds)

        quota = self.quota_for(request.uri)

        def send() -> Any:
            if quota is None:
                answer = request.execute(http=http)
            else:
                with quota.spend(1):  # every attempt spends quota
                    answer = request.execute(http=http)
            if not_json(answer):
                raise BadAnswer(f"the answer to {urlsplit(request.uri).path} is not valid JSON")
            return answer

        return self._with_retries(send, "transport error")

    def _with_retries(self, call: Callable[[], Any], what: str) -> Any:
        """The one retry policy for whole requests and whole batches: quota errors and 5xx honour Retry-After,
        transport failures back off; after max_retries the error becomes the section's status."""
        attempt = 0
        while True:
            try:
                return call()
            except HttpError as exc:
                if not is_transient(exc) or attempt >= self.options.max_retries:
                    raise
                self.backoff(attempt, retry_after(exc))
            except TransportError:  # the token endpoint could not be reached (google-auth retries only 5xx)
                if attempt >= self.options.max_retries:
                    raise  # still a TransportError: the callers' sign-in handling applies
                self.backoff(attempt)
            except (httplib2.HttpLib2Error, HTTPException, OSError, BadAnswer) as exc:
                if attempt >= self.options.max_retries:
                    raise ApiFailure(SectionStatus.ERROR, f"{what} after {attempt} retries: {exc}") from exc
                self.backoff(attempt)
            attempt += 1

    def pages(self, make_request: Callable[[str | None], HttpRequest], creds: Any, items_key: str) -> Iterator[Any]:
        """Every item of every page; `make_request(page_token)` builds the request for one page."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = self.execute(make_request(token), creds) or {}
            yield from page.get(items_key) or []
            token = page.get("nextPageToken")
            if not token:
                return
            if token in seen:
                raise ApiFailure(SectionStatus.ERROR, f"paging loop: nextPageToken {token!r} returned twice")
            seen.add(token)

    def batch(self, service: Any, calls: Sequence[tuple[str, HttpRequest, Any]], size: int
              ) -> dict[str, tuple[Any, BaseException | None]]:
        """Run (id, request, creds) calls in multipart batches of `size`; per-call (response, error).

        Each call carries its own credentials (Gmail impersonates a different user per call). Parts that come
        back throttled are re-sent in a later batch after a backoff; other part errors are returned as values.
        """
        results: dict[str, tuple[Any, BaseException | None]] = {}
        pending = list(calls)
        quota = self.quota_for(calls[0][1].uri) if calls else None
        if quota is not None:
            size = min(size, quota.limit)  # a batch's parts all count against the quota at once
        attempt = 0
        while pending:
            throttled: list[tuple[str, HttpRequest, Any]] = []
            hint: float | None = None
            for start in range(0, len(pending), size):
                chunk = pending[start:start + size]
                by_id = {cid: (req, creds) for cid, req, creds in chunk}
                outcome: dict[str, tuple[Any, BaseException | None]] = {}

                def collect(request_id: str, response: Any, exception: BaseException | None,
                            _out: dict[str, tuple[Any, BaseException | None]] = outcome) -> None:
                    _out[request_id] = (response, exception)

                batch = PartBatch(callback=collect, batch_uri=self.batch_uri(service))
                authorized: dict[int, google_auth_httplib2.AuthorizedHttp] = {}
                for cid, req, creds in chunk:
                    # per-part credentials (serialised into the part); one wrapper per user, not per call
                    req.http = authorized.get(id(creds)) or authorized.setdefault(id(creds), self.authorized(creds))
                    batch.add(req, request_id=cid)
                outer = self.authorized(chunk[0][2])
                self._execute_batch(batch, outer, parts=len(chunk), quota=quota)
                for cid, (response, exc) in outcome.items():
                    if exc is None and not_json(response):  # a garbled part: re-sent, then that call's error
                        response, exc = None, ApiFailure(SectionStatus.ERROR, "the answer is not valid JSON")
                    if ((isinstance(exc, HttpError) and is_transient(exc)) or isinstance(exc, ApiFailure)) \
                            and attempt < self.options.max_retries:
                        req, creds = by_id[cid]
                        throttled.append((cid, req, creds))
                        ra = retry_after(exc) if isinstance(exc, HttpError) else None
                        hint = ra if ra is not None and (hint is None or ra > hint) else hint
                    else:
                        results[cid] = (response, exc)
            pending = throttled
            if pending:
                self.backoff(attempt, hint)
                attempt += 1
        return results

    def _execute_batch(self, batch: BatchHttpRequest, http: Any, *, parts: int, quota: QuotaWindow | None) -> None:
        """Send one batch; the whole batch is retried on an outer quota error or transport failure."""

        def send() -> None:
            try:
                if quota is None:
                    batch.execute(http=http)
                    return
                with quota.spend(parts):  # every part of every attempt spends quota
                    batch.execute(http=http)
            except BatchError as exc:  # a 2xx answer that is not multipart (cut or garbled): send it again
                raise BadAnswer(f"the batch answer is not multipart/mixed: {exc.reason}") from exc

        self._with_retries(send, "batch transport error")


def token_failure(exc: RefreshError | TransportError, scope: str, client_id: str) -> ApiFailure:
    kind = refresh_error_kind(exc)
    status = SectionStatus.FORBIDDEN if kind == "not_delegated" else SectionStatus.ERROR
    return ApiFailure(status, describe_refresh_error(exc, scope, client_id))
