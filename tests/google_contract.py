"""Google's published request and response schemas — the discovery documents bundled in google-api-python-client
(admin directory_v1, admin reports_v1, gmail v1, cloudidentity v1) — and a validator that holds a served request
and answer to them: unknown query parameters, parameter values outside their enums or ranges, unknown response
fields, wrong JSON types (int64 travels as a decimal string), and enum values outside the published sets.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
FILES = ("admin.directory_v1.json", "admin.reports_v1.json", "gmail.v1.json", "cloudidentity.v1.json")
_INTEGER = re.compile(r"-?\d+")


@dataclass(frozen=True)
class Method:
    """One discovery method: its HTTP verb, path pattern, parameters and response schema name."""

    name: str
    http: str
    pattern: re.Pattern[str]
    parameters: dict[str, Any]
    response: str | None
    doc: dict[str, Any]


@dataclass
class Findings:
    objects: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    enums: dict[str, set[str]] = field(default_factory=dict)


def _walk(resource: dict[str, Any], prefix: str = "") -> Any:
    for name, method in resource.get("methods", {}).items():
        yield prefix + name, method
    for name, sub in resource.get("resources", {}).items():
        yield from _walk(sub, prefix + name + ".")


@functools.cache
def methods() -> tuple[Method, ...]:
    out = []
    for file in FILES:
        doc = json.loads((DOCUMENTS / file).read_text(encoding="utf-8"))
        api = f"{doc['name']}.{doc['version']}"
        for name, m in _walk(doc):
            path = doc["servicePath"] + (m.get("flatPath") or m["path"])
            pattern = re.compile("^/" + re.sub(r"\{\+?[^}]+\}", "[^/]+", path) + "$")
            params = {**doc.get("parameters", {}), **m.get("parameters", {})}
            out.append(Method(f"{api} {name}", m["httpMethod"], pattern, params,
                              (m.get("response") or {}).get("$ref"), doc))
    # literal segments first: users/{userKey}/tokens before users/{userKey}
    return tuple(sorted(out, key=lambda m: -len(m.pattern.pattern.replace("[^/]+", ""))))


def method_for(http: str, path: str) -> Method | None:
    return next((m for m in methods() if m.http == http and m.pattern.match(path)), None)


def check_request(method: Method, query: dict[str, str], found: Findings, where: str) -> None:
    """Every query parameter must be one the method (or the API's standard parameters) declares, with a valid value."""
    found.requests += 1
    for key, value in query.items():
        spec = method.parameters.get(key)
        if spec is None:
            found.problems.append(f"{where}: unknown request parameter {key}={value!r}")
            continue
        found.paths.add(f"{method.name}?{key}")
        _value(spec, value, found, f"{where}?{key}", f"{method.name}?{key}", method.doc, in_query=True)


def check_response(method: Method, body: Any, found: Findings, where: str) -> None:
    if method.response is None:
        found.problems.append(f"{where}: {method.name} declares no response body")
        return
    validate(body, method.doc["schemas"][method.response], method.response, method.doc, found, where)


def validate(obj: Any, schema: dict[str, Any], name: str, doc: dict[str, Any], found: Findings, where: str) -> None:
    if not isinstance(obj, dict):
        found.problems.append(f"{where}: {name} is not an object")
        return
    found.objects += 1
    props = schema.get("properties", {})
    for key, value in obj.items():
        spec = props.get(key)
        if spec is None:
            extra = schema.get("additionalProperties")
            if extra is None:
                found.problems.append(f"{where}: unknown field {name}.{key}")
            else:
                _value(extra, value, found, f"{where}.{key}", f"{name}.*", doc)
            continue
        found.paths.add(f"{name}.{key}")
        if value is not None:
            _value(spec, value, found, f"{where}.{key}", f"{name}.{key}", doc)


def _value(spec: dict[str, Any], v: Any, found: Findings, where: str, path: str, doc: dict[str, Any], *,
           in_query: bool = False) -> None:
    if "$ref" in spec:
        validate(v, doc["schemas"][spec["$ref"]], spec["$ref"], doc, found, where)
        return
    kind = spec.get("type")
    if "enum" in spec:
        seen = found.enums.setdefault(path, set())
        if v in spec["enum"]:
            seen.add(v)
        else:
            found.problems.append(f"{where}: {path} = {v!r} is not one of {spec['enum']}")
        return
    if kind == "string":
        if not isinstance(v, str):
            found.problems.append(f"{where}: {path} = {v!r:.40} is not a string")
        elif spec.get("format") in ("int64", "uint64") and not _INTEGER.fullmatch(v):
            found.problems.append(f"{where}: {path} = {v!r} is not an {spec['format']} string")
        elif spec.get("format") == "date-time":
            try:
                dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                found.problems.append(f"{where}: {path} = {v!r} is not an RFC 3339 date-time")
    elif kind == "integer":
        number = (int(v) if _INTEGER.fullmatch(v) else None) if in_query and isinstance(v, str) else v
        if not isinstance(number, int) or isinstance(number, bool):
            found.problems.append(f"{where}: {path} = {v!r} is not an integer")
            return
        if "minimum" in spec and number < int(spec["minimum"]):
            found.problems.append(f"{where}: {path} = {number} is below the minimum {spec['minimum']}")
        if "maximum" in spec and number > int(spec["maximum"]):
            found.problems.append(f"{where}: {path} = {number} is above the maximum {spec['maximum']}")
    elif kind == "number":
        if not isinstance(v, int | float) or isinstance(v, bool):
            found.problems.append(f"{where}: {path} = {v!r} is not a number")
    elif kind == "boolean":
        ok = v in ("true", "false") if in_query else isinstance(v, bool)
        if not ok:
            found.problems.append(f"{where}: {path} = {v!r} is not a boolean")
    elif kind == "array":
        if not isinstance(v, list):
            found.problems.append(f"{where}: {path} is not an array")
            return
        for i, item in enumerate(v):
            _value(spec["items"], item, found, f"{where}[{i}]", path + "[]", doc)
    elif kind == "object":
        if "properties" in spec:
            validate(v, spec, path, doc, found, where)
        elif not isinstance(v, dict):
            found.problems.append(f"{where}: {path} is not an object")
        elif spec.get("additionalProperties", {}).get("type") not in (None, "any"):
            for key, item in v.items():
                _value(spec["additionalProperties"], item, found, f"{where}.{key}", path + ".*", doc)
    # type "any": no constraint published


def check_error(body: Any, status: int, found: Findings, where: str) -> None:
    """Google's JSON error shape (https://cloud.google.com/apis/design/errors): {"error": {"code": <the HTTP status>,
    "message": str, "status": str, "errors": [{"message", "domain", "reason"}]?}}."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or set(body) != {"error"}:
        found.problems.append(f"{where}: not Google's error shape: {str(body)[:80]}")
        return
    if err.get("code") != status or not isinstance(err.get("message"), str):
        found.problems.append(f"{where}: error.code {err.get('code')!r} / message do not match HTTP {status}")
    extra = set(err) - {"code", "message", "status", "errors", "details"}
    if extra:
        found.problems.append(f"{where}: unknown error fields {sorted(extra)}")
    for item in err.get("errors") or []:
        if not isinstance(item, dict) or set(item) - {"message", "domain", "reason", "location", "locationType"}:
            found.problems.append(f"{where}: unknown fields in error.errors: {item}")
