"""The HTTP plumbing under Graph and Exchange: msgraph-sdk's request adapter and middleware, raw bytes out.

The msgraph-sdk adapter (kiota httpx adapter + msgraph-core middleware: RetryHandler, RedirectHandler,
telemetry) carries authentication and the whole-request retries on 429/503/504 with Retry-After. We ask it for the
native httpx response (NativeResponseHandler) and parse JSON ourselves: SDK model deserialisation runs at a few
hundred users per second, json.loads at hundreds of thousands (PLATFORM-FACTS.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider
from kiota_abstractions.method import Method
from kiota_abstractions.native_response_handler import NativeResponseHandler
from kiota_abstractions.request_information import RequestInformation
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.options import ResponseHandlerOption, RetryHandlerOption
from msgraph_core import BaseGraphRequestAdapter, GraphClientFactory
from msgraph_core.middleware import GraphTelemetryHandler

from connectors.microsoft.auth import MsalAccessTokenProvider
from idaudit.core.snapshot import SectionStatus

log = logging.getLogger(__name__)

MAX_RETRIES = 5
TRANSPORT_RETRIES = 2
_TRANSIENT_SERVER_ERRORS = (500, 502)
_LICENCE_CODES = ("nonpremium", "premium", "license", "licence")


@dataclass(eq=False)  # not frozen: Python's exception machinery assigns __traceback__ (e.g. contextlib's
class ApiError(Exception):  # __aexit__, RateLimit.slot) and a frozen dataclass turned that into FrozenInstanceError
    """A request that failed after retries. `status` 0 means no HTTP answer (connection, timeout, bad JSON)."""

    status: int
    code: str
    message: str
    request: str = ""

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.code}: {self.message}" if self.status else f"{self.code}: {self.message}"

    @property
    def section_status(self) -> SectionStatus:
        """Map an API failure to the manifest vocabulary; a missing licence is told apart from a permission."""
        code = self.code.casefold()
        if any(k in code for k in _LICENCE_CODES) or "premium" in self.message.casefold():
            return SectionStatus.UNLICENSED
        if self.status in (401, 403):
            return SectionStatus.FORBIDDEN
        if self.status == 404:
            return SectionStatus.NOT_FOUND
        return SectionStatus.ERROR


def error_from_body(status: int, body: Any, request: str = "") -> ApiError:
    """Graph's `{"error": {"code", "message"}}` (and Exchange's similar shape) into an ApiError."""
    code, message = f"HTTP{status}", ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or "")
        elif isinstance(err, str):
            code = err
            message = str(body.get("error_description") or body.get("message") or "")
        elif "message" in body:
            message = str(body.get("message"))
    return ApiError(status, code, message[:500], request)


class RateLimit:
    """At most `count` requests per `period` seconds, for limits that must not be hit at all.

    Conditional Access answers 429 with no Retry-After, so the only good strategy is never to exceed 1/s. The
    window counts from when an answer *arrived*, not when a request left: network jitter can then never make two
    requests reach the server closer together than the period.
    """

    def __init__(self, count: int, period: float) -> None:
        self.count = count
        self.period = period
        self._done: deque[float] = deque()
        self._in_flight = 0
        self._cond = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._cond:
            while True:
                now = time.monotonic()
                while self._done and now - self._done[0] >= self.period:
                    self._done.popleft()
                if self._in_flight + len(self._done) < self.count:
                    self._in_flight += 1
                    break
                if self._done:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._cond.wait(), self.period - (now - self._done[0]) + 0.001)
                else:
                    await self._cond.wait()
        try:
            yield
        finally:
            async with self._cond:
                self._in_flight -= 1
                self._done.append(time.monotonic())
                self._cond.notify_all()


def pacing_limits(time_scale: float) -> dict[str, RateLimit]:
    """The documented per-tenant limits we pace ourselves to (scaled for a simulator)."""
    return {
        "conditional_access": RateLimit(1, 1.0 * time_scale),
        "reports": RateLimit(5, 10.0 * time_scale),
        "sign_in_activity": RateLimit(10, 60.0 * time_scale),
    }


class ScaledRetryHandler(RetryHandler):
    """msgraph-core's RetryHandler; a server's Retry-After is honoured as given, our own back-off is scaled."""

    def __init__(self, options: RetryHandlerOption, time_scale: float, stats: dict[str, int]) -> None:
        super().__init__(options)
        self._scale = time_scale
        self._stats = stats

    def should_retry(self, request: httpx.Request, options: RetryHandlerOption, response: httpx.Response) -> bool:
        retry = bool(super().should_retry(request, options, response))
        if retry:  # counts throttled/unavailable answers seen (the last one may exhaust the retries)
            self._stats["retryable_responses"] = self._stats.get("retryable_responses", 0) + 1
        return retry

    def _get_delay_time_exp_backoff(self, retry_count: int, delay: float) -> float:
        return float(super()._get_delay_time_exp_backoff(retry_count, delay)) * self._scale


def build_http_client(ca_bundle: Path | None, timeout: float, concurrency: int, time_scale: float,
                      stats: dict[str, int]) -> httpx.AsyncClient:
    """httpx client wrapped in msgraph-core's middleware pipeline. With a CA bundle the environment's CA/proxy
    variables are ignored (this machine and many corporate ones set REQUESTS_CA_BUNDLE / SSL_CERT_FILE)."""
    verify: ssl.SSLContext | bool = True
    if ca_bundle is not None:
        verify = ssl.create_default_context(cafile=str(ca_bundle))
    client = httpx.AsyncClient(verify=verify, trust_env=ca_bundle is None, timeout=timeout,
                               limits=httpx.Limits(max_connections=concurrency * 2 + 4))
    retry_option = RetryHandlerOption(max_retries=MAX_RETRIES)
    middleware = KiotaClientFactory.get_default_middleware({retry_option.get_key(): retry_option})
    middleware = [ScaledRetryHandler(retry_option, time_scale, stats) if isinstance(m, RetryHandler) else m
                  for m in middleware]
    middleware.append(GraphTelemetryHandler())
    return GraphClientFactory.create_with_custom_middleware(middleware, client=client)


class AdapterTransport:
    """Sends one request through the msgraph-sdk adapter and returns status, headers and parsed JSON."""

    def __init__(self, client: httpx.AsyncClient, token_provider: MsalAccessTokenProvider, base_url: str,
                 time_scale: float, stats: dict[str, int]) -> None:
        self.token_provider = token_provider
        self.adapter = BaseGraphRequestAdapter(BaseBearerTokenAuthenticationProvider(token_provider),
                                               http_client=client)
        self.adapter.base_url = base_url
        self._scale = time_scale
        self.stats = stats

    async def send(self, method: str, url: str, *, body: Any = None,
                   headers: dict[str, str] | None = None) -> tuple[int, httpx.Headers, Any]:
        """One logical request (the RetryHandler may send it several times). A lost connection, a cut-off
        body or a 500/502 answer is retried twice after a short pause; a 401 is retried once with a freshly
        acquired token (revoked or clock-skewed token)."""
        where = request_path(url)
        refreshed = False
        attempt = 0
        while True:
            info = RequestInformation(Method[method], None)
            info.url = url
            info.headers.try_add("Accept", "application/json")
            for key, value in (headers or {}).items():
                info.headers.try_add(key, value)
            if body is not None:
                info.content = json.dumps(body).encode()
                info.headers.try_add("Content-Type", "application/json")
            info.add_request_options([ResponseHandlerOption(NativeResponseHandler())])
            self.stats["requests"] = self.stats.get("requests", 0) + 1
            try:
                response: httpx.Response = await self.adapter.send_primitive_async(info, "bytes", {})
                content = response.content
            except httpx.TransportError as exc:
                if attempt < TRANSPORT_RETRIES:
                    await asyncio.sleep((1.0 + attempt * 2.0) * self._scale)
                    attempt += 1
                    continue
                raise ApiError(0, type(exc).__name__, f"no answer from the server: {exc}", where) from None
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self.token_provider.refresh_next()
                continue
            if response.status_code in _TRANSIENT_SERVER_ERRORS and attempt < TRANSPORT_RETRIES:
                # the RetryHandler retries 429/503/504 only; one 500/502 from a gateway must not cost a section
                await asyncio.sleep((1.0 + attempt * 2.0) * self._scale)
                attempt += 1
                continue
            try:
                parsed = _parse_json(content, response.status_code, where)
            except ApiError:
                if attempt < TRANSPORT_RETRIES:
                    await asyncio.sleep((1.0 + attempt * 2.0) * self._scale)
                    attempt += 1
                    continue
                raise
            return response.status_code, response.headers, parsed


def _parse_json(content: bytes, status: int, where: str) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if status >= 400:
            return {"error": {"code": f"HTTP{status}", "message": content[:200].decode("utf-8", "replace")}}
        raise ApiError(status, "MalformedResponse", f"the response is not valid JSON ({exc})", where) from None


def request_path(url: str) -> str:
    """A request for the manifest/error text: path and query, without scheme and host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
