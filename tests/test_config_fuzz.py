"""Fuzzing the configuration (idaudit.toml): every bad value is a ConfigError naming the file and the key (issue 9).

Hypothesis mutates a valid configuration over its whole schema — [audit], [[waivers]], [[tenants]], [output],
[history], [notify] — with unknown keys (typos get a "did you mean"), values of every wrong TOML type, waivers
missing an owner or an expiry, duplicate tenants and broken TOML syntax, and runs the real parsers: load_config /
parse_config, audit.audit_settings ([output], [history]) and notify.parse_notify ([notify]). Expired waivers are
checked end to end on a simulator snapshot: reported as expired, never applied. Nothing is mocked.

Examples per property: IDAUDIT_FUZZ_EXAMPLES (default 10; a deep local run uses a few hundred).
"""

from __future__ import annotations

import copy
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idaudit.core.config import Config, load_config, parse_config
from idaudit.core.errors import ConfigError
from idaudit.orchestration.audit import audit_settings
from idaudit.orchestration.notify import parse_notify
from idaudit.orchestration.pipeline import audit_snapshot

EXAMPLES = int(os.environ.get("IDAUDIT_FUZZ_EXAMPLES", "10"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
WHERE = Path("/etc/idaudit/idaudit.toml")  # parse_config only names it; nothing is read from there

VALID: dict[str, Any] = {
    "audit": {"stale_days": 90, "guest_stale_days": 60, "global_admin_min": 2, "global_admin_max": 4,
              "trusted_domains": ["partnerlab.com"], "allowed_apps": ["app-1"], "break_glass": ["bg1@x.org"]},
    "waivers": [{"check": "IDA-AUTH-002", "subject": "bg1@x.org", "owner": "IT manager", "reason": "break glass",
                 "expires": date(2027, 6, 30)}],
    "tenants": [{"name": "riverside", "provider": "microsoft", "tenant_id": "t", "client_id": "c",
                 "client_secret_env": "RIVERSIDE_SECRET"},
                {"name": "lakeside", "provider": "google", "service_account_file": "~/sa.json",
                 "admin_subject": "admin@lakeside.org"}],
    "output": {"dir": "out", "formats": ["xlsx", "json"]},
    "history": {"path": "history.sqlite"},
    "notify": {"when": "changes", "email": {"host": "smtp.example.org", "port": 587, "security": "starttls",
                                            "sender": "idaudit@x.org", "to": ["it@x.org"]}},
}

# Every field and the Python types tomllib can give it that are valid; any other TOML type must be an error.
STR, INT, LIST, DATE = (str,), (int,), (list,), (date, datetime)
FIELDS: dict[tuple[str, ...], tuple[type, ...]] = {
    **{("audit", k): INT for k in ("stale_days", "guest_stale_days", "global_admin_min", "global_admin_max")},
    **{("audit", k): LIST for k in ("trusted_domains", "allowed_apps", "break_glass")},
    **{("waivers", "0", k): STR for k in ("check", "subject", "owner", "reason")},
    ("waivers", "0", "expires"): DATE,
    **{("tenants", "0", k): STR for k in ("name", "provider", "tenant_id", "client_id", "client_secret_env")},
    **{("tenants", "1", k): STR for k in ("service_account_file", "admin_subject")},
    ("output", "dir"): STR, ("output", "formats"): LIST, ("history", "path"): STR,
    ("notify", "when"): STR, ("notify", "email", "host"): STR, ("notify", "email", "port"): INT,
    ("notify", "email", "to"): LIST, ("notify", "email", "security"): STR,
}


def key_of(path: tuple[str, ...]) -> str:
    """('waivers', '0', 'owner') -> 'waivers[0].owner', as ConfigError names it."""
    out = path[0]
    for part in path[1:]:
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def validate(doc: dict[str, Any]) -> Config:
    """Every layer that reads the config, as `idaudit audit` runs them."""
    cfg = parse_config(doc, WHERE)
    audit_settings(cfg)
    parse_notify(cfg, env={})
    return cfg


toml_scalars = (st.booleans() | st.integers(-(10**9), 10**9) | st.floats(allow_nan=False) | st.text(max_size=10)
                | st.dates() | st.datetimes())
toml_values = st.recursive(toml_scalars, lambda kids: st.lists(kids, max_size=3)
                           | st.dictionaries(st.text(min_size=1, max_size=6), kids, max_size=2), max_leaves=5)


def wrong_for(valid: tuple[type, ...]) -> st.SearchStrategy[Any]:
    def bad(v: Any) -> bool:
        if isinstance(v, bool):  # bool is an int subclass in Python, never a valid integer in the config
            return True
        return not isinstance(v, valid)
    return toml_values.filter(bad)


def put(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[path[-1]] = value


def test_the_valid_configuration_is_valid() -> None:
    cfg = validate(copy.deepcopy(VALID))
    assert cfg.settings.guest_stale_days == 60 and len(cfg.tenants) == 2 and cfg.waivers[0].owner == "IT manager"


@FUZZ
@given(field=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_wrong_type_names_the_file_and_the_key(field: tuple[str, ...], data: st.DataObject) -> None:
    value = data.draw(wrong_for(FIELDS[field]), label="value")
    doc = copy.deepcopy(VALID)
    put(doc, field, value)
    with pytest.raises(ConfigError) as err:
        validate(doc)
    assert err.value.key == key_of(field), f"{value!r}: {err.value}"
    assert str(WHERE) in str(err.value)


@FUZZ
@given(field=st.sampled_from(sorted(FIELDS)), data=st.data())
def test_list_with_a_bad_element_is_an_error(field: tuple[str, ...], data: st.DataObject) -> None:
    if FIELDS[field] is not LIST:
        return
    good = [] if field[-1] != "to" else ["it@x.org"]
    bad = data.draw(toml_scalars.filter(lambda v: not isinstance(v, str)), label="element")
    doc = copy.deepcopy(VALID)
    put(doc, field, [*good, bad])
    with pytest.raises(ConfigError) as err:
        validate(doc)
    assert err.value.key == key_of(field)


TABLES = {(): {"audit", "waivers", "tenants", "history", "notify", "output"},
          ("audit",): set(VALID["audit"]), ("waivers", "0"): set(VALID["waivers"][0]),
          ("tenants", "0"): {"name", "provider", "tenant_id", "client_id", "client_secret_env", "authority",
                             "certificate_file", "output_dir"},
          ("output",): {"dir", "formats"}, ("history",): {"path"}}


def typo(word: str) -> st.SearchStrategy[str]:
    """One dropped, doubled or swapped letter: what a hand-edited config gets wrong."""
    n = len(word)
    return st.one_of(
        st.integers(0, n - 1).map(lambda i: word[:i] + word[i + 1:]),
        st.integers(0, n - 1).map(lambda i: word[:i] + word[i] + word[i:]),
        st.integers(0, n - 2).map(lambda i: word[:i] + word[i + 1] + word[i] + word[i + 2:]),
    ).filter(lambda w: w != word and w)


@FUZZ
@given(table=st.sampled_from(sorted(TABLES)), data=st.data())
def test_unknown_key_is_named_with_a_suggestion_for_a_typo(table: tuple[str, ...], data: st.DataObject) -> None:
    allowed = TABLES[table]
    meant = data.draw(st.sampled_from(sorted(k for k in allowed if len(k) >= 4)), label="meant")
    key = data.draw(typo(meant), label="typo")
    if key in allowed or "secret" in key or "password" in key:
        return
    doc = copy.deepcopy(VALID)
    if table:
        node: Any = doc
        for part in table:
            node = node[int(part)] if part.isdigit() else node[part]
        node[key] = "x"
    else:
        doc[key] = {}
    with pytest.raises(ConfigError) as err:
        validate(doc)
    assert err.value.key == (key_of((*table, key)) if table else key)
    assert "unknown key" in str(err.value) and str(WHERE) in str(err.value)
    if table in ((), ("audit",), ("waivers", "0")):  # the core tables suggest the closest key
        assert "did you mean '" in str(err.value), str(err.value)


@FUZZ
@given(field=st.sampled_from(("check", "subject", "owner", "reason", "expires")),
       blank=st.sampled_from((None, "", "   ")))
def test_waiver_without_owner_reason_or_expiry_is_refused(field: str, blank: str | None) -> None:
    doc = copy.deepcopy(VALID)
    if blank is None:
        del doc["waivers"][0][field]
    else:
        doc["waivers"][0][field] = blank
    with pytest.raises(ConfigError) as err:
        validate(doc)
    assert err.value.key == f"waivers[0].{field}"


@FUZZ
@given(n=st.integers(2, 5), data=st.data())
def test_duplicate_tenant_names_the_second_one(n: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, n - 2), label="first")
    second = data.draw(st.integers(first + 1, n - 1), label="second")
    tenants = [{"name": f"t{i}", "provider": "microsoft"} for i in range(n)]
    tenants[second]["name"] = tenants[first]["name"]
    doc = {**copy.deepcopy(VALID), "tenants": tenants}
    with pytest.raises(ConfigError) as err:
        validate(doc)
    assert err.value.key == f"tenants[{second}].name" and "duplicate" in str(err.value)


VALID_TOML = """[audit]
stale_days = 90
trusted_domains = ["partnerlab.com"]

[[waivers]]
check = "IDA-AUTH-002"
subject = "bg1@x.org"
owner = "IT manager"
reason = "break glass"
expires = 2027-06-30

[[tenants]]
name = "riverside"
provider = "microsoft"
""".splitlines()


@FUZZ
@given(at=st.integers(0, len(VALID_TOML)),
       garbage=st.sampled_from(("stale_days = ", "[audit", "= 3", "key = 'unterminated", "x = [1, 2",
                                "stale_days = 90 90", "expires = 2027-13-45", "[[waivers]", "a.b = {")))
def test_bad_toml_names_the_file_and_the_line(tmp_path_factory: pytest.TempPathFactory, at: int,
                                              garbage: str) -> None:
    lines = [*VALID_TOML[:at], garbage, *VALID_TOML[at:]]
    p = tmp_path_factory.mktemp("toml") / "idaudit.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p) in str(err.value) and err.value.key == "-"
    assert "line " in str(err.value), str(err.value)


# ------------------------------------------------------------------------------------------------ waivers --

@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, date]:
    """A rendered Microsoft snapshot and one failing (check, subject) in it, with the evaluation date."""
    simulator = pytest.importorskip("simulator")
    ms_render = pytest.importorskip("simulator.microsoft.snapshot")
    snap = Path(ms_render.render_microsoft_snapshot(simulator.build_organisation(users=10, seed=3),
                                                    tmp_path_factory.mktemp("cfg") / "snap"))
    run = audit_snapshot(snap)
    f = run.findings
    row = f[(f["status"] == "fail") & (f["subject_id"] != "tenant")].iloc[0]
    return snap, str(row["check_id"]), str(row["subject_id"]), run.data.collected_at.date()


@settings(max_examples=max(EXAMPLES // 2, 4), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(days=st.integers(-400, 400), as_text=st.booleans())
def test_expired_waiver_is_reported_not_applied(failing: tuple[Path, str, str, date], days: int,
                                                as_text: bool) -> None:
    snap, check_id, subject_id, today = failing
    expires = today + timedelta(days=days)
    doc = {"waivers": [{"check": check_id, "subject": subject_id, "owner": "IT", "reason": "accepted",
                        "expires": expires.isoformat() if as_text else expires}]}
    run = audit_snapshot(snap, config=parse_config(doc, WHERE))
    f = run.findings
    status = set(f.loc[(f["check_id"] == check_id) & (f["subject_id"] == subject_id), "status"])
    if days >= 0:
        assert status == {"waived"} and not run.expired_waivers
    else:
        assert status == {"fail"}, "an expired waiver must stop applying"
        assert [w.expires for w in run.expired_waivers] == [expires]


# ------------------------------------------------------------------------------------------- regressions --

def test_regression_config_path_is_a_directory(tmp_path: Path) -> None:
    """load_config on a directory raised IsADirectoryError (a trace), not a ConfigError."""
    with pytest.raises(ConfigError, match="is a directory") as err:
        load_config(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_regression_config_not_utf8(tmp_path: Path) -> None:
    """A Latin-1 config raised UnicodeDecodeError (a trace), not a ConfigError."""
    p = tmp_path / "idaudit.toml"
    p.write_bytes('[audit]\nbreak_glass = ["b\xe9a@x.org"]\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8") as err:
        load_config(p)
    assert str(p) in str(err.value)


def test_missing_config_file_names_it(tmp_path: Path) -> None:
    p = tmp_path / "nope" / "idaudit.toml"
    with pytest.raises(ConfigError, match="file not found") as err:
        load_config(p)
    assert str(p) in str(err.value)


@pytest.mark.parametrize("name, value", [("output", 5), ("history", "x.sqlite"), ("notify", ["always"])])
def test_regression_section_that_is_not_a_table(name: str, value: Any) -> None:
    """`output = 5` was silently ignored (defaults used) instead of being an error naming the key."""
    with pytest.raises(ConfigError) as err:
        parse_config({name: value}, WHERE)
    assert err.value.key == name


def test_regression_output_formats_not_a_list() -> None:
    """[output] formats = 5 raised TypeError ('int' object is not iterable) in audit_settings."""
    with pytest.raises(ConfigError) as err:
        validate({**copy.deepcopy(VALID), "output": {"formats": 5}})
    assert err.value.key == "output.formats"


def test_typo_suggests_the_key() -> None:
    with pytest.raises(ConfigError, match="did you mean 'stale_days'"):
        parse_config({"audit": {"stale_dayz": 3}}, WHERE)
