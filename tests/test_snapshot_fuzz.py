"""Fuzzing the snapshot loader, the normalisers and every check with hostile and broken snapshots (issue 9).

Seeds are real snapshots rendered by the simulators (a tiny Microsoft tenant with Entra ID P1/P2 and the same
organisation in Google Workspace), built once per module; hypothesis mutates a copy on disk and runs the real path
`audit_snapshot` (load_snapshot -> normalise -> run_checks). Nothing is mocked.

The properties:
- **Never a trace.** The run either raises the project's clear input error (SnapshotError / IdauditError) whose
  message names the broken file, or completes. Any other exception (KeyError, TypeError, a hang) fails the test.
- **Never a false pass from corrupt content.** A section file replaced by something unreadable or of the wrong
  shape gives at most the passes the same snapshot gives when that section is marked `forbidden` (the reference
  gap every check already handles): corrupt data is treated no more optimistically than missing data.
- **A gap is a gap.** A section marked failed or absent from the manifest (complete or interrupted) leaves no
  tenant-level pass in any check whose required tables it left missing or partial.
- **A failed subject is not a pass.** A user listed in a per-user section's failed_subjects gets no pass row (as
  subject or as owner of a rule) that the same snapshot without that section at all would not give.

Examples per property: IDAUDIT_FUZZ_EXAMPLES (default 20); set it to a few hundred for a deep local run.
Found bugs are pinned as plain regression tests at the bottom.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks import builtin_checks as load_builtin_checks
from idaudit.core.engine import AuditRun
from idaudit.core.errors import IdauditError, SnapshotError
from idaudit.core.sections import section_spec
from idaudit.core.snapshot import MANIFEST
from idaudit.core.tables import Availability
from idaudit.orchestration.pipeline import audit_snapshot

simulator = pytest.importorskip("simulator")
ms_render = pytest.importorskip("simulator.microsoft.snapshot")
google_render = pytest.importorskip("simulator.google")

EXAMPLES = int(os.environ.get("IDAUDIT_FUZZ_EXAMPLES", "20"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
PROVIDERS = ("microsoft", "google")
FAILURE_STATUSES = ("forbidden", "unlicensed", "not_found", "error")
TENANT_LEVEL = ("tenant", "*")
REQUIRES = {rc.meta.id: rc.meta.requires for rc in load_builtin_checks().all()}

Passes = frozenset[tuple[str, str]]


# ------------------------------------------------------------------------------------------------ seeds --

class Seed:
    """One rendered snapshot held in memory: its manifest, each section's JSON, and cached reference runs."""

    def __init__(self, provider: str, directory: Path, scratch: Path) -> None:
        self.provider = provider
        self.directory = directory
        self.scratch = scratch
        self.manifest: dict[str, Any] = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        self.data: dict[str, Any] = {
            name: json.loads((directory / rec["file"]).read_text(encoding="utf-8"))
            for name, rec in self.manifest["sections"].items() if rec["status"] == "ok" and rec.get("file")}
        self.user_ids = tuple(u["id"] for u in self.data["users"])
        self._forbidden: dict[str, Passes] = {}

    def with_data(self) -> list[str]:
        """Sections that have a file (status ok), excluding status-only placeholders."""
        return sorted(n for n in self.data if (spec := section_spec(self.provider, n)) is None
                      or spec.shape != "status_only")

    def per_subject(self) -> list[str]:
        return sorted(n for n in self.data if (spec := section_spec(self.provider, n)) is not None
                      and spec.shape.startswith("per_"))

    def forbidden_passes(self, section: str) -> Passes:
        """Passes when `section` is marked forbidden: the reference every corrupt variant is compared with."""
        if section not in self._forbidden:
            manifest = copy.deepcopy(self.manifest)
            manifest["sections"][section] = {"status": "forbidden", "file": None, "count": 0,
                                             "detail": "403 (fuzz reference)"}
            with self.materialise(manifest) as d:
                self._forbidden[section] = passes(audit_snapshot(d))
        return self._forbidden[section]

    def materialise(self, manifest: dict[str, Any], data: dict[str, Any] | None = None,
                    raw_files: dict[str, bytes | None] | None = None) -> _Snapshot:
        return _Snapshot(self, manifest, self.data if data is None else data, raw_files or {})


class _Snapshot:
    """Context manager: the mutated snapshot written to a fresh directory, removed afterwards."""

    def __init__(self, seed: Seed, manifest: dict[str, Any], data: dict[str, Any],
                 raw_files: dict[str, bytes | None]) -> None:
        self.seed, self.manifest, self.data, self.raw_files = seed, manifest, data, raw_files
        self.path: Path | None = None

    def __enter__(self) -> Path:
        d = Path(tempfile.mkdtemp(dir=self.seed.scratch))
        (d / MANIFEST).write_text(json.dumps(self.manifest), encoding="utf-8")
        sections = self.manifest.get("sections") if isinstance(self.manifest, dict) else None
        for name, rec in (sections.items() if isinstance(sections, dict) else ()):
            file = rec.get("file") if isinstance(rec, dict) else None
            if isinstance(file, str) and name in self.data:
                (d / file).write_text(json.dumps(self.data[name]), encoding="utf-8")
        for file, content in self.raw_files.items():
            if content is None:
                (d / file).unlink(missing_ok=True)
            else:
                (d / file).write_bytes(content)
        self.path = d
        return d

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Seed]:
    org = simulator.build_organisation(users=10, seed=3)
    base = tmp_path_factory.mktemp("fuzz-seeds")
    ms = ms_render.render_microsoft_snapshot(org, base / "microsoft", licences={"p1": True, "p2": True})
    gg = google_render.render_google_snapshot(org, base / "google")
    scratch = tmp_path_factory.mktemp("fuzz-runs")
    return {"microsoft": Seed("microsoft", Path(ms), scratch), "google": Seed("google", Path(gg), scratch)}


# ------------------------------------------------------------------------------------------------ oracle --

def run(directory: Path) -> AuditRun | IdauditError:
    """The whole audit; only the project's own input errors may come out (anything else fails the test)."""
    try:
        return audit_snapshot(directory)
    except IdauditError as exc:
        return exc


def passes(result: AuditRun) -> Passes:
    f = result.findings
    hit = f[f["status"] == "pass"]
    return frozenset(zip(hit["check_id"], hit["subject_id"], strict=True))


def assert_names_file(err: IdauditError, path: Path) -> None:
    assert isinstance(err, SnapshotError), f"{type(err).__name__}: {err}"
    assert str(path) in str(err), f"error does not name {path}: {err}"


def assert_no_more_passes(result: AuditRun, seed: Seed, section: str, what: str) -> None:
    extra = passes(result) - seed.forbidden_passes(section)
    assert not extra, f"{what}: passes that a forbidden '{section}' does not give: {sorted(extra)[:5]}"


def assert_gap_has_no_tenant_pass(result: AuditRun, section: str) -> None:
    """A check needing a table that `section` left missing or partial has no tenant-level pass.

    The one documented exception (checks/common.py nothing_found_row): a partial table that names the subjects it
    could not collect may keep "nothing found among the accounts collected" as a pass, provided every one of those
    subjects has its own `unknown` row in that check — nobody uncollected looks clean.
    """
    status = result.data.status
    f = result.findings
    tenant_pass = f[(f["status"] == "pass") & f["subject_id"].isin(TENANT_LEVEL)]
    for check_id in tenant_pass["check_id"]:
        mine = f[f["check_id"] == check_id]
        unknown = set(mine.loc[mine["status"] == "unknown", "subject_id"])
        for t in REQUIRES[check_id]:
            st_ = status[t]
            if section not in st_.sections or st_.availability is Availability.OK:
                continue
            assert st_.availability is Availability.PARTIAL and st_.missing_subjects, (
                f"{check_id} passes for the whole tenant although '{t}' lacks '{section}': {st_.reason}")
            silent = set(st_.missing_subjects) - unknown
            assert not silent, (f"{check_id} passes for the whole tenant although '{t}' lacks '{section}' for "
                                f"{sorted(silent)[:3]}, who have no unknown row")


# ------------------------------------------------------------------------------------------- strategies --

json_scalars = (st.none() | st.booleans() | st.integers(-(10**6), 10**6)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=3)
                           | st.dictionaries(st.text(max_size=6), kids, max_size=3), max_leaves=6)


def wrong_shape(shape: str) -> st.SearchStrategy[Any]:
    """A JSON value that cannot be the documented shape: scalars, the other container, deep nesting."""
    other = (st.dictionaries(st.text(max_size=6), json_values, max_size=3) if shape == "list"
             else st.lists(json_values, max_size=3))
    deep = st.integers(5, 60).map(lambda n: json.loads("[" * n + "]" * n))
    if shape == "list":
        objects_and_junk = st.lists(json_scalars.filter(lambda v: v is not None), min_size=1, max_size=3)
        return json_scalars | other | deep | objects_and_junk
    return json_scalars | other | deep


def corrupt_bytes(original: bytes) -> st.SearchStrategy[tuple[str, bytes | None]]:
    return st.one_of(
        st.just(("deleted", None)),
        st.integers(0, max(len(original) - 1, 0)).map(lambda n: ("truncated", original[:n])),
        st.binary(min_size=1, max_size=64).map(lambda b: ("random bytes", b)),
        st.just(("invalid UTF-8", b'[{"id": "\xff\xfe"}]')),
        st.integers(2000, 50_000).map(lambda n: ("nested too deeply", b"[" * n + b"]" * n)),
        st.just(("huge integer", b"[" + b"9" * 5000 + b"]")),
    )


def walk(draw: Any, value: Any) -> tuple[Any, Any] | None:
    """Descend 1-4 levels into a section's JSON; return (container, key) of the field to mutate."""
    cont: tuple[Any, Any] | None = None
    for _ in range(draw(st.integers(1, 4))):
        if isinstance(value, dict) and value:
            key = draw(st.sampled_from(sorted(value)))
        elif isinstance(value, list) and value:
            key = draw(st.integers(0, len(value) - 1))
        else:
            break
        cont, value = (value, key), value[key]
    return cont


# ----------------------------------------------------------------------------------------------- properties --

@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_corrupt_section_file_is_an_error_or_no_more_passes_than_forbidden(
        seeds: dict[str, Seed], provider: str, data: st.DataObject) -> None:
    seed = seeds[provider]
    section = data.draw(st.sampled_from(seed.with_data()), label="section")
    file = seed.manifest["sections"][section]["file"]
    original = (seed.directory / file).read_bytes()
    kind, content = data.draw(corrupt_bytes(original), label="corruption")
    with seed.materialise(seed.manifest, raw_files={file: content}) as d:
        result = run(d)
        if isinstance(result, IdauditError):
            assert_names_file(result, d / file)
            return
    assert content is not None, "a deleted section file must be an error naming it"
    assert_no_more_passes(result, seed, section, f"{section} {kind}")


@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_wrong_shape_section_is_treated_as_not_collected(seeds: dict[str, Seed], provider: str,
                                                         data: st.DataObject) -> None:
    seed = seeds[provider]
    section = data.draw(st.sampled_from(seed.with_data()), label="section")
    spec = section_spec(provider, section)
    value = data.draw(wrong_shape(spec.shape if spec else "list"), label="content")
    with seed.materialise(seed.manifest, data={**seed.data, section: value}) as d:
        result = run(d)
    if isinstance(result, IdauditError):
        raise AssertionError(f"valid JSON of the wrong shape should be a gap, not an error: {result}")
    assert_no_more_passes(result, seed, section, f"{section} replaced by {value!r:.60}")
    assert_gap_has_no_tenant_pass(result, section)
    cov = result.data.manifest.sections[section] if result.data.manifest else None
    assert cov is not None and not cov.usable and "malformed" in cov.detail, "the Coverage must say why"


@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_failed_or_absent_section_leaves_no_tenant_pass(seeds: dict[str, Seed], provider: str,
                                                        data: st.DataObject) -> None:
    seed = seeds[provider]
    section = data.draw(st.sampled_from(sorted(seed.manifest["sections"])), label="section")
    how = data.draw(st.sampled_from((*FAILURE_STATUSES, "absent", "absent, interrupted")), label="how")
    manifest = copy.deepcopy(seed.manifest)
    if how.startswith("absent"):
        del manifest["sections"][section]
        manifest["complete"] = how == "absent"
    else:
        manifest["sections"][section] = {"status": how, "file": None, "count": 0, "detail": "fuzz"}
    with seed.materialise(manifest) as d:
        result = run(d)
    assert isinstance(result, AuditRun), f"a failed section is a gap, not an error: {result}"
    assert_gap_has_no_tenant_pass(result, section)
    if (section, how) != ("roleEligibilities", "unlicensed"):  # documented: no P2, no eligible assignments
        assert_no_more_passes(result, seed, section, f"{section} {how}")


@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_failed_subjects_never_pass(seeds: dict[str, Seed], provider: str, data: st.DataObject) -> None:
    seed = seeds[provider]
    section = data.draw(st.sampled_from(seed.per_subject()), label="section")
    keys = sorted(seed.data[section]) or list(seed.user_ids)
    failed = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True), label="failed")
    manifest = copy.deepcopy(seed.manifest)
    manifest["sections"][section]["failed_subjects"] = {k: "error: timeout (fuzz)" for k in failed}
    with seed.materialise(manifest) as d:
        result = run(d)
    assert isinstance(result, AuditRun), f"failed subjects are gaps, not an error: {result}"
    assert_gap_has_no_tenant_pass(result, section)
    # A subject whose part of the section failed is treated no better than if the section was not collected at
    # all (which may still pass it on other evidence, e.g. MFA enforced by a Conditional Access policy).
    reference = seed.forbidden_passes(section)
    for check_id, subject_id in passes(result):
        owner = subject_id.split(":", 1)[0]
        if subject_id in failed or owner in failed:
            assert (check_id, subject_id) in reference, (
                f"{check_id} passes {subject_id} although '{section}' was not collected for it")


def test_failed_subject_whose_data_is_still_in_the_file_passes_nothing(seeds: dict[str, Seed]) -> None:
    """The example hypothesis found: mailboxSettings listed a user as failed but the file still held the user's
    archive folder id, which named a rule's folder 'Archive' and let the rule pass as ordinary filing."""
    seed = seeds["microsoft"]
    owners = {str(r.get("id")): uid for uid, rules in seed.data["inboxRules"].items() if isinstance(rules, list)
              for r in rules if isinstance(r, dict)}
    archived = [uid for uid, box in seed.data["mailboxSettings"].items()
                if isinstance(box, dict) and box.get("archiveFolder") and uid in owners.values()]
    assert archived, "the seed tenant has no rule owner with an archive folder: the test would test nothing"
    manifest = copy.deepcopy(seed.manifest)
    manifest["sections"]["mailboxSettings"]["failed_subjects"] = {archived[0]: "error: timeout (example)"}
    with seed.materialise(manifest) as d:
        result = run(d)
    assert isinstance(result, AuditRun)
    reference = seed.forbidden_passes("mailboxSettings")
    mine = {p for p in passes(result) if p[1].split(":", 1)[0] == archived[0]}
    assert mine <= reference, sorted(mine - reference)


@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_dropped_or_retyped_field_never_crashes(seeds: dict[str, Seed], provider: str,
                                                data: st.DataObject) -> None:
    seed = seeds[provider]
    section = data.draw(st.sampled_from(seed.with_data()), label="section")
    mutated = copy.deepcopy(seed.data)
    target = walk(data.draw, mutated[section])
    if target is None:
        return
    container, key = target
    if isinstance(container, dict) and data.draw(st.booleans(), label="drop"):
        del container[key]
    else:
        container[key] = data.draw(json_values, label="value")
    with seed.materialise(seed.manifest, data=mutated) as d:
        result = run(d)
        if isinstance(result, IdauditError):
            assert_names_file(result, d)


@FUZZ
@given(provider=st.sampled_from(PROVIDERS), data=st.data())
def test_corrupt_manifest_names_manifest_and_field(seeds: dict[str, Seed], provider: str,
                                                   data: st.DataObject) -> None:
    seed = seeds[provider]
    manifest = copy.deepcopy(seed.manifest)
    field = data.draw(st.sampled_from(("format", "format_version", "provider", "tenant_id", "collected_at",
                                       "sections", "complete", "section.status", "section.file",
                                       "section.count", "section.failed_subjects")), label="field")
    drop = data.draw(st.booleans(), label="drop")
    value = data.draw(json_values, label="value")
    if field.startswith("section."):
        name = data.draw(st.sampled_from(sorted(manifest["sections"])), label="section")
        holder, key = manifest["sections"][name], field.split(".", 1)[1]
    else:
        holder, key = manifest, field
    if drop:
        holder.pop(key, None)
    else:
        holder[key] = value
    with seed.materialise(manifest) as d:
        result = run(d)
        if isinstance(result, IdauditError):
            assert_names_file(result, d)
            assert key in str(result) or "not valid JSON" in str(result) or "missing" in str(result), (
                f"error does not name the field '{key}': {result}")


# A subject's own MFA flag, retyped to anything but a JSON boolean, must not let that subject pass the check it drives.
SUBJECT_FLAGS = {("microsoft", "userRegistrationDetails", "isMfaRegistered"): "IDA-AUTH-001",
                 ("google", "users", "isEnrolledIn2Sv"): "IDA-AUTH-001"}


@FUZZ
@given(flag=st.sampled_from(sorted(SUBJECT_FLAGS)), data=st.data())
def test_retyped_mfa_flag_never_passes_that_user(seeds: dict[str, Seed], flag: tuple[str, str, str],
                                                  data: st.DataObject) -> None:
    provider, section, field = flag
    seed = seeds[provider]
    mutated = copy.deepcopy(seed.data)
    records = [r for r in mutated[section] if r.get(field) is True]
    record = data.draw(st.sampled_from(records), label="record")
    value = data.draw(json_values.filter(lambda v: not isinstance(v, bool)), label="value")
    if value is None and provider == "microsoft":
        value = "null"  # Graph never returns null here; a missing value is covered by the drop property
    record[field] = value
    with seed.materialise(seed.manifest, data=mutated) as d:
        result = run(d)
    assert isinstance(result, AuditRun), f"a retyped flag is not an unreadable snapshot: {result}"
    assert (SUBJECT_FLAGS[flag], record["id"]) not in passes(result), (
        f"{SUBJECT_FLAGS[flag]} passes {record['id']} whose {field} is {value!r}")


# ---------------------------------------------------------------------------------- regression tests --
# Each bug the fuzzer found, as a plain test.

@pytest.fixture
def ms(seeds: dict[str, Seed]) -> Seed:
    return seeds["microsoft"]


@pytest.fixture
def google(seeds: dict[str, Seed]) -> Seed:
    return seeds["google"]


def _with(seed: Seed, section: str, value: Any) -> Iterator[Path]:
    with seed.materialise(seed.manifest, data={**seed.data, section: value}) as d:
        yield d


@pytest.mark.parametrize("content, words", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),  # was RecursionError
    (b"[" + b"1" * 5000 + b"]", "digits"),  # was ValueError (int string conversion limit)
])
def test_regression_unparseable_json_is_a_snapshot_error(ms: Seed, content: bytes, words: str) -> None:
    with ms.materialise(ms.manifest, raw_files={"users.json": content}) as d:
        with pytest.raises(SnapshotError) as err:
            audit_snapshot(d)
        assert str(d / "users.json") in str(err.value) and words in str(err.value)


def test_regression_org_unit_path_without_slash_does_not_hang(google: Seed) -> None:
    """An OU path that does not start with '/' made PolicyResolver.resolve loop forever."""
    ous = copy.deepcopy(google.data["orgUnits"])
    ous[0]["orgUnitPath"] = 876566
    users = copy.deepcopy(google.data["users"])
    users[0]["orgUnitPath"] = "Clinical"
    with google.materialise(google.manifest, data={**google.data, "orgUnits": ous, "users": users}) as d:
        result = audit_snapshot(d)
    assert not result.findings.empty


@pytest.mark.parametrize("section, value", [
    ("users", "x"), ("users", [1, 2]), ("orgUnits", {"id": True}), ("policies", "true"), ("roles", {"a": 1}),
    ("tokens", [None]), ("gmail.filters", 5), ("domains", True),
])
def test_regression_google_wrong_shape_sections_are_gaps(google: Seed, section: str, value: Any) -> None:
    """Each of these raised AttributeError/TypeError in the Google normaliser."""
    for d in _with(google, section, value):
        result = audit_snapshot(d)
        rec = result.data.manifest.sections[section]  # type: ignore[union-attr]
        assert rec.status.value == "error" and "malformed" in rec.detail
    assert_gap_has_no_tenant_pass(result, section)


@pytest.mark.parametrize("section, bad", [
    ("tokens", 404152), ("tokens", [{"id": 1}, "x"]), ("gmail.filters", {"id": {"id": 1}}),
    ("gmail.autoForwarding", [1]),
])
def test_regression_google_malformed_user_value_makes_that_user_unknown(google: Seed, section: str,
                                                                        bad: Any) -> None:
    uid = next(iter(google.data[section]))
    for d in _with(google, section, {**google.data[section], uid: bad}):
        result = audit_snapshot(d)
    rec = result.data.manifest.sections[section]  # type: ignore[union-attr]
    assert uid in rec.failed_subjects and "malformed" in rec.failed_subjects[uid]
    assert not [p for p in passes(result) if p[1] == uid or p[1].startswith(uid + ":")
                if any(section in result.data.status[t].sections for t in REQUIRES[p[0]])]


def test_regression_user_without_string_id_makes_users_malformed(google: Seed) -> None:
    """A Google user whose id was a list raised 'unhashable type'; one without id raised KeyError."""
    for bad in ([[None], None], None, 7):
        users = copy.deepcopy(google.data["users"])
        users[0]["id"] = bad
        for d in _with(google, "users", users):
            result = audit_snapshot(d)
        assert not result.data.available("users")
        assert "field 'id'" in result.data.status["users"].reason


@pytest.mark.parametrize("field, value", [("isDefault", "x"), ("isVerified", 1), ("isVerified", {})])
def test_regression_non_boolean_flag_is_not_known(ms: Seed, field: str, value: Any) -> None:
    """A domain flag that is not a JSON boolean raised TypeError ('Need to pass bool-like values')."""
    domains = copy.deepcopy(ms.data["domains"])
    domains[0][field] = value
    for d in _with(ms, "domains", domains):
        result = audit_snapshot(d)
    col = {"isDefault": "default", "isVerified": "verified"}[field]
    assert result.data.tables["domains"][col].isna().iloc[0]


def test_regression_google_2sv_flag_of_wrong_type_is_not_enrolled(google: Seed) -> None:
    """isEnrolledIn2Sv = "yes" was read as enrolled: IDA-AUTH-001 passed a user whose state is not known."""
    users = copy.deepcopy(google.data["users"])
    victim = next(u for u in users if u.get("isEnrolledIn2Sv") is True and not u.get("suspended"))
    victim["isEnrolledIn2Sv"] = "yes"
    for d in _with(google, "users", users):
        result = audit_snapshot(d)
    f = result.findings
    row = f[(f["check_id"] == "IDA-AUTH-001") & (f["subject_id"] == victim["id"])]
    assert list(row["status"]) == ["unknown"]


def test_regression_microsoft_role_definitions_not_a_list(ms: Seed) -> None:
    """roleDefinitions holding a number raised TypeError in ms_roles."""
    for d in _with(ms, "roleDefinitions", 794116):
        result = audit_snapshot(d)
    assert result.data.manifest.sections["roleDefinitions"].status.value == "error"  # type: ignore[union-attr]


def test_cli_check_on_a_hostile_snapshot_is_one_line_and_exit_5(ms: Seed, capsys: pytest.CaptureFixture[str]) -> None:
    """What the user sees: `idaudit check` on a snapshot whose users.json is nested 100,000 deep (a RecursionError
    trace before the fix) prints one line naming the file and exits with the documented error code."""
    from idaudit.cli import main
    from idaudit.core import exitcodes

    with ms.materialise(ms.manifest, raw_files={"users.json": b"[" * 100_000 + b"]" * 100_000}) as d:
        code = main(["check", str(d)])
        err = capsys.readouterr().err.strip()
    assert code == exitcodes.ERROR
    assert err.count("\n") == 0 and err.startswith("idaudit: error: ") and str(d / "users.json") in err
