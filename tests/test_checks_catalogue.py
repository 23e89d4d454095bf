"""The catalogue as a whole: metadata complete and valid, ids stable, every check tested three ways, docs fresh."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from checks import CATALOGUE as REGISTRY
from checks import builtin_checks as load_builtin_checks
from checks.docs import DOC_PATH, render
from idaudit.core.engine import validate_meta
from idaudit.core.model import Framework, Provider
from idaudit.core.settings import TENANT_SETTINGS
from tests import (
    test_checks_accounts,
    test_checks_apps,
    test_checks_authentication,
    test_checks_email_security,
    test_checks_mail,
    test_checks_takeover,
)

REG = load_builtin_checks()
METAS = [rc.meta for rc in REG.all() if not rc.meta.id.endswith(("-901", "-999"))]  # engine tests add 9xx ids
ALL_CASES = (test_checks_authentication.CASES + test_checks_accounts.CASES + test_checks_mail.CASES
             + test_checks_apps.CASES + test_checks_takeover.CASES
             + test_checks_email_security.CASES)
FAMILY_OF = {"AUTH": "authentication", "ACCT": "accounts", "MAIL": "mail", "APPS": "apps", "TKO": "takeover",
             "ESEC": "email security"}

# Ids are never renumbered once committed: this list only grows.
COMMITTED_IDS = {f"IDA-AUTH-{i:03d}" for i in range(1, 11)} | {f"IDA-ACCT-{i:03d}" for i in range(1, 10)} \
    | {f"IDA-MAIL-{i:03d}" for i in range(1, 8)} | {f"IDA-APPS-{i:03d}" for i in range(1, 7)} \
    | {f"IDA-TKO-{i:03d}" for i in range(1, 7)} \
    | {f"IDA-ESEC-{i:03d}" for i in range(1, 17)}


def test_committed_ids_still_exist() -> None:
    assert {m.id for m in METAS} >= COMMITTED_IDS


@pytest.mark.parametrize("meta", METAS, ids=[m.id for m in METAS])
def test_metadata_is_complete(meta) -> None:  # type: ignore[no-untyped-def]
    assert validate_meta(meta) == []
    assert meta.family == FAMILY_OF[meta.id.split("-")[1]]
    frameworks = {r.framework for r in meta.references}
    assert Framework.HIPAA in frameworks and Framework.ATTACK in frameworks
    assert all(r.id.strip() for r in meta.references)
    for provider in meta.providers:
        assert " > " in meta.fix_for(provider), f"remediation names the {provider} console path"
    assert any("`" in meta.fix_for(p) for p in meta.providers), "remediation gives a command"
    assert len(meta.rationale) > 120, "rationale tells the exfiltration path"
    assert meta.owner_role.strip()
    for key in meta.uses_settings:
        assert key in TENANT_SETTINGS, f"{meta.id} reads undocumented tenant setting {key}"


def test_attack_ids_look_like_techniques() -> None:
    for meta in METAS:
        for r in meta.references:
            if r.framework is Framework.ATTACK:
                assert re.fullmatch(r"T\d{4}(\.\d{3})?", r.id), r.id


@pytest.mark.parametrize("meta", METAS, ids=[m.id for m in METAS])
def test_every_check_has_fail_pass_and_unknown_cases(meta) -> None:  # type: ignore[no-untyped-def]
    outcomes = {c.expect for c in ALL_CASES if c.check_id == meta.id}
    assert {"fail", "pass", "unknown"} <= outcomes, f"{meta.id} has only {sorted(outcomes)}"


def test_docs_are_up_to_date() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(REGISTRY), \
        "docs/checks.md is stale: run `python -m checks.docs`"


def test_docs_list_every_check_with_its_references() -> None:
    text = DOC_PATH.read_text(encoding="utf-8")
    for meta in METAS:
        assert f"### {meta.id} — {meta.title}" in text
        for r in meta.references:
            assert r.id in text


def test_docs_cli_check_mode_detects_staleness(tmp_path: Path) -> None:
    stale = tmp_path / "checks.md"
    stale.write_text("old\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "checks.docs", "--check", "--out", str(stale)]
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 1
    assert subprocess.run([sys.executable, "-m", "checks.docs", "--out", str(stale)], capture_output=True,
                          check=False).returncode == 0
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0


# Words that name one provider's consoles and tools: a tenant's remediation must not send its reader to the other
# provider's console (issue 18: a Microsoft tenant's plan said "Google: Admin console > ..." and `gam ...`).
PROVIDER_WORDS = {
    Provider.MICROSOFT: ("Entra", "Microsoft", "PowerShell", "Exchange", "Outlook", "Defender", "Graph", "-Mg"),
    Provider.GOOGLE: ("Google", "gam ", "Admin console", "Gmail", "2-Step Verification"),
}


@pytest.mark.parametrize("meta", METAS, ids=[m.id for m in METAS])
def test_remediation_names_only_the_tenants_own_provider(meta) -> None:  # type: ignore[no-untyped-def]
    for provider in meta.providers:
        fix = meta.fix_for(provider)
        for other, words in PROVIDER_WORDS.items():
            if other is provider:
                continue
            named = [w for w in words if w in fix]
            assert not named, f"{meta.id}: the {provider} remediation names {other}'s {named}: {fix}"
    if len(meta.providers) > 1:
        # The words every provider shares say what to do; where and how is in each provider's own steps.
        assert {p for p, _ in meta.steps} == set(meta.providers), f"{meta.id} lacks steps for a provider"
        named = [w for words in PROVIDER_WORDS.values() for w in words if w in meta.remediation]
        assert not named, f"{meta.id}: the shared remediation names a provider's {named}"


@pytest.mark.parametrize("meta", METAS, ids=[m.id for m in METAS])
def test_remediation_fits_a_printed_row(meta) -> None:  # type: ignore[no-untyped-def]
    """The action plan prints what to do plus the tenant's own steps in one wrapped cell: at most ~10 lines of a
    60-character column; the full catalogue stays in docs/checks.md and the Checks sheet."""
    for provider in meta.providers:
        assert len(meta.fix_for(provider)) <= 600, f"{meta.id} ({provider}) is too long to print in a row"
