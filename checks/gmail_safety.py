"""Email security, part 4: Gmail's own defences against the phishing entry point, per organisational unit —
enhanced pre-delivery scanning, attachment protections, link and external-image protections, and spoofing and
authentication protections (Admin console > Apps > Google Workspace > Gmail > Safety).

Each check reads `mail_protections` rows built by idaudit.core.normalise.google_email: one per (setting field,
organisational unit) from the Policy API's per-OU resolution, plus one per group-based policy. Any OU or group where
a protection is off fails, naming them; a value Google did not return (it documents no default for these settings)
is `unknown`, never `pass`.
"""

from __future__ import annotations

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import FAIL, PASS, UNKNOWN, section_gap, tenant_row
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

GG = Provider.GOOGLE
FAMILY = "email security"
GMAIL_SAFETY = "Admin console > Apps > Google Workspace > Gmail > Safety"


def per_ou(data: AuditData, facets: dict[str, str], what: str) -> pd.DataFrame:
    """Fail where any of `facets` (facet -> label) is off in an OU or group; unknown where not returned."""
    gap = section_gap(data, "policies", "orgUnits")
    if gap:
        return result_frame([tenant_row(UNKNOWN, f"Gmail safety settings not collected: {gap}")])
    table = data.table("mail_protections")
    rows = table[table["facet"].isin(list(facets))]
    if rows.empty:
        return result_frame([tenant_row(UNKNOWN, f"no {what} setting was returned by the Policy API")])
    off = rows[rows["on"].eq(False).fillna(False)]
    if not off.empty:
        where: dict[str, list[str]] = {}
        for facet, ou in zip(off["facet"].astype(str), off["policy"].astype(str), strict=True):
            where.setdefault(facets[facet], []).append(ou)
        shown = "; ".join(f"{label} is off in {', '.join(ous[:10])}" + (f" and {len(ous) - 10} more"
                                                                           if len(ous) > 10 else "")
                          for label, ous in where.items())
        return result_frame([tenant_row(FAIL, shown)])
    unread = rows[rows["on"].isna()]
    if not unread.empty:
        shown = "; ".join(f"{facets[f]} in {ou}: {d}" for f, ou, d in zip(
            unread["facet"].astype(str).head(6), unread["policy"].astype(str).head(6),
            unread["detail"].astype(str).head(6), strict=True))
        return result_frame([tenant_row(UNKNOWN, f"{what} not known everywhere: {shown}")])
    ous = rows["policy"].nunique()
    return result_frame([tenant_row(PASS, f"{what} on in every organisational unit ({ous} checked): "
                                          + ", ".join(facets.values()))])


@check(
    id="IDA-ESEC-013", title="Gmail enhanced pre-delivery scanning is off", severity=Severity.HIGH,
    rationale="""Enhanced pre-delivery message scanning holds back mail that looks like phishing long enough for
    Google's deeper checks to run, so a credential-phishing message is caught before it reaches the inbox instead of
    after someone clicked. An organisational unit with it off is where the first password is stolen.""",
    remediation=f"""{GMAIL_SAFETY} > Enhanced pre-delivery message scanning: turn on 'Enables improved detection of
    suspicious content prior to delivery' for the top-level OU and remove child-OU overrides. GAM: `gam print
    policies filter "setting.type.matches('gmail.enhanced_pre_delivery_message_scanning')"`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.SCUBA_GWS_PREDELIVERY, R.T_PHISH_LINK),
    providers=(GG,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def gmail_predelivery(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return per_ou(data, {"gmail_predelivery_scanning": "enhanced pre-delivery scanning"},
                  "enhanced pre-delivery scanning")


@check(
    id="IDA-ESEC-014", title="Gmail attachment protections are off", severity=Severity.HIGH,
    rationale="""Gmail's attachment safety flags encrypted attachments from untrusted senders, attachments with
    scripts and anomalous attachment types — the password-protected zip and the macro document that carry malware
    past scanners. With a protection off in an organisational unit, those attachments arrive unflagged.""",
    remediation=f"""{GMAIL_SAFETY} > Attachments: turn on protection against encrypted attachments from untrusted
    senders, attachments with scripts from untrusted senders and anomalous attachment types (and 'Apply future
    recommended settings automatically'). GAM: `gam print policies filter
    "setting.type.matches('gmail.email_attachment_safety')"`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.SCUBA_GWS_ATTACHMENTS, R.T_PHISH_ATTACHMENT),
    providers=(GG,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def gmail_attachments(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return per_ou(data, {"gmail_encrypted_attachments": "protection against encrypted attachments",
                         "gmail_script_attachments": "protection against attachments with scripts",
                         "gmail_anomalous_attachments": "protection against anomalous attachment types"},
                  "attachment protection")


@check(
    id="IDA-ESEC-015", title="Gmail link and external image protections are off", severity=Severity.HIGH,
    rationale="""Phishing hides the fake sign-in page behind a shortened link or an image that links out. Gmail
    can resolve shortened links, scan linked images and warn before a click on an untrusted domain; with these off,
    the link that steals the password looks like any other.""",
    remediation=f"""{GMAIL_SAFETY} > Links and external images: turn on 'Identify links behind shortened URLs',
    'Scan linked images' and 'Show warning prompt for any click on links to untrusted domains'. GAM: `gam print
    policies filter "setting.type.matches('gmail.links_and_external_images')"`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.SCUBA_GWS_LINKS, R.T_PHISH_LINK),
    providers=(GG,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def gmail_links(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return per_ou(data, {"gmail_shortened_links": "identifying links behind shortened URLs",
                         "gmail_external_images": "scanning linked images",
                         "gmail_untrusted_link_warnings": "warnings on links to untrusted domains"},
                  "link and image protection")


@check(
    id="IDA-ESEC-016", title="Gmail spoofing and authentication protections are off", severity=Severity.HIGH,
    rationale="""Invoice fraud and credential phishing impersonate the clinic's own domain, a look-alike domain or
    an employee's name. Gmail's spoofing protections flag unauthenticated mail claiming to be from the clinic, from
    similar domain names or from an employee's name; with one off, the forged message reaches the inbox unmarked.""",
    remediation=f"""{GMAIL_SAFETY} > Spoofing and authentication: turn on protection against domain spoofing based
    on similar domain names, spoofing of employee names, inbound emails spoofing your domain, any unauthenticated
    emails, and Groups spoofing. GAM: `gam print policies filter
    "setting.type.matches('gmail.spoofing_and_authentication')"`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.SCUBA_GWS_SPOOFING, R.T_IMPERSONATION),
    providers=(GG,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def gmail_spoofing(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return per_ou(data, {"gmail_domain_name_spoofing": "similar-domain spoofing protection",
                         "gmail_employee_name_spoofing": "employee-name spoofing protection",
                         "gmail_inbound_domain_spoofing": "protection against inbound mail spoofing your domain",
                         "gmail_unauthenticated_email": "protection against unauthenticated mail",
                         "gmail_groups_spoofing": "Groups spoofing protection"},
                  "spoofing protection")
