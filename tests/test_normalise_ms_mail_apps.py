"""Microsoft normaliser: mail rules and forwarding, OAuth grants, domains, tenant settings, CA policy table.

Raw JSON from tests/ms_raw.py, written to disk as a snapshot and loaded back.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from idaudit.core.tables import AuditData, Availability
from tests.ms_raw import ADA, APP_SP, BEN, CARA, SHARED, raw_tenant
from tests.ms_raw import write_snapshot as snap


@pytest.fixture
def data(tmp_path: Path) -> AuditData:
    return normalise(snap(tmp_path / "s"))


def _rule(data: AuditData, rule_id: str) -> pd.Series:
    rules = data.table("mail_rules")
    return rules[rules["rule_id"] == rule_id].iloc[0]


def test_inbox_rules(data: AuditData) -> None:
    rules = data.table("mail_rules")
    assert set(rules["rule_id"]) == {"r1", "r2", "r3", "r4"} and set(rules["source"]) == {"inbox_rule"}
    r1 = _rule(data, "r1")
    assert bool(r1["forwards"]) and bool(r1["hides_mail"])
    assert r1["hide_action"] == "mark_read"  # the RSS folder's id is opaque; markAsRead still hides
    assert r1["conditions"] == "bodyOrSubjectContains: invoice, payment"
    assert "forwardTo" in r1["actions"] and "markAsRead" in r1["actions"]
    r2 = _rule(data, "r2")  # moves to the mailbox's own archive folder (id from mailboxSettings.archiveFolder)
    assert r2["hide_action"] == "move_to:Archive" and not bool(r2["forwards"])
    assert r2["conditions"] == "fromAddresses: news@vendor.example"
    assert r2["actions"] == "moveToFolder: Archive"
    r3 = _rule(data, "r3")
    assert r3["hide_action"] == "permanent_delete" and not bool(r3["enabled"])
    r4 = _rule(data, "r4")  # an ordinary folder: not hiding
    assert not bool(r4["hides_mail"]) and r4["hide_action"] == ""


def test_forwarding_rows(data: AuditData) -> None:
    fwd = data.table("forwarding")
    got = {(r.user_id, r.mechanism, r.recipient, r.recipient_domain, bool(r.enabled)) for r in fwd.itertuples()}
    assert got == {
        (BEN, "inbox_rule_forward", "Ben.Private@FreeMail.example", "freemail.example", True),
        (BEN, "inbox_rule_redirect", "ben@home.example", "home.example", False),
        (BEN, "inbox_rule_forward_attachment", "scan@partner.example", "partner.example", False),
        (CARA, "mailbox_forwarding", "Cara@Gmail.example", "gmail.example", True),
        # ForwardingAddress names a mail contact: resolved to its external address (exchange.recipients)
        (SHARED, "mailbox_forwarding", "ar@billing-vendor.example", "billing-vendor.example", True),
        ("", "transport_rule", "audit@Outside.example", "outside.example", True),
        ("", "transport_rule", "x@elsewhere.example", "elsewhere.example", False),
    }
    cara = fwd[fwd["mechanism"] == "mailbox_forwarding"].set_index("user_id")
    assert bool(cara.loc[CARA, "keeps_copy"]) and not bool(cara.loc[SHARED, "keeps_copy"])
    tr = fwd[fwd["mechanism"] == "transport_rule"].set_index("rule_id")
    assert tr.loc["tr-1", "rule_name"] == "Copy billing" and bool(tr.loc["tr-1", "keeps_copy"])
    assert not bool(tr.loc["tr-2", "keeps_copy"])  # a redirect does not deliver to the original recipient


def test_inbox_rules_partial_by_failed_subjects(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", failed_subjects={"inboxRules": {CARA: "error: 503 after 3 retries"}}))
    for name in ("mail_rules", "forwarding"):
        st = d.status[name]
        assert st.availability is Availability.PARTIAL, name
        assert st.missing_subjects == {CARA: "inboxRules: error: 503 after 3 retries"}
    assert "r4" not in set(d.table("mail_rules")["rule_id"])


def test_inbox_rules_forbidden(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"inboxRules": (SectionStatus.FORBIDDEN, "403 ErrorAccessDenied")}))
    assert d.status["mail_rules"].availability is Availability.MISSING
    assert "MailboxSettings.Read" in d.status["mail_rules"].reason
    st = d.status["forwarding"]
    assert st.availability is Availability.PARTIAL and "inbox rules not collected" in st.reason
    assert set(d.table("forwarding")["mechanism"]) == {"mailbox_forwarding", "transport_rule"}
    d2 = normalise(snap(tmp_path / "s2", fail={n: (SectionStatus.FORBIDDEN, "403") for n in
                                               ("inboxRules", "exchange.mailboxes", "exchange.transportRules")}))
    assert d2.status["forwarding"].availability is Availability.MISSING


def test_oauth_grants(data: AuditData) -> None:
    g = data.table("oauth_grants")
    delegated = g[g["grant_kind"] == "delegated"]
    g1 = delegated[delegated["grant_id"] == "g1"]
    assert list(g1["scope"]) == ["Mail.Read", "offline_access", "User.Read"]
    first = g1.iloc[0]
    assert (first["app_id"], first["app_name"], first["app_owner"], first["consent_scope"], first["user_id"]) == \
        ("app-secure-docs", "Secure Docs Viewer", "third_party", "single_user", BEN)
    assert not bool(first["publisher_verified"]) and first["publisher"] == "SD Ltd"
    assert first["resource"] == "Microsoft Graph"
    g2 = delegated[delegated["grant_id"] == "g2"].iloc[0]
    assert (g2["app_owner"], g2["consent_scope"], g2["user_id"], bool(g2["publisher_verified"])) == \
        ("own_org", "all_users", "", True)
    assert g2["publisher"] == "Riverside Clinic"
    assert delegated[delegated["grant_id"] == "g3"].iloc[0]["app_owner"] == "first_party"
    app = g[g["grant_kind"] == "application"]
    assert len(app) == 1  # default-access and user assignments are not permissions of an app
    a = app.iloc[0]
    assert (a["scope"], a["app_name"], a["consent_scope"], a["resource"]) == \
        ("Mail.Read", "Secure Docs Viewer", "application", "Microsoft Graph")


def test_oauth_without_service_principals(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"servicePrincipals": (SectionStatus.FORBIDDEN, "403")}))
    st = d.status["oauth_grants"]
    assert st.availability is Availability.PARTIAL and "app publishers unknown" in st.reason
    g = d.table("oauth_grants")
    first = g[g["grant_id"] == "g1"].iloc[0]
    assert first["app_id"] == APP_SP and first["app_owner"] == "unknown" and pd.isna(first["publisher_verified"])


def test_domains(data: AuditData) -> None:
    dom = data.table("domains").set_index("domain")
    assert list(dom.index) == ["clinic.example", "clinic.onmicrosoft.com", "pending.example"]
    assert bool(dom.loc["clinic.example", "default"]) and not bool(dom.loc["pending.example", "verified"])


def test_tenant_settings(data: AuditData) -> None:
    assert data.setting("security_defaults_enabled") == "false"
    assert data.setting("user_consent") == "any_app"  # compared case-insensitively
    assert data.setting("guest_invites_from") == "everyone"
    assert data.setting("guest_user_role") == "guest"
    assert data.setting("external_auto_forwarding") == "automatic"  # the default policy, not the custom one
    assert data.setting("remote_domain_default_auto_forward") == "false"
    assert (data.setting("sms_sign_in_enabled"), data.setting("voice_enabled"), data.setting("email_otp_enabled")) \
        == ("true", "false", "true")
    assert data.setting("legacy_auth_blocked") == "false"
    assert data.settings_source("user_consent") == "authorizationPolicy"


@pytest.mark.parametrize(("assigned", "expected"), [
    (["ManagePermissionGrantsForSelf.microsoft-user-default-low"], "verified_publishers_low_risk"),
    (["ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat"], "off"),
    ([], "off"),
    (["managepermissiongrantsforself.MICROSOFT-USER-DEFAULT-LEGACY"], "any_app"),
    (["ManagePermissionGrantsForSelf.custom-policy"], "custom:ManagePermissionGrantsForSelf.custom-policy"),
])
def test_user_consent_values(tmp_path: Path, assigned: list[str], expected: str) -> None:
    raw = raw_tenant()
    raw["authorizationPolicy"]["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"] = assigned
    raw["authorizationPolicy"]["guestUserRoleId"] = "2af84b1e-32c8-42b7-82bc-daa82404023b"
    d = normalise(snap(tmp_path / "s", raw))
    assert d.setting("user_consent") == expected
    assert d.setting("guest_user_role") == "restricted_guest"


def test_setting_gaps_name_the_section(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={
        "authorizationPolicy": (SectionStatus.FORBIDDEN, "403 Authorization_RequestDenied"),
        "exchange.outboundSpamPolicies": (SectionStatus.ERROR, "timeout after 3 retries")}))
    for key in ("user_consent", "guest_invites_from", "guest_user_role"):
        assert "authorizationPolicy: forbidden" in d.setting_gaps[key]
        assert "Policy.Read.All" in d.setting_gaps[key]
    assert "timeout" in d.setting_gaps["external_auto_forwarding"]
    assert d.setting("security_defaults_enabled") == "false"


def test_legacy_block_and_ca_table(tmp_path: Path) -> None:
    raw = raw_tenant()
    block = {"id": "ca-legacy", "displayName": "Block legacy", "state": "enabled",
             "conditions": {"clientAppTypes": ["exchangeActiveSync", "other"],
                            "applications": {"includeApplications": ["All"], "excludeApplications": []},
                            "users": {"includeUsers": ["All"], "excludeGroups": ["break-glass"]}},
             "grantControls": {"operator": "OR", "builtInControls": ["block"]}}
    raw["conditionalAccessPolicies"].append(block)
    d = normalise(snap(tmp_path / "s", raw))
    assert d.setting("legacy_auth_blocked") == "false"  # not for all users: the break-glass group is excluded
    ca = d.table("conditional_access").set_index("policy_id")
    assert bool(ca.loc["ca-legacy", "blocks"]) and bool(ca.loc["ca-legacy", "targets_legacy_clients"])
    assert not bool(ca.loc["ca-legacy", "requires_mfa"])
    assert "limited to Exchange ActiveSync and other (legacy) client sign-ins" in ca.loc["ca-legacy", "summary"]
    mfa = ca.loc["ca-Require MFA for all"]
    assert bool(mfa["requires_mfa"]) and bool(mfa["all_users"]) and bool(mfa["all_apps"])
    assert mfa["summary"] == "requires MFA for All users minus 1 exclusion(s) on all resources"
    block["conditions"]["users"]["excludeGroups"] = []
    assert normalise(snap(tmp_path / "s1", raw)).setting("legacy_auth_blocked") == "true"
    block["conditions"]["locations"] = {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}
    assert normalise(snap(tmp_path / "s3", raw)).setting("legacy_auth_blocked") == "false"  # narrowed
    block["conditions"]["locations"] = None
    block["state"] = "enabledForReportingButNotEnforced"
    assert normalise(snap(tmp_path / "s2", raw)).setting("legacy_auth_blocked") == "false"


def test_ada_has_no_forwarding(data: AuditData) -> None:
    assert ADA not in set(data.table("forwarding")["user_id"])


def test_forwarding_exceptions(tmp_path: Path, data: AuditData) -> None:
    assert data.setting("external_auto_forwarding_exceptions") == "Custom (no enabled rule: applies to nobody)"
    raw = raw_tenant()
    raw["exchange.outboundSpamRules"] = [
        {"Identity": "r", "Name": "r", "HostedOutboundSpamFilterPolicy": "Custom", "State": "Enabled",
         "From": ["billing@clinic.example"], "FromMemberOf": None, "SenderDomainIs": None}]
    d = normalise(snap(tmp_path / "x", raw))
    assert d.setting("external_auto_forwarding_exceptions") == "Custom (billing@clinic.example)"
    d = normalise(snap(tmp_path / "y", fail={"exchange.outboundSpamRules": (SectionStatus.FORBIDDEN, "403")}))
    assert "exchange.outboundSpamRules: forbidden" in d.setting_gaps["external_auto_forwarding_exceptions"]
    assert d.setting("external_auto_forwarding") == "automatic"


def test_rule_exceptions_are_part_of_the_conditions(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["inboxRules"][CARA][0]["exceptions"] = {"fromAddresses": [{"emailAddress": {"address": "boss@clinic.example"}}]}
    d = normalise(snap(tmp_path / "s", raw))
    assert _rule(d, "r4")["conditions"] == "subjectContains: project; except fromAddresses: boss@clinic.example"
    assert _rule(d, "r4")["actions"].startswith("moveToFolder: folder id AAMkADSomeOt")


# ---- rule folders named from the inboxRuleFolders section (Mail.ReadBasic.All) ---------------------------------

PROJECTS_ID = "AAMkADSomeOtherFolder000000000000000000000="


def _with_folders(folders: dict[str, object]) -> dict[str, object]:
    raw = raw_tenant()
    raw["inboxRuleFolders"] = folders
    return raw


def _folder(fid: str, name: str, well_known: str | None = None, hidden: bool = False) -> dict[str, object]:
    return {"id": fid, "displayName": name, "parentFolderId": "AAMkADRoot=", "isHidden": hidden,
            "wellKnownName": well_known}


def test_rule_folder_named_rss_feeds_hides_mail(tmp_path: Path) -> None:
    from tests.ms_raw import RSS_ID

    raw = _with_folders({BEN: {RSS_ID: _folder(RSS_ID, "RSS Feeds")},
                         CARA: {PROJECTS_ID: _folder(PROJECTS_ID, "Projects")}})
    data = normalise(snap(tmp_path / "s", raw))
    r1 = _rule(data, "r1")
    assert r1["hide_action"] == "move_to:RSS Feeds" and r1["target_folder"] == "RSS Feeds"
    assert r1["folder_unresolved"] == "" and "moveToFolder: RSS Feeds" in r1["actions"]
    r4 = _rule(data, "r4")  # an ordinary, visible folder: named, not hiding
    assert r4["target_folder"] == "Projects" and not bool(r4["hides_mail"]) and r4["folder_unresolved"] == ""
    assert not bool(r4["folder_hidden"])


def test_hidden_and_localised_well_known_folders_hide_mail(tmp_path: Path) -> None:
    from tests.ms_raw import RSS_ID

    raw = _with_folders({BEN: {RSS_ID: _folder(RSS_ID, "Historial de conversaciones", "conversationhistory")},
                         CARA: {PROJECTS_ID: _folder(PROJECTS_ID, "Projects", hidden=True)}})
    data = normalise(snap(tmp_path / "s", raw))
    r1 = _rule(data, "r1")  # the well-known name decides, whatever the mailbox's language
    assert r1["hide_action"] == "move_to:Conversation History"
    assert r1["target_folder"] == "Historial de conversaciones"
    r4 = _rule(data, "r4")
    assert bool(r4["hides_mail"]) and r4["hide_action"] == "move_to:Projects" and bool(r4["folder_hidden"])
    assert "Projects (hidden folder)" in r4["actions"]


def test_rule_folder_not_granted_keeps_the_reason_and_the_permission(tmp_path: Path) -> None:
    raw = _with_folders({})
    data = normalise(snap(tmp_path / "s", raw, fail={"inboxRuleFolders": (
        SectionStatus.FORBIDDEN, "403 ErrorAccessDenied — grant Mail.ReadBasic.All (application)")}))
    r4 = _rule(data, "r4")
    assert not bool(r4["hides_mail"]) and r4["target_folder"] == ""
    assert "forbidden" in r4["folder_unresolved"] and "Mail.ReadBasic.All" in r4["folder_unresolved"]
    r1 = _rule(data, "r1")  # still hides through markAsRead; its folder stays unnamed
    assert r1["hide_action"] == "mark_read" and "Mail.ReadBasic.All" in r1["folder_unresolved"]
    r2 = _rule(data, "r2")  # the archive folder is named from mailboxSettings without the section
    assert r2["hide_action"] == "move_to:Archive" and r2["folder_unresolved"] == ""
    assert data.table("mail_rules").shape[0] == 4  # the table itself is complete: only folder names are missing


def test_rule_folder_gone_failed_or_absent(tmp_path: Path) -> None:
    from tests.ms_raw import RSS_ID

    raw = _with_folders({CARA: {PROJECTS_ID: None}})
    data = normalise(snap(tmp_path / "a", raw, failed_subjects={"inboxRuleFolders": {BEN: "error: 503 timeout"}}))
    assert "does not exist" in _rule(data, "r4")["folder_unresolved"]
    assert "lookup failed" in _rule(data, "r1")["folder_unresolved"]
    assert "503" in _rule(data, "r1")["folder_unresolved"]
    old = normalise(snap(tmp_path / "b"))  # a snapshot written before the section existed
    assert "not collected" in _rule(old, "r4")["folder_unresolved"]
    assert "Mail.ReadBasic.All" in _rule(old, "r4")["folder_unresolved"]
    assert RSS_ID not in _rule(old, "r1")["actions"]  # the opaque id is shortened, never shown whole
