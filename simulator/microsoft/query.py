"""OData query options as the simulator supports them: $select, $top (with caps), $skiptoken paging with absolute
@odata.nextLink, $expand (principal only) and a documented $filter subset.

$filter subset (anything else answers 400 Request_UnsupportedQuery):
    <property> eq '<text>' | true | false | null | <integer>
    <property> ge | le | gt | lt <ISO 8601 time>   (the audit and sign-in logs' time ranges)
    startswith(<property>, '<text>')
    clauses joined with `and`; a property may be a path into a complex value (`status/errorCode`,
    `location/countryOrRegion`); text compares case-insensitively as Graph does for directory strings.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from simulator.server import WireRequest


class QueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_PROP = r"[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*"
_CLAUSE = re.compile(
    rf"\s*(?:(?P<prop>{_PROP})\s+eq\s+(?P<value>'(?:[^']|'')*'|true|false|null|-?\d+)"
    rf"|(?P<tprop>{_PROP})\s+(?P<op>ge|le|gt|lt)\s+(?P<time>\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"
    rf"|startswith\(\s*(?P<sprop>{_PROP})\s*,\s*'(?P<prefix>(?:[^']|'')*)'\s*\))\s*",
    re.IGNORECASE)
_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "lt": lambda a, b: a < b}


def _get(obj: Mapping[str, Any], path: str) -> Any:
    """A property or a path into complex values ('status/errorCode'); None when any step is missing."""
    value: Any = obj
    for part in path.split("/"):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
_AND = re.compile(r"and\b", re.IGNORECASE)


def _literal(text: str) -> Any:
    low = text.lower()
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if low in ("true", "false"):
        return low == "true"
    if low == "null":
        return None
    return int(text)


def parse_filter(expr: str) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a $filter of the supported subset into a predicate over an object."""
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    pos = 0
    while True:
        m = _CLAUSE.match(expr, pos)
        if not m:
            raise QueryError("Request_UnsupportedQuery", f"Unsupported or invalid query filter clause specified "
                                                         f"for property: '{expr[pos:pos + 40]}'.")
        if m["tprop"]:
            bound = _time(m["time"])
            if bound is None:
                raise QueryError("BadRequest", f"Invalid filter clause: '{m['time']}' is not a valid time.")
            compare = _COMPARE[m["op"].lower()]

            def when(obj: Mapping[str, Any], prop: str = m["tprop"], bound: datetime = bound,
                     compare: Callable[[datetime, datetime], bool] = compare) -> bool:
                have = _get(obj, prop)
                t = _time(have) if isinstance(have, str) else None
                return t is not None and compare(t, bound)

            tests.append(when)
        elif m["prop"]:
            prop, want = m["prop"], _literal(m["value"])

            def eq(obj: Mapping[str, Any], prop: str = prop, want: Any = want) -> bool:
                have = _get(obj, prop)
                if isinstance(have, str) and isinstance(want, str):
                    return have.casefold() == want.casefold()
                return bool(have == want)

            tests.append(eq)
        else:
            sprop, prefix = m["sprop"], m["prefix"].replace("''", "'").casefold()

            def starts(obj: Mapping[str, Any], prop: str = sprop, prefix: str = prefix) -> bool:
                have = _get(obj, prop)
                return isinstance(have, str) and have.casefold().startswith(prefix)

            tests.append(starts)
        pos = m.end()
        if pos >= len(expr):
            break
        a = _AND.match(expr, pos)
        if not a:
            raise QueryError("Request_UnsupportedQuery", "Unsupported Query.")
        pos = a.end()
    return lambda obj: all(t(obj) for t in tests)


def selected(req: WireRequest) -> tuple[str, ...] | None:
    raw = req.query.get("$select")
    if raw is None or not raw.strip():
        return None
    return tuple(f.strip() for f in raw.split(",") if f.strip())


def top(req: WireRequest, default: int, cap: int) -> int:
    raw = req.query.get("$top")
    if raw is None:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise QueryError("BadRequest", f"Invalid page size specified: '{raw}'.") from None
    if not 1 <= n <= cap:
        raise QueryError("Request_BadRequest", f"Invalid page size specified: '{n}'. Must be between 1 and {cap} "
                                               f"inclusive.")
    return n


def encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def decode_skiptoken(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "offset":
            raise ValueError(text)
        return int(value)
    except ValueError:
        raise QueryError("Directory_ExpiredPageToken", "The specified page token value has expired and can no "
                                                       "longer be included in your request.") from None


def page(req: WireRequest, items: Sequence[Any], *, default: int = 100, cap: int = 999,
         link_base: str | None = None, context: str = "") -> dict[str, Any]:
    """One page of `items` with an absolute @odata.nextLink that keeps every other query option."""
    size = top(req, default, cap)
    token = req.query.get("$skiptoken")
    offset = decode_skiptoken(token) if token else 0
    chunk = list(items[offset:offset + size])
    body: dict[str, Any] = {}
    if context:
        body["@odata.context"] = context
    if offset + size < len(items):
        params = {k: v for k, v in req.query.items() if k != "$skiptoken"}
        params["$skiptoken"] = encode_skiptoken(offset + size)
        base = link_base or (req.base_url + req.path)
        body["@odata.nextLink"] = f"{base}?{urlencode(params, safe='$,()')}"
    body["value"] = chunk
    return body
