"""The organisation's recent activity (simulator/activity.py) as Microsoft records it: Entra directory audit events,
sign-in log entries, Identity Protection risky users and risk detections, and Purview audit log records — shapes
from the Microsoft Graph v1.0 reference (directoryAudit, signIn, riskyUser, riskDetection, auditLogRecord) and the
Office 365 Management Activity API schema that auditData carries (CreationTime, Operation, ClientIP, Parameters).

Also the asynchronous audit log query (POST /security/auditLog/queries): its life cycle notStarted -> running ->
succeeded after a set number of status reads, or never (`stuck`), or failed (`fail`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator.activity import Activity, Change, RiskDetection, SignIn, build_activity
from simulator.microsoft.models import MicrosoftTenant
from simulator.microsoft.wire_ids import derived_id, iso
from simulator.org import Person

METHOD_TEXT = {  # "User registered <method>" as the Authentication Methods service words it
    "authenticator_push": "Authenticator App with Notification and Code", "sms": "Mobile Phone SMS",
    "software_otp": "Software OATH token", "fido2": "FIDO2 security key", "windows_hello": "Windows Hello",
    "authenticator_passwordless": "Authenticator App passwordless", "voice": "Office Phone",
}
PURVIEW_STATUSES = ("notStarted", "running", "succeeded", "failed", "cancelled", "unknownFutureValue")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class MicrosoftLogs:
    """Log records of one simulated tenant; built on first use (20,000 users: about a second)."""

    def __init__(self, tenant: MicrosoftTenant) -> None:
        self.tenant = tenant
        self.org = tenant.org

    @functools.cached_property
    def activity(self) -> Activity:
        return build_activity(self.org)

    def _person(self, pid: str) -> Person:
        return self.org.person(pid)

    def _user_ref(self, pid: str, ip: str) -> dict[str, Any]:
        p = self._person(pid)
        return {"id": p.id, "displayName": p.display_name, "userPrincipalName": self.tenant.upn(p),
                "ipAddress": ip}

    def _target_user(self, pid: str, modified: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        p = self._person(pid)
        return {"id": p.id, "displayName": p.display_name, "type": "User", "userPrincipalName": self.tenant.upn(p),
                "groupType": None, "modifiedProperties": modified or []}

    # ---- Entra directory audit log ----------------------------------------------------------------------------

    def _audit(self, c: Change, n: int) -> dict[str, Any] | None:
        base: dict[str, Any] = {
            "id": f"Directory_{derived_id(self.org.tenant_id, 'audit', str(n), c.kind)}",
            "activityDateTime": iso(c.time), "correlationId": derived_id("corr", str(n), c.kind),
            "result": "success", "resultReason": "", "additionalDetails": [],
            "initiatedBy": {"user": self._user_ref(c.actor_id, c.ip), "app": None},
        }
        if c.kind == "mfa_registered":
            text = METHOD_TEXT.get(c.method, c.method)
            return {**base, "category": "UserManagement", "activityDisplayName": "User registered security info",
                    "loggedByService": "Authentication Methods", "operationType": "Add",
                    "resultReason": f"User registered {text}", "targetResources": [self._target_user(c.target_id)]}
        if c.kind in ("password_changed", "password_reset"):
            name = "Change user password" if c.kind == "password_changed" else "Reset password"
            return {**base, "category": "UserManagement", "activityDisplayName": name,
                    "loggedByService": "Core Directory", "operationType": "Update",
                    "targetResources": [self._target_user(c.target_id)]}
        if c.kind == "role_added":
            return {**base, "category": "RoleManagement", "activityDisplayName": "Add member to role",
                    "loggedByService": "Core Directory", "operationType": "Assign",
                    "targetResources": [self._target_user(c.target_id, [
                        {"displayName": "Role.DisplayName", "oldValue": None, "newValue": f'"{c.role}"'}])]}
        if c.kind == "consent":
            app = next(a for a in self.org.apps if a.id == c.app_id)
            grant = (f"[] => [[Id: {derived_id('grant', app.object_id, c.target_id)}, ClientId: {app.object_id}, "
                     f"PrincipalId: {c.target_id}, ResourceId: {self.tenant.graph_sp_id}, ConsentType: Principal, "
                     f"Scope: {' '.join(c.scopes)}, CreatedDateTime: , LastModifiedDateTime ]]; ")
            modified = [{"displayName": "ConsentContext.IsAdminConsent", "oldValue": None, "newValue": '"False"'},
                        {"displayName": "ConsentContext.IsAppOnly", "oldValue": None, "newValue": '"False"'},
                        {"displayName": "ConsentContext.OnBehalfOfAll", "oldValue": None, "newValue": '"False"'},
                        {"displayName": "ConsentAction.Permissions", "oldValue": None, "newValue": f'"{grant}"'}]
            return {**base, "category": "ApplicationManagement", "activityDisplayName": "Consent to application",
                    "loggedByService": "Core Directory", "operationType": "Assign",
                    "additionalDetails": [{"key": "AppId", "value": app.id}],
                    "targetResources": [{"id": app.object_id, "displayName": app.name, "type": "ServicePrincipal",
                                         "userPrincipalName": None, "groupType": None,
                                         "modifiedProperties": modified}]}
        return None  # mailbox changes are in the Purview audit log, not here

    @functools.cached_property
    def directory_audits(self) -> list[dict[str, Any]]:
        """Newest first, as Graph returns them by default."""
        out = []
        for n, c in enumerate(self.activity.changes):
            rec = self._audit(c, n)
            if rec is not None:
                out.append(rec)
        return out

    # ---- sign-in log ------------------------------------------------------------------------------------------

    def _sign_in(self, s: SignIn, n: int) -> dict[str, Any]:
        p = self._person(s.person_id)
        p2 = self.tenant.p2
        hidden = "hidden"
        return {
            "id": derived_id(self.org.tenant_id, "signin", s.person_id, str(n)),
            "createdDateTime": iso(s.time), "userDisplayName": p.display_name,
            "userPrincipalName": self.tenant.upn(p), "userId": p.id,
            "appId": derived_id("app", s.app), "appDisplayName": s.app, "ipAddress": s.ip,
            "clientAppUsed": s.client_app, "correlationId": derived_id("signin-corr", s.person_id, str(n)),
            "conditionalAccessStatus": "success" if not s.single_factor else "notApplied", "isInteractive": True,
            "riskDetail": "none" if p2 else hidden, "riskLevelAggregated": s.risk_level if p2 else hidden,
            "riskLevelDuringSignIn": s.risk_level if p2 else hidden,
            "riskState": ("atRisk" if s.risk_level != "none" else "none") if p2 else "none",
            "riskEventTypes": [], "riskEventTypes_v2": [],
            "resourceDisplayName": "Office 365 Exchange Online", "resourceId": "00000002-0000-0ff1-ce00-000000000000",
            "status": {"errorCode": 0 if s.success else 50126, "failureReason": None if s.success else
                       "Invalid username or password or Invalid on-premise username or password.",
                       "additionalDetails": None},
            "deviceDetail": {"deviceId": "", "displayName": None, "operatingSystem": "Windows 10",
                             "browser": "Edge 120.0.0", "isCompliant": None, "isManaged": None, "trustType": None},
            "location": {"city": s.city, "state": s.state, "countryOrRegion": s.country,
                         "geoCoordinates": {"altitude": None, "latitude": None, "longitude": None}},
            "appliedConditionalAccessPolicies": [],
            "authenticationRequirement": "singleFactorAuthentication" if s.single_factor
            else "multiFactorAuthentication",
        }

    @functools.cached_property
    def sign_ins(self) -> list[dict[str, Any]]:
        return [self._sign_in(s, n) for n, s in enumerate(self.activity.sign_ins)]

    # ---- Identity Protection ----------------------------------------------------------------------------------

    @functools.cached_property
    def risky_users(self) -> list[dict[str, Any]]:
        out = []
        for r in self.activity.risky_users:
            p = self._person(r.person_id)
            out.append({"id": p.id, "isDeleted": False, "isProcessing": False,
                        "riskLastUpdatedDateTime": iso(r.updated), "riskLevel": r.level, "riskState": r.state,
                        "riskDetail": r.detail, "userDisplayName": p.display_name,
                        "userPrincipalName": self.tenant.upn(p)})
        return out

    def _detection(self, d: RiskDetection, n: int) -> dict[str, Any]:
        p = self._person(d.person_id)
        return {"id": derived_id(self.org.tenant_id, "risk", d.person_id, str(n)), "requestId": None,
                "correlationId": None, "riskEventType": d.event_type, "riskState": d.state, "riskLevel": d.level,
                "riskDetail": "none" if d.state == "atRisk" else "userPerformedSecuredPasswordReset",
                "source": "IdentityProtection", "detectionTimingType": d.timing, "activity": "signin",
                "tokenIssuerType": "AzureAD", "ipAddress": d.ip,
                "location": {"city": d.city, "state": None, "countryOrRegion": d.country,
                             "geoCoordinates": {"altitude": None, "latitude": None, "longitude": None}},
                "activityDateTime": iso(d.time), "detectedDateTime": iso(d.time + timedelta(minutes=2)),
                "lastUpdatedDateTime": iso(d.time + timedelta(minutes=2)), "userId": p.id,
                "userDisplayName": p.display_name, "userPrincipalName": self.tenant.upn(p), "additionalInfo": "[]"}

    @functools.cached_property
    def risk_detections(self) -> list[dict[str, Any]]:
        return [self._detection(d, n) for n, d in enumerate(self.activity.risk_detections)]

    # ---- Purview audit log --------------------------------------------------------------------------------------

    def _purview(self, c: Change, n: int) -> dict[str, Any] | None:
        p = self._person(c.actor_id)
        target = self._person(c.target_id)
        upn = self.tenant.upn(p)
        mailbox = self.tenant.upn(target)
        if c.kind == "inbox_rule_created" or (c.kind == "inbox_rule_updated" and not c.via_outlook):
            op = "New-InboxRule" if c.kind == "inbox_rule_created" else "Set-InboxRule"
            params = [{"Name": "Mailbox", "Value": mailbox}, {"Name": "Name", "Value": c.rule_name}]
            if c.forward_to:
                params.append({"Name": "ForwardTo", "Value": c.forward_to})
            rule = next((r for r in target.inbox_rules if r.id == c.rule_id), None)
            if rule is not None and rule.actions.move_to_folder:
                params.append({"Name": "MoveToFolder", "Value": f":\\{rule.actions.move_to_folder}"})
            if rule is not None and rule.actions.mark_as_read:
                params.append({"Name": "MarkAsRead", "Value": "True"})
            if rule is not None and rule.conditions.body_or_subject_contains:
                params.append({"Name": "SubjectOrBodyContainsWords",
                               "Value": ";".join(rule.conditions.body_or_subject_contains)})
            kind, obj, record = "exchangeAdmin", f"{mailbox}\\{c.rule_name}", 1
        elif c.kind == "inbox_rule_updated":
            op, kind, obj, record = "UpdateInboxRules", "exchangeItem", mailbox, 2
            params = []
        elif c.kind == "mailbox_forwarding":
            op, kind, obj, record = "Set-Mailbox", "exchangeAdmin", mailbox, 1
            params = [{"Name": "Identity", "Value": mailbox},
                      {"Name": "ForwardingSmtpAddress", "Value": f"smtp:{c.forward_to}"},
                      {"Name": "DeliverToMailboxAndForward", "Value": "True"}]
        elif c.kind == "mailbox_permission":
            op, kind, obj, record = "Add-MailboxPermission", "exchangeAdmin", mailbox, 1
            params = [{"Name": "Identity", "Value": mailbox}, {"Name": "User", "Value": c.delegate_id},
                      {"Name": "AccessRights", "Value": "FullAccess"}]
        else:
            return None
        rid = derived_id(self.org.tenant_id, "purview", str(n), c.kind)
        data: dict[str, Any] = {
            "CreationTime": iso(c.time)[:-1], "Id": rid, "Operation": op, "OrganizationId": self.org.tenant_id,
            "RecordType": record, "ResultStatus": "True" if record == 1 else "Succeeded", "UserKey": p.id,
            "UserType": 0, "Version": 1, "Workload": "Exchange", "ClientIP": c.ip, "ObjectId": obj,
            "UserId": upn, "ExternalAccess": False, "OrganizationName": self.org.initial_domain,
            "OriginatingServer": "BN0PR04MB0000 (15.20.7000.000)",
        }
        if record == 1:
            data["Parameters"] = params
        else:
            data["MailboxOwnerUPN"] = mailbox
            data["OperationProperties"] = [{"Name": "RuleName", "Value": c.rule_name},
                                           {"Name": "RuleOperation", "Value": "ModifyRule"}]
        return {"id": rid, "createdDateTime": iso(c.time), "auditLogRecordType": kind, "operation": op,
                "organizationId": self.org.tenant_id, "userType": "regular", "userId": upn, "service": "Exchange",
                "objectId": obj, "userPrincipalName": upn, "clientIp": c.ip, "administrativeUnits": [],
                # the published schema: a derived auditData type whose record fields sit in dynamicProperties
                "auditData": {"@odata.type": "#microsoft.graph.security.exchangeAdminAuditRecord"
                              if kind == "exchangeAdmin" else "#microsoft.graph.security.exchangeMailboxAuditRecord",
                              "dynamicProperties": data}}

    @functools.cached_property
    def purview_records(self) -> list[dict[str, Any]]:
        out = []
        for n, c in enumerate(self.activity.changes):
            rec = self._purview(c, n)
            if rec is not None:
                out.append(rec)
        return out

    def purview_matching(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The records an audit log query selects: its time range, record types and operations."""
        start = parse_time(str(query["filterStartDateTime"]))
        end = parse_time(str(query["filterEndDateTime"]))
        types = {t.casefold() for t in query.get("recordTypeFilters") or []}
        ops = {o.casefold() for o in query.get("operationFilters") or []}
        out = []
        for r in self.purview_records:
            t = parse_time(r["createdDateTime"])
            if not start <= t <= end:
                continue
            if types and r["auditLogRecordType"].casefold() not in types:
                continue
            if ops and r["operation"].casefold() not in ops:
                continue
            out.append(r)
        return out


@dataclass
class AuditQueries:
    """The tenant's audit log queries and their life cycle (the simulator's state; knobs for the fault matrix).

    `polls_to_finish`: status reads before a query answers `succeeded`; `stuck`: queries never leave `running`;
    `fail`: they end `failed`; `limit_exceeded`: they succeed with isRecordCountLimitExceeded true.
    """

    polls_to_finish: int = 2
    stuck: bool = False
    fail: bool = False
    limit_exceeded: bool = False
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    submitted: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def create(self, body: Mapping[str, Any], tenant_id: str) -> dict[str, Any]:
        with self._lock:
            self.submitted += 1
            qid = derived_id(tenant_id, "auditquery", str(self.submitted))
            q = {"@odata.type": "#microsoft.graph.security.auditLogQuery", "id": qid,
                 "displayName": str(body.get("displayName") or ""),
                 "filterStartDateTime": body["filterStartDateTime"], "filterEndDateTime": body["filterEndDateTime"],
                 "recordTypeFilters": list(body.get("recordTypeFilters") or []),
                 "keywordFilter": body.get("keywordFilter"), "serviceFilters": list(body.get("serviceFilters") or []),
                 "operationFilters": list(body.get("operationFilters") or []),
                 "userPrincipalNameFilters": list(body.get("userPrincipalNameFilters") or []),
                 "ipAddressFilters": list(body.get("ipAddressFilters") or []),
                 "objectIdFilters": list(body.get("objectIdFilters") or []),
                 "administrativeUnitIdFilters": list(body.get("administrativeUnitIdFilters") or []),
                 "status": "notStarted", "approximateReturnedRecordCount": 0, "isRecordCountLimitExceeded": False,
                 "recordCountLimit": 1_000_000}
            self.queries[qid] = q
            self.polls[qid] = 0
            return dict(q)

    def read(self, qid: str, matching: int) -> dict[str, Any] | None:
        """One status read: advances the life cycle."""
        with self._lock:
            q = self.queries.get(qid)
            if q is None:
                return None
            self.polls[qid] += 1
            if q["status"] in ("notStarted", "running"):
                if self.stuck or self.polls[qid] < self.polls_to_finish:
                    q["status"] = "running"
                else:
                    q["status"] = "failed" if self.fail else "succeeded"
                    q["approximateReturnedRecordCount"] = 0 if self.fail else matching
                    q["isRecordCountLimitExceeded"] = self.limit_exceeded and not self.fail
            return dict(q)

    def status(self, qid: str) -> str | None:
        with self._lock:
            q = self.queries.get(qid)
            return None if q is None else str(q["status"])

    def open_queries(self) -> int:
        with self._lock:
            return sum(1 for q in self.queries.values() if q["status"] in ("notStarted", "running"))
