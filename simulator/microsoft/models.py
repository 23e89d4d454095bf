"""Tenant state of the Microsoft simulator: the organisation rendered into Graph objects, exactly as Graph returns
them (shapes from the Microsoft Graph v1.0/beta reference).

Objects are built once and cached; per-user objects (methods, rules, mailbox settings) are built on demand so a
100,000-user tenant starts instantly. The wire layer (responses.py) applies $select, paging and errors on top;
snapshot.py renders the same objects into a snapshot, so "what the server serves" and "what the snapshot holds"
come from one place.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from simulator.catalogue import ROLE_BY_NAME, ROLES
from simulator.microsoft import auth_methods, policies
from simulator.microsoft.exchange_objects import ExchangeObjects
from simulator.microsoft.wire_ids import (
    EXCHANGE_APP_ID,
    EXCHANGE_APP_ROLES,
    GRAPH_APP_ID,
    GRAPH_APP_ROLES,
    MICROSOFT_TENANT,
    SHAREPOINT_APP_ID,
    SHAREPOINT_APP_ROLE_NAMES,
    SKU_BUSINESS_PREMIUM,
    SKU_BUSINESS_STANDARD,
    SKU_ENTRA_P2,
    derived_id,
    exchange_app_role_id,
    folder_id,
    graph_app_role_id,
    iso,
    opaque_id,
    sharepoint_app_role_id,
)
from simulator.org import Group, InboxRule, Organisation, Person

# Outlook's default folders (display name -> Graph well-known name) and the other root-level folders it creates.
DEFAULT_FOLDERS: dict[str, str | None] = {
    "Inbox": "inbox", "Archive": "archive", "Deleted Items": "deleteditems", "Junk Email": "junkemail",
    "Sent Items": "sentitems", "Drafts": "drafts", "Outbox": "outbox", "Conversation History": "conversationhistory",
    "RSS Feeds": None,
}
SUCCESS_RECORDED_FROM = datetime(2023, 12, 1, tzinfo=UTC)  # signInActivity.lastSuccessfulSignInDateTime, not backfilled
ROOT_FOLDERS = frozenset({"RSS Feeds", "RSS Subscriptions"})

DEFAULT_USER_FIELDS = ("businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                       "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id")

# Our method vocabulary -> userRegistrationDetails.methodsRegistered values.
REGISTERED_NAME = {
    "sms": "mobilePhone", "voice": "officePhone", "email": "email",
    "authenticator_push": "microsoftAuthenticatorPush",
    "authenticator_passwordless": "microsoftAuthenticatorPasswordless",
    "software_otp": "softwareOneTimePasscode", "hardware_otp": "hardwareOneTimePasscode",
    "fido2": "fido2SecurityKey", "windows_hello": "windowsHelloForBusiness",
    "temporary_access_pass": "temporaryAccessPass", "passkey": "passKeyDeviceBound",
    "platform_credential": "macOsSecureEnclaveKey",
}
_MFA_CAPABLE = set(REGISTERED_NAME) - {"email", "temporary_access_pass"}
_PASSWORDLESS = {"authenticator_passwordless", "fido2", "windows_hello", "passkey", "platform_credential"}


def select(obj: Mapping[str, Any], fields: tuple[str, ...] | None, default: tuple[str, ...] | None = None
           ) -> dict[str, Any]:
    """Project an object on $select (or on the endpoint's default property set); unknown fields are omitted.

    "@odata.type" is kept because Graph keeps it on derived types.
    """
    keep = fields if fields is not None else default
    if keep is None:
        return dict(obj)
    out = {k: obj[k] for k in keep if k in obj}
    if "@odata.type" in obj:
        out = {"@odata.type": obj["@odata.type"], **out}
    return out


class MicrosoftTenant:
    """The organisation as Microsoft Graph sees it, with the tenant's licences (P1 / P2)."""

    def __init__(self, org: Organisation, licences: Mapping[str, bool] | None = None) -> None:
        self.org = org
        lic = dict(licences) if licences is not None else {"p1": org.policy.p1, "p2": org.policy.p2}
        self.p1 = bool(lic.get("p1", False))
        self.p2 = bool(lic.get("p2", False)) and self.p1
        self.audit = bool(lic.get("audit", True))  # Microsoft Purview Audit (Standard) licensed and turned on
        self.tenant_id = org.tenant_id
        self.main_sku = SKU_BUSINESS_PREMIUM if self.p1 else SKU_BUSINESS_STANDARD
        self.graph_sp_id = derived_id(org.tenant_id, "sp", GRAPH_APP_ID)
        self.exchange_sp_id = derived_id(org.tenant_id, "sp", EXCHANGE_APP_ID)
        self.sharepoint_sp_id = derived_id(org.tenant_id, "sp", SHAREPOINT_APP_ID)
        self.exchange = ExchangeObjects(org)
        self._people = {p.id: p for p in org.people}

    # ---- tenant -----------------------------------------------------------------------------------------------

    def person(self, user_id: str) -> Person | None:
        """A user by object id or, as Graph also accepts, by user principal name."""
        found = self._people.get(user_id)
        if found is None and "@" in user_id:
            return self._by_upn.get(user_id.lower())
        return found

    @functools.cached_property
    def _by_upn(self) -> dict[str, Person]:
        return {self.upn(p).lower(): p for p in self.org.people}

    @functools.cached_property
    def organization(self) -> list[dict[str, Any]]:
        o = self.org
        return [{
            "id": o.tenant_id, "deletedDateTime": None, "businessPhones": ["+1 614 555 0100"],
            "city": o.city, "country": None, "countryLetterCode": o.country, "createdDateTime": iso(o.created_at),
            "defaultUsageLocation": None, "displayName": o.name, "marketingNotificationEmails": [],
            "onPremisesLastSyncDateTime": iso(o.as_of), "onPremisesSyncEnabled": True,
            "postalCode": o.postal_code, "preferredLanguage": "en", "privacyProfile": None,
            "securityComplianceNotificationMails": [], "securityComplianceNotificationPhones": [],
            "state": o.state, "street": o.street, "technicalNotificationMails": [f"it@{o.domain}"],
            "tenantType": "AAD",
            "assignedPlans": [{"assignedDateTime": iso(o.created_at), "capabilityStatus": "Enabled",
                               "service": "AADPremiumService" if "AAD" in name else "exchange",
                               "servicePlanId": pid} for sku in self._skus() for pid, name in sku[2]],
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d == o.domain,
                                 "isInitial": d == o.initial_domain, "name": d,
                                 "type": "Managed"} for d in o.domains],
        }]

    @functools.cached_property
    def domains(self) -> list[dict[str, Any]]:
        o = self.org
        return [{"authenticationType": "Managed", "availabilityStatus": None, "id": d, "isAdminManaged": True,
                 "isDefault": d == o.domain, "isInitial": d == o.initial_domain, "isRoot": True, "isVerified": True,
                 "supportedServices": ["Email", "OfficeCommunicationsOnline"] if d != o.initial_domain else ["Email"],
                 "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
                 "state": None} for d in o.domains]

    def _skus(self) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
        return [self.main_sku, SKU_ENTRA_P2] if self.p2 else [self.main_sku]

    @functools.cached_property
    def subscribed_skus(self) -> list[dict[str, Any]]:
        licensed = sum(1 for p in self.org.people if p.licensed)
        out = []
        for sku_id, part, plans in self._skus():
            seats = licensed + 10
            out.append({
                "accountName": self.org.initial_domain.split(".")[0], "accountId": self.tenant_id,
                "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": licensed,
                "id": f"{self.tenant_id}_{sku_id}", "skuId": sku_id, "skuPartNumber": part,
                "subscriptionIds": [derived_id(self.tenant_id, "subscription", sku_id)],
                "prepaidUnits": {"enabled": seats, "suspended": 0, "warning": 0, "lockedOut": 0},
                "servicePlans": [{"servicePlanId": pid, "servicePlanName": name, "provisioningStatus": "Success",
                                  "appliesTo": "User"} for pid, name in plans],
            })
        return out

    # ---- users ------------------------------------------------------------------------------------------------

    def upn(self, p: Person) -> str:
        if p.is_guest:
            return f"{p.local_part}_{p.domain}#EXT#@{self.org.initial_domain}"
        return p.mail

    def _user(self, p: Person) -> dict[str, Any]:
        licences = []
        if p.licensed:
            licences.append({"disabledPlans": [], "skuId": self.main_sku[0]})
            if self.p2 and p.kind in ("admin", "break_glass"):
                licences.append({"disabledPlans": [], "skuId": SKU_ENTRA_P2[0]})
        sign_in = None
        if p.last_sign_in is not None or p.last_failed_sign_in is not None:
            # signInActivity: lastSignInDateTime is the last interactive *attempt* (a failed one included);
            # lastSuccessfulSignInDateTime exists since 2023-12-01 and is not backfilled (null before that)
            attempts = [t for t in (p.last_sign_in, p.last_failed_sign_in) if t is not None]
            success = p.last_sign_in if p.last_sign_in is not None and p.last_sign_in >= SUCCESS_RECORDED_FROM \
                else None
            failed_last = max(attempts) != p.last_sign_in
            t = iso(max(attempts))
            ok = iso(p.last_sign_in) if p.last_sign_in is not None else None
            sign_in = {"lastSignInDateTime": t,
                       "lastSignInRequestId": derived_id(p.id, "signin-failed" if failed_last else "signin"),
                       "lastNonInteractiveSignInDateTime": ok,
                       "lastNonInteractiveSignInRequestId": derived_id(p.id, "signin-ni") if ok else None,
                       "lastSuccessfulSignInDateTime": iso(success) if success else None,
                       "lastSuccessfulSignInRequestId": derived_id(p.id, "signin") if success else None}
        proxies = [f"SMTP:{p.mail}", *(f"smtp:{a}" for a in p.aliases)] if p.has_mailbox else []
        return {
            "businessPhones": [], "displayName": p.display_name, "givenName": p.given_name or None,
            "jobTitle": p.title or None, "mail": p.mail if (p.has_mailbox or p.is_guest) else None,
            "mobilePhone": p.mobile_phone or None, "officeLocation": None, "preferredLanguage": "en-US",
            "surname": p.surname or None, "userPrincipalName": self.upn(p), "id": p.id,
            "accountEnabled": p.enabled, "userType": "Guest" if p.is_guest else "Member",
            "createdDateTime": iso(p.created_at), "onPremisesSyncEnabled": True if p.on_prem_synced else None,
            "assignedLicenses": licences, "department": p.department or None, "companyName": None,
            "creationType": "Invitation" if p.is_guest else None,
            "externalUserState": "Accepted" if p.is_guest else None,
            "proxyAddresses": proxies, "usageLocation": "US" if p.licensed else None,
            "signInActivity": sign_in,
        }

    @functools.cached_property
    def users(self) -> list[dict[str, Any]]:
        """Every user with every property we serve (the wire layer projects on $select)."""
        return [self._user(p) for p in self.org.people]

    @functools.cached_property
    def user_index(self) -> dict[str, int]:
        return {u["id"]: i for i, u in enumerate(self.users)}

    def directory_object(self, p: Person) -> dict[str, Any]:
        """A user as it appears in an expanded principal or a members list (default properties + type)."""
        return {"@odata.type": "#microsoft.graph.user", **select(self.users[self.user_index[p.id]], DEFAULT_USER_FIELDS)}

    @functools.cached_property
    def registration_details(self) -> list[dict[str, Any]]:
        role_groups = [g for g in self.org.groups if g.roles]
        group_admins = {m for g in role_groups for m in self.org.transitive_member_ids(g.id)}
        # "capable" means registered AND allowed by the authentication methods policy
        pol = self.org.policy
        disallowed = {m for m, on in (("sms", pol.sms_enabled), ("voice", pol.voice_enabled)) if not on}
        out = []
        for p in self.org.people:
            methods = [REGISTERED_NAME[m] for m in p.mfa_methods if m in REGISTERED_NAME]
            mfa = any(m in _MFA_CAPABLE for m in p.mfa_methods)
            capable = any(m in _MFA_CAPABLE and m not in disallowed for m in p.mfa_methods)
            admin = p.id in group_admins or any(h.assignment == "active" for h in p.roles)
            preferred = ("push" if "authenticator_push" in p.mfa_methods else "sms" if "sms" in p.mfa_methods
                         else "oath" if "software_otp" in p.mfa_methods else "none")
            out.append({
                "id": p.id, "userPrincipalName": self.upn(p), "userDisplayName": p.display_name,
                "userType": "guest" if p.is_guest else "member", "isAdmin": admin,
                "isSsprRegistered": mfa, "isSsprEnabled": not p.is_guest, "isSsprCapable": mfa and not p.is_guest,
                "isMfaRegistered": mfa, "isMfaCapable": capable,
                "isPasswordlessCapable": any(m in _PASSWORDLESS for m in p.mfa_methods),
                "methodsRegistered": methods, "isSystemPreferredAuthenticationMethodEnabled": True,
                "systemPreferredAuthenticationMethods": ["Fido2"] if "fido2" in p.mfa_methods
                else ["PushNotification"] if "authenticator_push" in p.mfa_methods
                else ["Sms"] if "sms" in p.mfa_methods else [],
                "userPreferredMethodForSecondaryAuthentication": preferred,
                "lastUpdatedDateTime": iso(self.org.as_of),
            })
        return out

    def authentication_methods(self, user_id: str) -> list[dict[str, Any]] | None:
        p = self.person(user_id)
        return None if p is None else auth_methods.authentication_methods(p)

    def per_user_mfa(self, user_id: str) -> dict[str, Any] | None:
        p = self.person(user_id)
        if p is None:
            return None
        return {"perUserMfaState": p.per_user_mfa}

    # ---- mail -------------------------------------------------------------------------------------------------

    def _recipients(self, addresses: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{"emailAddress": {"name": a, "address": a}} for a in addresses]

    def _rule(self, p: Person, r: InboxRule) -> dict[str, Any]:
        c, a = r.conditions, r.actions
        cond: dict[str, Any] = {}
        if c.subject_contains:
            cond["subjectContains"] = list(c.subject_contains)
        if c.body_or_subject_contains:
            cond["bodyOrSubjectContains"] = list(c.body_or_subject_contains)
        if c.from_addresses:
            cond["fromAddresses"] = self._recipients(c.from_addresses)
        act: dict[str, Any] = {}
        if a.move_to_folder:
            act["moveToFolder"] = folder_id(p.id, a.move_to_folder)
        if a.forward_to:
            act["forwardTo"] = self._recipients(a.forward_to)
        if a.forward_as_attachment_to:
            act["forwardAsAttachmentTo"] = self._recipients(a.forward_as_attachment_to)
        if a.redirect_to:
            act["redirectTo"] = self._recipients(a.redirect_to)
        if a.mark_as_read:
            act["markAsRead"] = True
        if a.delete:
            act["delete"] = True
        if a.permanent_delete:
            act["permanentDelete"] = True
        act["stopProcessingRules"] = a.stop_processing
        return {"id": r.id, "displayName": r.name, "sequence": r.sequence, "isEnabled": r.enabled,
                "hasError": False, "isReadOnly": False, "conditions": cond, "actions": act}

    def inbox_rules(self, user_id: str) -> list[dict[str, Any]] | None:
        """None when the user has no Exchange Online mailbox (Graph answers 404 MailboxNotEnabledForRESTAPI)."""
        p = self.person(user_id)
        if p is None or not p.has_mailbox:
            return None
        return [self._rule(p, r) for r in p.inbox_rules]

    def _folders(self, p: Person) -> dict[str, dict[str, Any]]:
        """The mailbox's default folders plus every folder its rules file mail into, by opaque id (beta shape:
        wellKnownName is set on Outlook's default folders only, null elsewhere; v1.0 drops it)."""
        root = folder_id(p.id, "msgfolderroot")
        inbox = folder_id(p.id, "Inbox")
        names = dict(DEFAULT_FOLDERS)
        for r in p.inbox_rules:
            if r.actions.move_to_folder and r.actions.move_to_folder not in names:
                names[r.actions.move_to_folder] = None
        out: dict[str, dict[str, Any]] = {}
        for name, well_known in names.items():
            fid = folder_id(p.id, name)
            out[fid] = {"id": fid, "displayName": name,
                        "parentFolderId": root if well_known or name in ROOT_FOLDERS else inbox,
                        "childFolderCount": 0, "unreadItemCount": 0, "totalItemCount": 0, "isHidden": False,
                        "wellKnownName": well_known}
        return out

    def mail_folder(self, user_id: str, folder: str) -> dict[str, Any] | None:
        """One mail folder of a user's mailbox by id; None when there is no such folder."""
        p = self.person(user_id)
        if p is None or not p.has_mailbox:
            return None
        folders = self._folders(p)
        by_name = {str(f["wellKnownName"]): fid for fid, f in folders.items() if f["wellKnownName"]}
        return folders.get(by_name.get(folder.casefold(), folder))

    def rule_folders(self, user_id: str) -> dict[str, dict[str, Any] | None] | None:
        """{folder id: folder (beta shape)} for the folders the user's inbox rules move or copy mail to, except the
        archive folder mailboxSettings names; None when there is none (the connector asks nothing for that user)."""
        rules = self.inbox_rules(user_id) or []
        archive = (self.mailbox_settings(user_id) or {}).get("archiveFolder")  # named by mailboxSettings already
        ids = [str(r["actions"][k]) for r in rules for k in ("moveToFolder", "copyToFolder")
               if r["actions"].get(k) and r["actions"][k] != archive]
        if not ids:
            return None
        return {fid: self.mail_folder(user_id, fid) for fid in dict.fromkeys(ids)}

    def mailbox_settings(self, user_id: str) -> dict[str, Any] | None:
        p = self.person(user_id)
        if p is None or not p.has_mailbox:
            return None
        day = {"dateTime": iso(self.org.as_of), "timeZone": "UTC"}
        return {
            "archiveFolder": folder_id(p.id, "Archive"), "timeZone": "Eastern Standard Time",
            "automaticRepliesSetting": {"status": "disabled", "externalAudience": "all", "internalReplyMessage": "",
                                        "externalReplyMessage": "", "scheduledStartDateTime": day,
                                        "scheduledEndDateTime": day},
            "dateFormat": "M/d/yyyy", "timeFormat": "h:mm tt",
            "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
            "language": {"locale": "en-US", "displayName": "English (United States)"},
            "workingHours": {"daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                             "startTime": "06:00:00.0000000", "endTime": "17:00:00.0000000",
                             "timeZone": {"name": "Eastern Standard Time"}},
            "userPurpose": p.mailbox_type if p.mailbox_type in ("user", "shared", "room") else "others",
        }

    # ---- groups -----------------------------------------------------------------------------------------------

    def _group(self, g: Group) -> dict[str, Any]:
        unified = g.kind == "microsoft365"
        return {
            "id": g.id, "deletedDateTime": None, "classification": None, "createdDateTime": iso(g.created_at),
            "description": g.description, "displayName": g.name,
            "expirationDateTime": None, "groupTypes": ["Unified"] if unified else [],
            "isAssignableToRole": True if g.role_assignable else None,
            "mail": f"{g.mail_nickname}@{self.org.domain}" if unified else None, "mailEnabled": unified,
            "mailNickname": g.mail_nickname, "membershipRule": None, "membershipRuleProcessingState": None,
            "onPremisesSyncEnabled": None, "preferredDataLocation": None, "preferredLanguage": None,
            "proxyAddresses": [f"SMTP:{g.mail_nickname}@{self.org.domain}"] if unified else [],
            "renewedDateTime": iso(g.created_at), "resourceBehaviorOptions": [], "resourceProvisioningOptions": [],
            "securityEnabled": not unified, "securityIdentifier": "S-1-12-1-" + "-".join(
                str(int(g.id.replace("-", "")[i:i + 8], 16)) for i in range(0, 32, 8)),
            "theme": None, "visibility": "Private" if unified else None, "onPremisesProvisioningErrors": [],
            "serviceProvisioningErrors": [],
        }

    @functools.cached_property
    def groups(self) -> dict[str, dict[str, Any]]:
        return {g.id: self._group(g) for g in self.org.groups}

    def transitive_members(self, group_id: str) -> list[dict[str, Any]] | None:
        """Users and nested groups inside a group, nested membership resolved (Graph's transitiveMembers)."""
        if group_id not in self.groups:
            return None
        out: list[dict[str, Any]] = []
        seen: set[str] = set()

        def walk(gid: str) -> None:
            g = self.org.group(gid)
            for m in g.member_ids:
                if m not in seen:
                    seen.add(m)
                    out.append(self.directory_object(self.org.person(m)))
            for sub in g.member_group_ids:
                if sub not in seen:
                    seen.add(sub)
                    out.append({"@odata.type": "#microsoft.graph.group", **self.groups[sub]})
                    walk(sub)

        walk(group_id)
        return out

    # ---- roles ------------------------------------------------------------------------------------------------

    @functools.cached_property
    def role_definitions(self) -> list[dict[str, Any]]:
        return [{"id": r.template_id, "description": r.description, "displayName": r.name, "isBuiltIn": True,
                 "isEnabled": True, "isPrivileged": r.privileged, "resourceScopes": ["/"],
                 "templateId": r.template_id, "version": "1", "inheritsPermissionsFrom": [],
                 "rolePermissions": [{"allowedResourceActions": ["microsoft.directory/allEntities/allProperties/read"],
                                      "condition": None}]} for r in ROLES]

    def _principal(self, kind: str, pid: str) -> dict[str, Any]:
        if kind == "user":
            return self.directory_object(self.org.person(pid))
        return {"@odata.type": "#microsoft.graph.group", **self.groups[pid]}

    @functools.cached_property
    def role_assignments(self) -> list[dict[str, Any]]:
        """Active assignments, each with its principal expanded (the wire layer drops it without $expand)."""
        out = []
        for kind, pid, h in self.org.iter_role_holdings():
            if h.assignment != "active":
                continue
            out.append({"id": opaque_id("roleassignment", h.template_id, pid), "principalId": pid,
                        "roleDefinitionId": h.template_id, "directoryScopeId": "/", "appScopeId": None,
                        "condition": None, "principal": self._principal(kind, pid)})
        return out

    @functools.cached_property
    def role_eligibilities(self) -> list[dict[str, Any]]:
        out = []
        for _kind, pid, h in self.org.iter_role_holdings():
            if h.assignment != "eligible":
                continue
            sid = derived_id("eligibility", h.template_id, pid)
            out.append({"id": opaque_id("eligibility", h.template_id, pid, length=46) + "-1-e", "principalId": pid,
                        "roleDefinitionId": h.template_id, "directoryScopeId": "/", "appScopeId": None,
                        "startDateTime": iso(self.org.created_at), "endDateTime": None, "memberType": "Direct",
                        "roleEligibilityScheduleId": sid})
        return out

    # ---- apps -------------------------------------------------------------------------------------------------

    def _resource_sp(self, sp_id: str, app_id: str, name: str, roles: dict[str, str]) -> dict[str, Any]:
        return {"id": sp_id, "accountEnabled": True, "appId": app_id, "appDisplayName": name, "displayName": name,
                "appOwnerOrganizationId": MICROSOFT_TENANT, "publisherName": "Microsoft Services",
                "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None},
                "servicePrincipalType": "Application", "signInAudience": "AzureADMultipleOrgs",
                "homepage": None, "tags": [], "servicePrincipalNames": [app_id],
                "appRoles": [{"allowedMemberTypes": ["Application"], "description": f"Allows the app to {v}.",
                              "displayName": v, "id": rid, "isEnabled": True, "origin": "Application", "value": v}
                             for v, rid in sorted(roles.items())]}

    @functools.cached_property
    def service_principals(self) -> list[dict[str, Any]]:
        graph_roles = dict(GRAPH_APP_ROLES)
        for a in self.org.apps:
            for res, perm in a.application_permissions:
                if res == "graph":
                    graph_roles.setdefault(perm, graph_app_role_id(perm))
        out = [self._resource_sp(self.graph_sp_id, GRAPH_APP_ID, "Microsoft Graph", graph_roles),
               self._resource_sp(self.exchange_sp_id, EXCHANGE_APP_ID, "Office 365 Exchange Online",
                                 dict(EXCHANGE_APP_ROLES)),
               self._resource_sp(self.sharepoint_sp_id, SHAREPOINT_APP_ID, "Office 365 SharePoint Online",
                                 {r: sharepoint_app_role_id(r) for r in SHAREPOINT_APP_ROLE_NAMES})]
        for a in self.org.apps:
            verified = ({"displayName": a.verified_publisher,
                         "verifiedPublisherId": str(int(derived_id("mpn", a.id)[:6], 16)),
                         "addedDateTime": iso(a.created_at)} if a.verified_publisher
                        else {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None})
            out.append({"id": a.object_id, "accountEnabled": True, "appId": a.id, "appDisplayName": a.name,
                        "displayName": a.name, "appOwnerOrganizationId": a.owner_org_id,
                        "publisherName": a.publisher if a.owner != "first_party" else "Microsoft Services",
                        "verifiedPublisher": verified, "servicePrincipalType": "Application",
                        "signInAudience": "AzureADMyOrg" if a.owner == "own_org" else "AzureADMultipleOrgs",
                        "homepage": a.homepage or None, "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
                        "servicePrincipalNames": [a.id], "appRoles": []})
        return out

    def sp_by_object_id(self, object_id: str) -> dict[str, Any] | None:
        for sp in self.service_principals:
            if sp["id"] == object_id:
                return sp
        return None

    @functools.cached_property
    def oauth2_permission_grants(self) -> list[dict[str, Any]]:
        apps = {a.id: a for a in self.org.apps}
        out = []
        for a in self.org.apps:
            if a.admin_consent_scopes:
                out.append({"clientId": a.object_id, "consentType": "AllPrincipals",
                            "id": opaque_id("grant", a.object_id, "all"), "principalId": None,
                            "resourceId": self.graph_sp_id, "scope": " ".join(a.admin_consent_scopes)})
        for p in self.org.people:
            for g in p.app_grants:
                a = apps[g.app_id]
                out.append({"clientId": a.object_id, "consentType": "Principal",
                            "id": opaque_id("grant", a.object_id, p.id), "principalId": p.id,
                            "resourceId": self.graph_sp_id, "scope": " ".join(g.scopes)})
        return out

    @functools.cached_property
    def app_role_assigned_to(self) -> dict[str, list[dict[str, Any]]]:
        """Application permissions granted, keyed by the resource service principal's object id."""
        out: dict[str, list[dict[str, Any]]] = {self.graph_sp_id: [], self.exchange_sp_id: []}
        for a in self.org.apps:
            for res, perm in a.application_permissions:
                if res == "sharepoint":
                    continue  # sharepoint_role_assigned_to
                rid = self.graph_sp_id if res == "graph" else self.exchange_sp_id
                role = graph_app_role_id(perm) if res == "graph" else exchange_app_role_id(perm)
                out[rid].append({
                    "id": opaque_id("approle", a.object_id, rid, perm), "deletedDateTime": None, "appRoleId": role,
                    "createdDateTime": iso(a.created_at), "principalDisplayName": a.name,
                    "principalId": a.object_id, "principalType": "ServicePrincipal",
                    "resourceDisplayName": "Microsoft Graph" if res == "graph" else "Office 365 Exchange Online",
                    "resourceId": rid})
        return out

    @functools.cached_property
    def sharepoint_role_assigned_to(self) -> dict[str, list[dict[str, Any]]]:
        """Application permissions granted on Office 365 SharePoint Online, keyed by its service principal id."""
        rid = self.sharepoint_sp_id
        out: list[dict[str, Any]] = []
        for a in self.org.apps:
            for res, perm in a.application_permissions:
                if res == "sharepoint":
                    out.append({
                        "id": opaque_id("approle", a.object_id, rid, perm), "deletedDateTime": None,
                        "appRoleId": sharepoint_app_role_id(perm), "createdDateTime": iso(a.created_at),
                        "principalDisplayName": a.name, "principalId": a.object_id,
                        "principalType": "ServicePrincipal", "resourceDisplayName": "Office 365 SharePoint Online",
                        "resourceId": rid})
        return {rid: out}

    def role_assigned_to(self, resource_id: str) -> list[dict[str, Any]]:
        """appRoleAssignedTo of any resource service principal."""
        found = self.app_role_assigned_to.get(resource_id)
        return found if found is not None else self.sharepoint_role_assigned_to.get(resource_id, [])

    # ---- policies (policies.py) -------------------------------------------------------------------------------

    @functools.cached_property
    def security_defaults(self) -> dict[str, Any]:
        return policies.security_defaults(self.org)

    @functools.cached_property
    def conditional_access_policies(self) -> list[dict[str, Any]]:
        return policies.conditional_access(self.org, ROLE_BY_NAME)

    @functools.cached_property
    def authorization_policy(self) -> dict[str, Any]:
        return policies.authorization_policy(self.org)

    @functools.cached_property
    def authentication_methods_policy(self) -> dict[str, Any]:
        return policies.authentication_methods_policy(self.org)
