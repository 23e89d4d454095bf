"""render_microsoft_snapshot writes a valid snapshot holding exactly what the simulator serves for the same
organisation: every section is crawled over HTTP here (paging, $batch, Exchange nextLinks) and compared."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.email_dns import DnsOptions, collect_email_auth
from idaudit.core.logwindow import (
    DIRECTORY_AUDIT_CATEGORIES,
    PURVIEW_OPERATIONS,
    PURVIEW_RECORD_TYPES,
    LogWindow,
    iso_z,
)
from idaudit.core.sections import MICROSOFT_SECTIONS
from idaudit.core.signin_aggregate import aggregate_sign_ins
from idaudit.core.snapshot import SectionStatus, load_snapshot
from simulator import build_organisation, render_microsoft_snapshot
from simulator.microsoft.simulator import MicrosoftSimulator
from simulator.microsoft.snapshot import MAIL_SECURITY_SECTIONS, SP_SELECT, USER_SELECT
from simulator.org import Organisation
from tests.sim_ms_helpers import EXCHANGE, get, get_all, invoke, per_user, session, token

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(120, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def sim(org: Organisation) -> Iterator[MicrosoftSimulator]:
    with MicrosoftSimulator(org, throttle=False) as s:
        yield s


def _no_context(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "@odata.context"}


def crawl_logs(sim: MicrosoftSimulator, s: requests.Session, t: str) -> dict[str, Any]:
    """The log sections of the week before as_of, asked the way the connector asks (connectors/microsoft/logs.py)."""
    window = LogWindow.ending(AS_OF, 7)
    out: dict[str, Any] = {"directoryAudits": [], "riskyUsers": get_all(sim, s, t, "/v1.0/identityProtection/riskyUsers")}
    for category in DIRECTORY_AUDIT_CATEGORIES:
        out["directoryAudits"] += get_all(sim, s, t, "/v1.0/auditLogs/directoryAudits",
                                          **{"$filter": f"category eq '{category}' and "
                                                        f"{window.odata('activityDateTime')}"})
    out["signIns"] = aggregate_sign_ins(get_all(sim, s, t, "/beta/auditLogs/signIns", **{
        "$filter": f"{window.odata('createdDateTime')} and status/errorCode eq 0"}))
    out["riskDetections"] = get_all(sim, s, t, "/v1.0/identityProtection/riskDetections",
                                    **{"$filter": window.odata("activityDateTime")})
    h = {"Authorization": f"Bearer {t}"}
    q = s.post(f"{sim.graph_url}/v1.0/security/auditLog/queries", headers=h, timeout=10, json={
        "displayName": "crawl", "filterStartDateTime": iso_z(window.start), "filterEndDateTime": iso_z(window.end),
        "recordTypeFilters": list(PURVIEW_RECORD_TYPES), "operationFilters": list(PURVIEW_OPERATIONS)}).json()
    while get(sim, s, t, f"/v1.0/security/auditLog/queries/{q['id']}").json()["status"] != "succeeded":
        pass
    out["exchangeAuditRecords"] = get_all(sim, s, t, f"/v1.0/security/auditLog/queries/{q['id']}/records")
    return out


def crawl(sim: MicrosoftSimulator) -> dict[str, Any]:
    """Collect every section over HTTP the way the connector does (same $select, keys and groups)."""
    s = session(sim)
    t = token(sim, s)
    out: dict[str, Any] = {}
    for name, path in (("organization", "/v1.0/organization"), ("domains", "/v1.0/domains"),
                       ("subscribedSkus", "/v1.0/subscribedSkus"),
                       ("userRegistrationDetails", "/v1.0/reports/authenticationMethods/userRegistrationDetails"),
                       ("conditionalAccessPolicies", "/v1.0/identity/conditionalAccess/policies"),
                       ("roleDefinitions", "/beta/roleManagement/directory/roleDefinitions"),
                       ("roleEligibilities", "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances"),
                       ("oauth2PermissionGrants", "/v1.0/oauth2PermissionGrants")):
        out[name] = get_all(sim, s, t, path)
    out["users"] = get_all(sim, s, t, "/v1.0/users", **{"$select": ",".join((*USER_SELECT, "signInActivity")),
                                                         "$top": "500"})
    out["roleAssignments"] = get_all(sim, s, t, "/v1.0/roleManagement/directory/roleAssignments",
                                     **{"$expand": "principal"})
    out["servicePrincipals"] = get_all(sim, s, t, "/v1.0/servicePrincipals", **{"$select": ",".join(SP_SELECT)})
    for name, path in (("securityDefaults", "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy"),
                       ("authorizationPolicy", "/v1.0/policies/authorizationPolicy"),
                       ("authenticationMethodsPolicy", "/v1.0/policies/authenticationMethodsPolicy")):
        out[name] = _no_context(get(sim, s, t, path).json())
    ids = [u["id"] for u in out["users"]]
    req = per_user(sim, s, t, ids, "/users/{id}/authentication/requirements", version="beta")
    out["perUserMfaState"] = {u: _no_context(req[u]["body"]) for u in ids}
    for name, template in (("inboxRules", "/users/{id}/mailFolders/inbox/messageRules"),
                           ("mailboxSettings", "/users/{id}/mailboxSettings")):
        got = per_user(sim, s, t, ids, template)
        section: dict[str, Any] = {}
        for u in ids:
            inner = got[u]
            if inner["status"] == 404:
                assert inner["body"]["error"]["code"] in ("MailboxNotEnabledForRESTAPI", "ResourceNotFound")
                section[u] = None
            else:
                assert inner["status"] == 200
                section[u] = inner["body"]["value"] if name == "inboxRules" else _no_context(inner["body"])
        out[name] = section
    # the folders inbox rules file mail into, one direct GET each (beta, for wellKnownName)
    folders: dict[str, Any] = {}
    for u, rules in out["inboxRules"].items():
        archive = (out["mailboxSettings"][u] or {}).get("archiveFolder")  # named by mailboxSettings: not asked
        for rule in rules or []:
            for key in ("moveToFolder", "copyToFolder"):
                fid = rule["actions"].get(key)
                if fid and fid != archive and fid not in folders.get(u, {}):
                    r = get(sim, s, t, f"/beta/users/{u}/mailFolders/{fid}",
                            **{"$select": "id,displayName,parentFolderId,isHidden,wellKnownName"})
                    assert r.status_code in (200, 404), r.text
                    folders.setdefault(u, {})[fid] = _no_context(r.json()) if r.status_code == 200 else None
    out["inboxRuleFolders"] = folders
    groups: list[str] = []
    for pol in out["conditionalAccessPolicies"]:
        for gid in pol["conditions"]["users"]["includeGroups"] + pol["conditions"]["users"]["excludeGroups"]:
            if gid not in groups:
                groups.append(gid)
    for ra in out["roleAssignments"]:
        if ra["principal"]["@odata.type"] == "#microsoft.graph.group" and ra["principalId"] not in groups:
            groups.append(ra["principalId"])
    out["groups"] = [_no_context(get(sim, s, t, f"/v1.0/groups/{g}").json()) for g in groups]
    out["groupMembers"] = {g: get_all(sim, s, t, f"/v1.0/groups/{g}/transitiveMembers") for g in groups}
    resources = [sp["id"] for sp in out["servicePrincipals"]
                 if sp["appId"] in ("00000003-0000-0000-c000-000000000000", "00000002-0000-0ff1-ce00-000000000000")]
    out["appRoleAssignments"] = {r: get_all(sim, s, t, f"/v1.0/servicePrincipals/{r}/appRoleAssignedTo")
                                 for r in resources}
    sharepoint = [sp["id"] for sp in out["servicePrincipals"] if sp["appId"] == "00000003-0000-0ff1-ce00-000000000000"]
    out["sharePointAppRoleAssignments"] = {r: get_all(sim, s, t, f"/v1.0/servicePrincipals/{r}/appRoleAssignedTo")
                                           for r in sharepoint}
    out.update(crawl_logs(sim, s, t))
    et = token(sim, s, EXCHANGE)
    for name, cmdlet, params in (("exchange.mailboxes", "Get-Mailbox", {"ResultSize": "Unlimited"}),
                                 ("exchange.remoteDomains", "Get-RemoteDomain", {}),
                                 ("exchange.outboundSpamPolicies", "Get-HostedOutboundSpamFilterPolicy", {}),
                                 ("exchange.outboundSpamRules", "Get-HostedOutboundSpamFilterRule", {}),
                                 ("exchange.transportRules", "Get-TransportRule", {"ResultSize": "Unlimited"}),
                                 ("exchange.recipients", "Get-Recipient",
                                  {"RecipientTypeDetails": ["MailContact", "MailUser", "GuestMailUser"],
                                   "ResultSize": "Unlimited"}),
                                 *((n, c, {"ResultSize": "Unlimited"} if c == "Get-MailboxAuditBypassAssociation"
                                    else {}) for n, c in MAIL_SECURITY_SECTIONS)):
        out[name] = invoke(sim, s, et, cmdlet, page_size=50, **params)
    # the public DNS zone, asked over UDP/TCP with dnspython like the connector
    out["dns.emailAuth"] = asyncio.run(collect_email_auth(
        [d["DomainName"] for d in out["exchange.acceptedDomains"] if not d["DomainName"].endswith(".onmicrosoft.com")],
        DnsOptions(resolvers=(sim.dns_address,)), source="exchange.acceptedDomains"))
    return out


def test_rendered_snapshot_equals_what_the_simulator_serves(sim: MicrosoftSimulator, org: Organisation,
                                                            tmp_path: Path) -> None:
    snap = load_snapshot(render_microsoft_snapshot(org, tmp_path / "snap"))
    served = crawl(sim)
    assert snap.manifest.complete and snap.manifest.tenant_id == org.tenant_id
    assert snap.manifest.provider == "microsoft" and snap.manifest.tenant_name == org.name
    for name, data in served.items():
        assert snap.data(name) == data, f"section {name} differs from what the simulator serves"
    assert snap.section("signInActivity") is not None and snap.section("signInActivity").usable  # type: ignore[union-attr]
    expected = {s.name for s in MICROSOFT_SECTIONS} - {"authenticationMethods", "signInActivity"}
    assert set(served) == expected
    assert any(v is None for v in snap.data("inboxRules").values())  # users without a mailbox are null


def test_render_without_p1_marks_sections_unlicensed_and_falls_back(org: Organisation, tmp_path: Path) -> None:
    snap = load_snapshot(render_microsoft_snapshot(org, tmp_path / "snap", licences={"p1": False, "p2": False}))
    for name in ("signInActivity", "userRegistrationDetails", "conditionalAccessPolicies", "roleEligibilities"):
        rec = snap.section(name)
        assert rec is not None and rec.status is SectionStatus.UNLICENSED and rec.detail
        assert snap.data(name) is None
    methods = snap.data("authenticationMethods")
    assert set(methods) == {p.id for p in org.people}
    assert all("signInActivity" not in u for u in snap.data("users"))
    with MicrosoftSimulator(org, throttle=False, licences={"p1": False, "p2": False}) as sim:
        s: requests.Session = session(sim)
        t = token(sim, s)
        some = org.people[40].id
        served = get_all(sim, s, t, f"/v1.0/users/{some}/authentication/methods")
        assert served == methods[some]


def test_rendered_snapshot_files_are_owner_only(org: Organisation, tmp_path: Path) -> None:
    out = render_microsoft_snapshot(org, tmp_path / "snap")
    assert (out.stat().st_mode & 0o777) == 0o700
    assert all((f.stat().st_mode & 0o077) == 0 for f in out.iterdir())


def test_tenant_flags_reach_the_rendered_policies(tmp_path: Path) -> None:
    from simulator import TenantPolicy

    org = build_organisation(60, seed=2, as_of=AS_OF, policy=TenantPolicy(
        security_defaults=True, user_consent="off", sms_enabled=False, outbound_spam_autoforward="Off",
        remote_domain_autoforward=False, guest_invites="adminsAndGuestInviters"))
    snap = load_snapshot(render_microsoft_snapshot(org, tmp_path / "snap"))
    assert snap.data("securityDefaults")["isEnabled"] is True
    assert snap.data("conditionalAccessPolicies") == []  # CA cannot be used alongside security defaults
    auth = snap.data("authorizationPolicy")
    assert auth["allowInvitesFrom"] == "adminsAndGuestInviters"
    assert not [p for p in auth["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"]
                if p.startswith("ManagePermissionGrantsForSelf.")]
    sms = next(c for c in snap.data("authenticationMethodsPolicy")["authenticationMethodConfigurations"]
               if c["id"] == "Sms")
    assert sms["state"] == "disabled"
    sms_only = next(p for p in org.planted("admin_sms_only"))
    reg = next(r for r in snap.data("userRegistrationDetails") if r["id"] == sms_only.id)
    assert reg["isMfaRegistered"] is True and reg["isMfaCapable"] is False  # registered, but SMS is not allowed
    assert next(p for p in snap.data("exchange.outboundSpamPolicies") if p["IsDefault"])["AutoForwardingMode"] == "Off"
    assert next(d for d in snap.data("exchange.remoteDomains") if d["DomainName"] == "*")["AutoForwardEnabled"] is False


def test_simulator_and_renderer_follow_the_organisations_licence_flags(tmp_path: Path) -> None:
    from simulator import TenantPolicy

    org = build_organisation(60, seed=2, as_of=AS_OF, policy=TenantPolicy(p1=True, p2=False))
    snap = load_snapshot(render_microsoft_snapshot(org, tmp_path / "snap"))
    assert snap.section("roleEligibilities").status is SectionStatus.UNLICENSED  # type: ignore[union-attr]
    with MicrosoftSimulator(org, throttle=False) as sim:
        s = session(sim)
        r = get(sim, s, token(sim, s), "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances")
        assert r.status_code == 400 and r.json()["error"]["code"] == "AadPremiumLicenseRequired"
