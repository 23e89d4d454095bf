"""Google Workspace mail security facts -> `mail_domains` (SPF, DMARC, DKIM from the stored DNS answers) and
`mail_protections` (Gmail's safety settings, resolved per organisational unit by the Policy API rules of
google_policy.py).

Setting types and field names are the Cloud Identity Policy API's (as ScubaGoggles' Gmail baseline and GAM read
them): `gmail.enhanced_pre_delivery_message_scanning`, `gmail.email_attachment_safety`,
`gmail.links_and_external_images`, `gmail.spoofing_and_authentication`, `gmail.email_spam_filter_ip_allowlist`.
Google documents no default for them ("Default field values" lists none): an OU whose value no policy gives is
`on = NA`, so its check is `unknown`, never `pass`. A group-based policy covers some people: it is a row of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from idaudit.core.normalise.google_policy import PolicyResolver
from idaudit.core.normalise.ms_context import Tables
from idaudit.core.normalise.ms_email import google_dkim, mail_domains_table
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import TableStatus, make_table

DKIM_SELECTORS_DEFAULT = ("google",)

# facet -> (setting type, field): the protection is on when the field is true
GMAIL_FACETS: dict[str, tuple[str, str]] = {
    "gmail_predelivery_scanning": ("gmail.enhanced_pre_delivery_message_scanning",
                                   "enableImprovedSuspiciousContentDetection"),
    "gmail_encrypted_attachments": ("gmail.email_attachment_safety", "enableEncryptedAttachmentProtection"),
    "gmail_script_attachments": ("gmail.email_attachment_safety", "enableAttachmentWithScriptsProtection"),
    "gmail_anomalous_attachments": ("gmail.email_attachment_safety", "enableAnomalousAttachmentProtection"),
    "gmail_shortened_links": ("gmail.links_and_external_images", "enableShortenerScanning"),
    "gmail_external_images": ("gmail.links_and_external_images", "enableExternalImageScanning"),
    "gmail_untrusted_link_warnings": ("gmail.links_and_external_images", "enableAggressiveWarningsOnUntrustedLinks"),
    "gmail_domain_name_spoofing": ("gmail.spoofing_and_authentication", "detectDomainNameSpoofing"),
    "gmail_employee_name_spoofing": ("gmail.spoofing_and_authentication", "detectEmployeeNameSpoofing"),
    "gmail_inbound_domain_spoofing": ("gmail.spoofing_and_authentication",
                                      "detectDomainSpoofingFromUnauthenticatedSenders"),
    "gmail_unauthenticated_email": ("gmail.spoofing_and_authentication", "detectUnauthenticatedEmails"),
    "gmail_groups_spoofing": ("gmail.spoofing_and_authentication", "detectGroupsSpoofing"),
}
ALLOWLIST = ("gmail.email_spam_filter_ip_allowlist", "allowedIpAddresses")


class GoogleState(Protocol):
    snap: Snapshot
    resolver: PolicyResolver | None
    policy_gap: str
    tables: dict[str, Any]
    status: dict[str, TableStatus]


def _rows_for(resolver: PolicyResolver, facet: str, setting: str, field: str,
              value: Callable[[Any], tuple[bool | None, str]]) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(set(resolver.path_by_id.values()) | {"/"}):
        res = resolver.resolve(setting, path)
        raw = (res.value or {}).get(field) if res.value is not None else None
        if res.value is None or raw is None:
            on, detail = None, f"{setting}.{field}: no policy returned for this OU and Google documents no default"
        else:
            on, detail = value(raw)
            detail = detail or f"{setting}.{field}={raw!r} ({res.source})"
        rows.append({"facet": facet, "policy": path, "is_default": path == "/", "preset": "",
                     "applies_to": "all" if path == "/" else "some", "scope": f"organisational unit {path}",
                     "on": on, "detail": detail})
    for gp in resolver.group_policies(setting):  # a group policy wins over the OU's for its members
        raw = gp.value.get(field)
        on, detail = value(raw) if raw is not None else (None, f"{setting}.{field}: not in the group policy")
        label = resolver.groups.label(gp.group)
        rows.append({"facet": facet, "policy": f"group {label}", "is_default": False, "preset": "",
                     "applies_to": "some", "scope": f"members of group {label}" + (f" in {gp.ou}" if gp.ou != "/"
                                                                                  else ""),
                     "on": on, "detail": detail or f"{setting}.{field}={raw!r} (group policy {gp.name})"})
    return rows


def _flag(raw: Any) -> tuple[bool | None, str]:
    return (raw, "") if isinstance(raw, bool) else (None, f"not a boolean: {raw!r}")


def _listed(raw: Any) -> tuple[bool | None, str]:
    if not isinstance(raw, list):
        return None, f"allowedIpAddresses is not a list: {raw!r}"
    items = [str(x) for x in raw if str(x).strip()]
    return bool(items), "allowedIpAddresses: " + (", ".join(items[:20]) if items else "empty")


def email_tables_google(state: GoogleState) -> None:
    t = Tables(state.snap)
    raw = t.data("dns.emailAuth")
    selectors = tuple(s for s in (raw or {}).get("dkimSelectors") or [] if isinstance(s, str)) \
        if isinstance(raw, dict) else ()
    mail_domains_table(t, dkim=google_dkim(selectors or DKIM_SELECTORS_DEFAULT))
    state.tables["mail_domains"] = t.tables["mail_domains"]
    state.status["mail_domains"] = t.status["mail_domains"]
    r = state.resolver
    if r is None:
        state.tables["mail_protections"] = make_table("mail_protections", [])
        state.status["mail_protections"] = TableStatus.missing(f"Google policies not collected: {state.policy_gap}",
                                                               "policies", "orgUnits")
        return
    rows: list[dict[str, Any]] = []
    for facet, (setting, field) in GMAIL_FACETS.items():
        rows += _rows_for(r, facet, setting, field, _flag)
    rows += _rows_for(r, "ip_allow_list", *ALLOWLIST, _listed)
    state.tables["mail_protections"] = make_table("mail_protections", rows)
    state.status["mail_protections"] = TableStatus.ok("policies", "orgUnits")
