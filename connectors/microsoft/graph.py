"""One layer for every Graph read: URLs, paging by @odata.nextLink, our own $batch, pacing, concurrency.

Collectors ask for "all pages of /users" or "this path for each of these users"; paging, batching (≤ 20 inner
requests), the inner 429s that neither Graph nor the SDKs retry, and the limits that must never be hit
(Conditional Access 1 req/s with no Retry-After, reports 5 per 10 s, signInActivity 10 per minute) are handled
here once, not in each collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from connectors.microsoft.http import (
    AdapterTransport,
    ApiError,
    RateLimit,
    error_from_body,
    pacing_limits,
    request_path,
)
from connectors.microsoft.slots import PrioritySlots

BATCH_LIMIT = 20
INNER_RETRIES = 6
MAX_PAGES = 100_000
_RETRY_STATUSES = {429, 503, 504}


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_link: str | None


def _query(params: Mapping[str, str] | None) -> str:
    if not params:
        return ""
    return "?" + urlencode(params, quote_via=quote, safe="$,='()/ ").replace(" ", "%20")


class GraphClient:
    """Reads Microsoft Graph through the msgraph-sdk adapter (see connectors.microsoft.http)."""

    def __init__(self, transport: AdapterTransport, endpoint: str, *, concurrency: int = 4,
                 time_scale: float = 1.0) -> None:
        self.transport = transport
        self.endpoint = endpoint.rstrip("/")
        self.limits: dict[str, RateLimit] = pacing_limits(time_scale)
        self._slots = PrioritySlots(concurrency)  # pages and single reads go before queued $batch posts
        self._scale = time_scale
        self.stats = transport.stats

    def url(self, path: str, version: str = "v1.0", params: Mapping[str, str] | None = None) -> str:
        return f"{self.endpoint}/{version}/{path.lstrip('/')}{_query(params)}"

    async def get(self, path_or_url: str, *, version: str = "v1.0", params: Mapping[str, str] | None = None,
                  pace: str | None = None) -> Any:
        """GET one resource and return its JSON; any non-2xx answer raises ApiError."""
        url = path_or_url if path_or_url.startswith("https://") else self.url(path_or_url, version, params)
        async with (self.limits[pace].slot() if pace else contextlib.nullcontext()), self._slots.slot(urgent=True):
            status, _headers, body = await self.transport.send("GET", url)
        if status >= 400:
            raise error_from_body(status, body, request_path(url))
        return body

    async def post(self, path: str, body: Any, *, version: str = "v1.0") -> Any:
        """POST one JSON body (the audit log query's create); any non-2xx answer raises ApiError."""
        url = self.url(path, version)
        async with self._slots.slot(urgent=True):
            status, _headers, answer = await self.transport.send("POST", url, body=body)
        if status >= 400:
            raise error_from_body(status, answer, request_path(url))
        return answer

    async def get_all(self, path: str, *, version: str = "v1.0", params: Mapping[str, str] | None = None,
                      pace: str | None = None) -> list[Any]:
        """Every page of a collection, following absolute @odata.nextLink verbatim; a loop is an error."""
        first = await self.get(path, version=version, params=params, pace=pace)
        return await self.follow(first, pace=pace, request=path)

    async def follow(self, first: Any, *, pace: str | None = None, request: str = "") -> list[Any]:
        """Continue a collection from its first page (also used for $batch inner responses)."""
        page = _page(first, request)
        items = list(page.items)
        seen: set[str] = set()
        while page.next_link:
            if page.next_link in seen or len(seen) >= MAX_PAGES:
                raise ApiError(0, "PagingLoop", "the server returned the same @odata.nextLink twice", request)
            seen.add(page.next_link)
            page = _page(await self.get(page.next_link, pace=pace), request)
            items.extend(page.items)
        return items

    async def batch(self, paths: Mapping[str, str], *, version: str = "v1.0", all_pages: bool = False,
                    on_done: Callable[[int], None] | None = None) -> dict[str, Any]:
        """GET each path (relative to the version root) through $batch; returns key -> JSON body or ApiError.

        With `all_pages`, a collection answer is followed to its last page and the value is the item list.
        Batches run concurrently up to the client's concurrency; inner 429/503/504 are retried after their own
        Retry-After (or a scaled back-off), since Graph answers the outer request 200 anyway.
        """
        keys = list(paths)
        chunks = [keys[i:i + BATCH_LIMIT] for i in range(0, len(keys), BATCH_LIMIT)]
        results: dict[str, Any] = {}

        async def run(chunk: list[str]) -> None:
            answers = await self._batch_chunk({k: paths[k] for k in chunk}, version)
            for key, answer in answers.items():
                if all_pages and not isinstance(answer, ApiError):
                    try:
                        answer = await self.follow(answer, request=paths[key])
                    except ApiError as exc:
                        answer = exc
                results[key] = answer
            if on_done:
                on_done(len(chunk))

        await asyncio.gather(*(run(c) for c in chunks))
        return results

    async def _batch_chunk(self, paths: Mapping[str, str], version: str) -> dict[str, Any]:
        ids = {str(i): key for i, key in enumerate(paths)}
        pending = dict(ids)
        results: dict[str, Any] = {}
        batch_url = f"{self.endpoint}/{version}/$batch"
        for attempt in range(INNER_RETRIES + 1):
            body = {"requests": [{"id": i, "method": "GET", "url": "/" + paths[k].lstrip("/")}
                                 for i, k in pending.items()]}
            try:
                async with self._slots.slot():
                    status, _h, answer = await self.transport.send("POST", batch_url, body=body)
                if status >= 400:
                    raise error_from_body(status, answer, f"/{version}/$batch")
                responses = answer.get("responses") if isinstance(answer, dict) else None
                if not isinstance(responses, list):
                    raise ApiError(status, "MalformedResponse", "$batch answer has no 'responses' list",
                                   f"/{version}/$batch")
            except ApiError as exc:
                for key in pending.values():
                    results[key] = exc
                return results
            self.stats["batch_inner"] = self.stats.get("batch_inner", 0) + len(pending)
            retry: dict[str, str] = {}
            wait = 0.0
            answered: set[str] = set()
            for inner in responses:
                if not isinstance(inner, dict) or str(inner.get("id")) not in pending:
                    continue
                rid = str(inner["id"])
                answered.add(rid)
                key = pending[rid]
                inner_status = int(inner.get("status", 0) or 0)
                if inner_status in _RETRY_STATUSES and attempt < INNER_RETRIES:
                    retry[rid] = key
                    wait = max(wait, self._retry_delay(inner.get("headers"), attempt))
                    continue
                if 200 <= inner_status < 300:
                    results[key] = inner.get("body")
                else:
                    results[key] = error_from_body(inner_status, inner.get("body"), paths[key])
            for rid in set(pending) - answered:
                results[pending[rid]] = ApiError(0, "MissingBatchResponse", "no answer in the $batch response",
                                                 paths[pending[rid]])
            if not retry:
                return results
            self.stats["batch_inner_retries"] = self.stats.get("batch_inner_retries", 0) + len(retry)
            await asyncio.sleep(wait)
            pending = retry
        return results

    def _retry_delay(self, headers: Any, attempt: int) -> float:
        if isinstance(headers, dict):
            for name, value in headers.items():
                if str(name).lower() == "retry-after":
                    try:
                        return max(0.0, float(value))
                    except (TypeError, ValueError):
                        break
        return (2.0 ** attempt + random.random()) * self._scale  # jitter


def _page(body: Any, request: str) -> Page:
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise ApiError(200, "MalformedResponse", "expected a collection with a 'value' list", request)
    link = body.get("@odata.nextLink")
    return Page(items=body["value"], next_link=str(link) if link else None)


def split_ok(results: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, ApiError]]:
    """Separate successful answers from failures (ApiError values) of a batch."""
    ok = {k: v for k, v in results.items() if not isinstance(v, ApiError)}
    failed = {k: v for k, v in results.items() if isinstance(v, ApiError)}
    return ok, failed

