"""Microsoft Graph's published schema, read from the msgraph-sdk (v1.0) and msgraph-beta-sdk kiota models, and a
validator that holds a served JSON object to it.

The SDKs are generated from Microsoft's CSDL (microsoftgraph/msgraph-metadata), so their models are the
machine-readable schema at hand. Kiota itself is lenient: an unknown property lands in `additional_data`, a value of
the wrong type or an enum member it does not know becomes None silently. This module does not deserialise; it asks
each model which parse call every property uses (a probe ParseNode records the call: string, bool, enum class,
nested object factory...) and checks the JSON against that, so an unknown property, a wrong type or an enum value
outside the real set is reported with its path instead of vanishing.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kiota_serialization_json.json_parse_node import JsonParseNode

PACKAGES = {"v1.0": "msgraph.generated.models", "beta": "msgraph_beta.generated.models"}
# OData control information Graph adds to objects and collections (not properties of the type).
ANNOTATIONS = frozenset({"@odata.context", "@odata.nextLink", "@odata.type", "@odata.id", "@odata.count",
                         "@odata.etag", "@odata.deltaLink"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DURATION = re.compile(r"^-?P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$")
_PRIMITIVE = {str: "str", bool: "bool", int: "int", float: "float", uuid.UUID: "uuid", dt.datetime: "datetime",
              dt.date: "date", dt.time: "time", dt.timedelta: "timedelta", bytes: "bytes"}

Kind = tuple[str, Any]  # ("str", None) | ("enum", EnumClass) | ("object", factory) | ("objects", factory) ...


class _Probe:
    """A ParseNode that records which getter a field deserializer calls (and with which class) and returns None."""

    def __init__(self) -> None:
        self.kind: Kind = ("unknown", None)

    def _rec(self, kind: str, arg: Any = None) -> None:
        self.kind = (kind, arg)

    def get_str_value(self) -> None: self._rec("str")
    def get_bool_value(self) -> None: self._rec("bool")
    def get_int_value(self) -> None: self._rec("int")
    def get_float_value(self) -> None: self._rec("float")
    def get_uuid_value(self) -> None: self._rec("uuid")
    def get_datetime_value(self) -> None: self._rec("datetime")
    def get_timedelta_value(self) -> None: self._rec("timedelta")
    def get_date_value(self) -> None: self._rec("date")
    def get_time_value(self) -> None: self._rec("time")
    def get_bytes_value(self) -> None: self._rec("bytes")
    def get_enum_value(self, enum_class: Any) -> None: self._rec("enum", enum_class)
    def get_collection_of_enum_values(self, enum_class: Any) -> None: self._rec("enums", enum_class)
    def get_collection_of_primitive_values(self, t: Any) -> None: self._rec("primitives", _PRIMITIVE.get(t, "str"))
    def get_object_value(self, factory: Any) -> None: self._rec("object", factory)
    def get_collection_of_object_values(self, factory: Any) -> None: self._rec("objects", factory)
    def get_child_node(self, name: str) -> None: return None


_FIELDS: dict[type, dict[str, Kind]] = {}


def fields_of(instance: Any) -> dict[str, Kind]:
    """JSON property name -> how the model parses it, for this model class (cached)."""
    cls = type(instance)
    found = _FIELDS.get(cls)
    if found is None:
        found = {}
        for name, deserialize in instance.get_field_deserializers().items():
            probe = _Probe()
            deserialize(probe)
            found[name] = probe.kind
        _FIELDS[cls] = found
    return found


def model(version: str, type_name: str) -> Any:
    """The kiota model class of `microsoft.graph.<type_name>` in the given API version."""
    namespace, _, short = type_name.removeprefix("microsoft.graph.").rpartition(".")  # security.auditLogQuery
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", short).lower()
    package = f"{PACKAGES[version]}.{namespace}" if namespace else PACKAGES[version]
    mod = importlib.import_module(f"{package}.{module}")
    return getattr(mod, short[0].upper() + short[1:])


def properties(version: str, type_name: str) -> list[str]:
    """Every property (structural and navigation) of the type, inherited ones included, as JSON names."""
    cls = model(version, type_name)
    return sorted(n for n in fields_of(cls()) if not n.startswith("@"))


@dataclass
class Findings:
    """What a validation run saw: objects, property paths and enum values exercised, and every mismatch."""

    objects: int = 0
    problems: list[str] = field(default_factory=list)
    paths: set[str] = field(default_factory=set)
    enums: dict[str, set[str]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)


def _enum_member(enum_class: Any, raw: Any) -> bool:
    """Kiota's own rule for mapping a wire value to a member (first letter upper-cased; 'none' -> None_)."""
    if not isinstance(raw, str) or not raw:
        return False
    key = "None_" if raw.lower() == "none" else raw[0].upper() + raw[1:]
    return key in enum_class.__members__


def _primitive_ok(kind: str, v: Any) -> bool:
    if kind == "str":
        return isinstance(v, str)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "float":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if kind == "uuid":
        return isinstance(v, str) and bool(_UUID.match(v))
    if kind == "datetime":
        if not isinstance(v, str) or "T" not in v:
            return False
        try:
            dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if kind in ("date", "time"):
        try:
            (dt.date if kind == "date" else dt.time).fromisoformat(v)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "timedelta":
        return isinstance(v, str) and bool(_DURATION.match(v))
    if kind == "bytes":
        try:
            base64.b64decode(v, validate=True)
        except (TypeError, ValueError):
            return False
        return True
    return False


def validate(obj: Any, factory: Any, found: Findings, where: str) -> None:
    """Check one JSON object against the model `factory` resolves it to (by @odata.type, as kiota does)."""
    if not isinstance(obj, dict):
        found.problems.append(f"{where}: expected an object, got {type(obj).__name__}")
        return
    instance = factory.create_from_discriminator_value(JsonParseNode(obj))
    tname = type(instance).__name__
    found.objects += 1
    found.types.add(tname)
    odata_type = obj.get("@odata.type")
    if isinstance(odata_type, str) and odata_type.rsplit(".", 1)[-1].casefold() != tname.casefold():
        found.problems.append(f"{where}: @odata.type {odata_type} is not a type of this API version (read as "
                              f"{tname})")
    fields = fields_of(instance)
    for key, value in obj.items():
        kind = fields.get(key)
        path = f"{tname}.{key}"
        if kind is None:
            # Graph's Dictionary types (auditRecordTypeDictionary...) are open: any name-value pair belongs
            if key not in ANNOTATIONS and not tname.endswith("Dictionary"):
                found.problems.append(f"{where}: unknown property {path}")
            continue
        found.paths.add(path)
        if value is not None:
            _value(kind, value, found, f"{where}.{key}", path)


def _value(kind: Kind, value: Any, found: Findings, where: str, path: str) -> None:
    k, arg = kind
    if k == "object":
        validate(value, arg, found, where)
    elif k == "objects":
        if not isinstance(value, list):
            found.problems.append(f"{where}: {path} is not a list")
            return
        for i, item in enumerate(value):
            validate(item, arg, found, f"{where}[{i}]")
    elif k in ("enum", "enums"):
        seen = found.enums.setdefault(arg.__name__, set())
        # flags enums travel as one comma-separated string; kiota reads them with the collection getter
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        if (k == "enums" and not isinstance(value, list | str)) or (k == "enum" and not isinstance(value, str)):
            found.problems.append(f"{where}: {path} = {value!r} has the wrong JSON type for {arg.__name__}")
            return
        for item in items:
            if _enum_member(arg, item):
                seen.add(item)
            else:
                found.problems.append(f"{where}: {path} = {item!r} is not a member of {arg.__name__}")
    elif k == "primitives":
        if not isinstance(value, list):
            found.problems.append(f"{where}: {path} is not a list")
            return
        for item in value:
            if item is not None and not _primitive_ok(arg, item):
                found.problems.append(f"{where}: {path} item {item!r:.60} is not {arg}")
    elif not _primitive_ok(k, value):
        found.problems.append(f"{where}: {path} = {value!r:.60} is not {k}")


def validate_body(body: Any, version: str, type_name: str, found: Findings, where: str, *,
                  collection: bool) -> None:
    """A served body: a collection page ({"value": [...], @odata.*}) or a single entity."""
    factory = model(version, type_name)
    if collection:
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            found.problems.append(f"{where}: a collection answer without a 'value' list")
            return
        extra = set(body) - {"@odata.context", "@odata.nextLink", "@odata.count", "value"}
        if extra:
            found.problems.append(f"{where}: collection envelope has {sorted(extra)}")
        for i, item in enumerate(body["value"]):
            validate(item, factory, found, f"{where}[{i}]")
    else:
        validate(body, factory, found, where)


def validate_error(body: Any, found: Findings, where: str) -> None:
    """Graph's error shape: {"error": {code, message, innerError}} (msgraph ODataError / MainError)."""
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    validate(body, ODataError, found, where)


def sample(items: Iterable[Any], per_type: int, key: Callable[[Any], str]) -> list[Any]:
    """At most `per_type` items of each kind, first ones first (keeps the test fast, every kind covered)."""
    counts: dict[str, int] = {}
    out = []
    for item in items:
        k = key(item)
        if counts.get(k, 0) < per_type:
            counts[k] = counts.get(k, 0) + 1
            out.append(item)
    return out


def enum_values(version: str, type_name: str, prop: str) -> frozenset[str] | None:
    """The published value set of an enum property (None when the property is not an enum)."""
    fields = fields_of(model(version, type_name)())
    kind, arg = fields.get(prop, ("", None))
    if kind not in ("enum", "enums"):
        return None
    return frozenset(m.value for m in arg)



def properties_document() -> dict[str, object]:
    """The content of simulator/microsoft/graph_properties.json, from the installed SDKs' models."""
    from simulator.microsoft.graph_schema import DIRECTORY_OBJECT_TYPES, ENTITY_BY_ROUTE

    types = sorted({t for t, _ in ENTITY_BY_ROUTE.values()} | set(DIRECTORY_OBJECT_TYPES))
    doc: dict[str, object] = {"_source": "generated by `python -m tests.graph_contract` from the msgraph-sdk (v1.0) "
                                         "and msgraph-beta-sdk models (Microsoft's published CSDL)"}
    for version in PACKAGES:
        found: dict[str, list[str]] = {}
        for t in types:
            try:
                found[t] = properties(version, t)
            except (ImportError, AttributeError):  # the type does not exist in this version
                continue
        doc[version] = found
    return doc


def main() -> None:
    """Rewrite simulator/microsoft/graph_properties.json (atomically)."""
    import json
    import os

    from simulator.microsoft.graph_schema import PROPERTIES_FILE

    text = json.dumps(properties_document(), indent=1, sort_keys=True) + "\n"
    tmp = PROPERTIES_FILE.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, PROPERTIES_FILE)
    print(f"wrote {PROPERTIES_FILE}")


if __name__ == "__main__":
    main()
