"""The Google normaliser: table contents from a rendered Workspace snapshot, and what happens when sections fail.

The snapshot is rendered from the seeded organisation (no network): each assertion names a planted problem and
checks the table shows exactly it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import load_snapshot
from idaudit.core.tables import SCHEMAS, AuditData, Availability
from simulator import build_organisation
from simulator.google import render_google_snapshot
from simulator.google.models import build_google_tenant
from simulator.org import Organisation, Person


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(users=60, seed=11)


@pytest.fixture(scope="module")
def snap_dir(org: Organisation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_google_snapshot(org, tmp_path_factory.mktemp("g") / "snap")


@pytest.fixture(scope="module")
def data(snap_dir: Path) -> AuditData:
    return normalise(load_snapshot(snap_dir))


@pytest.fixture(scope="module")
def gid(org: Organisation) -> dict[str, str]:
    """Neutral person id -> Google user id (through the primary address)."""
    tenant = build_google_tenant(org)
    return {p.id: tenant.find_user(p.mail)["id"] for p in org.people if tenant.find_user(p.mail)}


def one(org: Organisation, tag: str) -> Person:
    people = org.planted(tag)
    assert people, tag
    return people[0]


def degrade(src: Path, dst: Path, **statuses: str) -> Path:
    """Copy a snapshot and mark sections as failed (as a collection refused by Google would)."""
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    doc = json.loads((dst / "manifest.json").read_text())
    for name, status in statuses.items():
        doc["sections"][name.replace("__", ".")] = {"status": status, "file": None, "count": 0,
                                                     "detail": f"{name} refused in test"}
    (dst / "manifest.json").write_text(json.dumps(doc))
    return dst


def test_every_table_has_its_schema(data: AuditData) -> None:
    for name, df in data.tables.items():
        assert list(df.columns) == list(SCHEMAS[name].columns), name
    assert data.provider == "google" and data.status["users"].availability is Availability.OK
    assert data.status["mfa_methods"].availability is Availability.MISSING
    assert "not which methods" in data.status["mfa_methods"].reason


def test_users(org: Organisation, data: AuditData, gid: dict[str, str]) -> None:
    users = data.tables["users"].set_index("user_id")
    assert len(users) == len([p for p in org.people if p.kind not in ("guest", "room")])
    leaver = one(org, "disabled_leaver")
    assert not users.loc[gid[leaver.id], "enabled"]
    never = one(org, "never_signed_in")
    assert pd.isna(users.loc[gid[never.id], "last_sign_in"]) and users.loc[gid[never.id], "sign_in_known"]
    no_mailbox = next(p for p in org.people if not p.has_mailbox and p.enabled and p.kind != "room")
    assert users.loc[gid[no_mailbox.id], "mailbox"] == "none"
    assert users.loc[gid[leaver.id], "org_unit"] == leaver.org_unit


def test_forwarding_and_filters(org: Organisation, data: AuditData, gid: dict[str, str]) -> None:
    fwd = data.tables["forwarding"]
    victim = one(org, "compromised")
    mine = fwd[fwd["user_id"] == gid[victim.id]]
    assert list(mine["mechanism"]) == ["gmail_filter_forward"]
    assert mine.iloc[0]["recipient_domain"] in ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com")
    rules = data.tables["mail_rules"]
    hiding = rules[(rules["user_id"] == gid[victim.id]) & rules["hides_mail"]]
    assert len(hiding) == 1 and "invoice" in hiding.iloc[0]["conditions"]
    assert hiding.iloc[0]["source"] == "gmail_filter"
    auto = one(org, "mailbox_forward_external")
    row = fwd[fwd["user_id"] == gid[auto.id]].iloc[0]
    assert row["mechanism"] == "gmail_auto_forward" and row["keeps_copy"]
    assert row["recipient"] == auto.mailbox_forward.address  # type: ignore[union-attr]
    off = one(org, "disabled_forward_rule")  # Gmail filters cannot be disabled: the rule does not exist there
    assert fwd[fwd["user_id"] == gid[off.id]].empty


def test_roles(org: Organisation, data: AuditData, gid: dict[str, str]) -> None:
    roles = data.tables["role_assignments"]
    supers = set(roles.loc[roles["role_name"] == "Super Admin", "user_id"])
    expected = {gid[p.id] for p in org.people if any(h.role == "Global Administrator" and h.assignment == "active"
                                                      for h in p.roles)}
    assert supers == expected and len(expected) >= 7  # five planted global admins and two break-glass
    assert roles.loc[roles["role_name"] == "Super Admin", "privileged"].all()
    # the Help Desk role is held through the group "IT Helpdesk Admins": its members hold it, named by the group
    helpdesk = roles[roles["via_group"].astype(str).str.startswith("ithelpdeskadmins@")]
    members = {gid[pid] for pid in org.group_named("IT Helpdesk Admins").member_ids}
    assert set(helpdesk["user_id"]) == members and len(members) >= 2 and helpdesk["privileged"].all()
    assert data.status["role_assignments"].availability is Availability.OK


def test_mfa_registration_and_enforcement(org: Organisation, data: AuditData, gid: dict[str, str]) -> None:
    reg = data.tables["mfa_registration"].set_index("user_id")
    for p in org.planted("no_mfa"):
        if p.id in gid:
            assert not reg.loc[gid[p.id], "registered"]
    enf = data.tables["mfa_enforcement"].set_index("user_id")
    people = {p.id: p for p in org.people if p.id in gid and p.enabled}
    assert set(enf.index) == {gid[i] for i in people}
    excluded = set(org.transitive_member_ids(org.group_named("MFA Exclusions").id))  # group policy: 2SV off
    assert excluded & set(people)
    for pid, p in people.items():
        row = enf.loc[gid[pid]]
        if pid in excluded:
            assert row["enforced"] == "no" and "mfaexclusions@" in row["reason"], row.to_dict()
        elif p.org_unit == "/Administration/Front Desk":
            assert row["enforced"] == "no" and "/Administration/Front Desk" in row["reason"]
        elif p.org_unit == "/Clinical/Surgery":
            assert row["enforced"] == "no" and "only starts on" in row["reason"]
        elif p.org_unit == "/Administration/IT":
            assert row["enforced"] == "yes" and row["phishing_resistant"] == "yes"
            assert reg.loc[gid[pid], "strongest"] in ("phishing_resistant", "none")
        else:
            assert row["enforced"] == "yes" and "OU /" in row["enforced_by"] and row["phishing_resistant"] == "no"


def test_oauth_grants(org: Organisation, data: AuditData, gid: dict[str, str]) -> None:
    grants = data.tables["oauth_grants"]
    docs = grants[grants["app_name"] == "SecureDocs Viewer"]
    holders = {gid[p.id] for p in org.planted("consented_unverified_app") if p.id in gid}
    assert set(docs["user_id"]) == holders
    assert set(docs.loc[docs["scope"] == "https://mail.google.com/", "user_id"]) == holders
    assert (grants["consent_scope"] == "single_user").all() and (grants["resource"] == "google").all()


def test_tenant_settings(data: AuditData) -> None:
    assert data.setting("external_auto_forwarding") == "on"
    assert data.setting("user_consent") == "off"  # blocked at the root, allowed again in one child OU
    assert data.setting("google_allowed_factors") == "ALL"
    assert data.setting("google_less_secure_apps") == "false"
    assert data.setting("google_less_secure_apps_ous") == "/Clinical/Sterile Processing"
    assert "/Administration/IT" not in data.setting("google_telephony_ous").split("; ")
    assert "Policy API" in data.settings_source("external_auto_forwarding")
    assert set(data.tables["domains"]["domain"]) == {"riversidesurgery.org", "riversidesurgerycenter.com"}


def test_tokens_forbidden_falls_back_to_authorize_events(snap_dir: Path, data: AuditData, tmp_path: Path) -> None:
    degraded = normalise(load_snapshot(degrade(snap_dir, tmp_path / "d", tokens="forbidden")))
    st = degraded.status["oauth_grants"]
    assert st.availability is Availability.PARTIAL and "six months" in st.reason and "forbidden" in st.reason
    key = ["user_id", "app_id", "scope"]
    full = set(map(tuple, data.tables["oauth_grants"][key].to_numpy()))
    fallback = set(map(tuple, degraded.tables["oauth_grants"][key].to_numpy()))
    assert fallback == full  # every token was authorised within the report window


def test_policies_forbidden_uses_directory_flag_and_leaves_settings_unknown(snap_dir: Path, tmp_path: Path) -> None:
    degraded = normalise(load_snapshot(degrade(snap_dir, tmp_path / "p", policies="forbidden")))
    enf = degraded.tables["mfa_enforcement"]
    assert set(enf["enforced"]) == {"yes", "no"}
    assert enf.loc[enf["enforced"] == "no", "reason"].str.contains("policies refused in test").all()
    assert (enf["phishing_resistant"] == "unknown").all()
    assert degraded.status["tenant_settings"].availability is Availability.MISSING
    assert "policies refused in test" in degraded.setting_gaps["external_auto_forwarding"]


def test_gmail_failures_make_forwarding_missing_or_partial(snap_dir: Path, tmp_path: Path) -> None:
    gone = normalise(load_snapshot(degrade(snap_dir, tmp_path / "g", gmail__filters="forbidden")))
    assert gone.status["forwarding"].availability is Availability.MISSING
    assert gone.status["mail_rules"].availability is Availability.MISSING
    part_dir = degrade(snap_dir, tmp_path / "h")
    doc = json.loads((part_dir / "manifest.json").read_text())
    doc["sections"]["gmail.autoForwarding"]["failed_subjects"] = {"123": "HTTP 500 backendError"}
    (part_dir / "manifest.json").write_text(json.dumps(doc))
    partial = normalise(load_snapshot(part_dir))
    st = partial.status["forwarding"]
    assert st.availability is Availability.PARTIAL and "500" in st.missing_subjects["123"]
