"""Email security, part 1: sender authentication (SPF, DMARC, DKIM) for every domain the organisation sends from.

Phishing that works best impersonates the clinic itself: an invoice "from" billing@, a portal link "from" the IT
desk. Receivers — including the clinic's own mail system — can only reject such forgeries when the domain
publishes SPF (which servers may send as it), DKIM (a signature on what they send) and a DMARC policy telling them
to quarantine or reject what fails. Every fact comes from the DNS answers stored in the snapshot (`mail_domains`,
parsed by idaudit.core.normalise.email_auth); the rules are RFC 7208 / 7489 / 6376 as docs/semantics.md cites.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import FAIL, HIGH, PASS, UNKNOWN, or_not_applicable
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.normalise.email_auth import MAX_SPF_LOOKUPS
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "email security"
Verdict = tuple[str, str]


def _per_domain(data: AuditData, judge: Callable[[pd.Series], Verdict]) -> pd.DataFrame:
    domains = data.table("mail_domains")
    rows = []
    for _, d in domains.iterrows():
        status, evidence = judge(d)
        rows.append({"subject_id": d["domain"], "subject": d["domain"], "status": status, "evidence": evidence,
                     "confidence": HIGH})
    return or_not_applicable(result_frame(rows), "no sending domain of the organisation's own was looked up "
                                                 "(only the provider's initial domain)")


def _n(value: Any) -> int | None:
    return None if value is None or value is pd.NA or pd.isna(value) else int(value)


def spf_verdict(d: pd.Series) -> Verdict:
    dom = d["domain"]
    if d["spf_gap"]:
        return UNKNOWN, f"SPF of {dom} could not be read: {d['spf_gap']}"
    count = _n(d["spf_count"])
    if not count:
        return FAIL, f"{dom} publishes no SPF record: receivers cannot tell the clinic's servers from a forger's"
    if count > 1:
        return FAIL, f"{dom} publishes {count} SPF records ({d['spf_records']}): a permanent error, receivers " \
                     "ignore SPF for it"
    shown = f"SPF '{d['spf_records']}'"
    if d["spf_problems"]:
        return FAIL, f"{shown}: {d['spf_problems']}"
    lookups = _n(d["spf_lookups"])
    if lookups is None:
        return UNKNOWN, f"{shown}: the number of DNS lookups could not be counted"
    if lookups > MAX_SPF_LOOKUPS:
        return FAIL, f"{shown} needs {lookups} DNS lookups (more than {MAX_SPF_LOOKUPS}: a permanent error, " \
                     "receivers ignore it)"
    via = f" (through {d['spf_all_via']})" if d["spf_all_via"] else ""
    qualifier = d["spf_all"]
    if qualifier == "-":
        return PASS, f"{shown} fails every unlisted sender (-all{via}); {lookups} lookups"
    if qualifier == "~":
        return PASS, f"{shown} soft-fails unlisted senders (~all{via}); {lookups} lookups. SCuBA asks for -all"
    if qualifier in ("+", ""):
        what = "+all: it authorises every server on the internet" if qualifier == "+" else \
            "no 'all' term: unlisted senders get a neutral result"
        return FAIL, f"{shown} ends in {what}{via}"
    return FAIL, f"{shown} ends in ?all{via}: unlisted senders get a neutral result, nothing is rejected"


def dmarc_verdict(d: pd.Series) -> Verdict:
    dom = d["domain"]
    if d["dmarc_gap"]:
        return UNKNOWN, f"DMARC of {dom} could not be read: {d['dmarc_gap']}"
    count = _n(d["dmarc_count"]) or 0
    if count == 0:
        return FAIL, f"no DMARC record at _dmarc.{dom}: receivers are never told to reject forged mail from {dom}"
    where = d["dmarc_source"]
    shown = f"DMARC '{d['dmarc_records']}'" + (f" (of parent domain {where}, its sp= applies)" if where != dom
                                                else "")
    if count > 1:
        return FAIL, f"{count} DMARC records at _dmarc.{where}: receivers apply none of them"
    problems = []
    if d["dmarc_policy"] in ("", "none"):
        problems.append("p=none: failing mail is delivered anyway" if d["dmarc_policy"] == "none"
                        else "no valid p= policy")
    pct = _n(d["dmarc_pct"])
    if pct != 100:
        problems.append(f"pct={pct if pct is not None else 'invalid'}: only part of the failing mail is acted on")
    if not d["dmarc_rua"]:
        problems.append("no rua= address: nobody receives the reports that show who forges the domain")
    if problems:
        return FAIL, f"{shown}: " + "; ".join(problems)
    return PASS, f"{shown}: p={d['dmarc_policy']}, pct=100, reports to {d['dmarc_rua']}"


def dkim_verdict(d: pd.Series) -> Verdict:
    if d["dkim_gap"]:
        return UNKNOWN, f"DKIM for {d['domain']} not known: {d['dkim_gap']}"
    if pd.isna(d["dkim_enabled"]):
        return UNKNOWN, f"DKIM for {d['domain']} not known: {d['dkim_detail']}"
    if bool(d["dkim_enabled"]):
        return PASS, f"DKIM signs mail from {d['domain']} ({d['dkim_detail']})"
    return FAIL, f"mail from {d['domain']} is not DKIM-signed with the domain's own key ({d['dkim_detail']})"


@check(
    id="IDA-ESEC-001", title="Sending domain has no SPF record that fails unlisted senders", severity=Severity.HIGH,
    rationale="""SPF tells receiving servers which servers may send mail as the clinic's domain. Without a record
    ending in -all (or ~all), within the 10 DNS lookups receivers will evaluate, anyone can send "from"
    billing@ or the IT desk and staff, patients and partners cannot tell: the phishing message that steals the
    first password arrives looking internal. This closes the spoofed-sender step of the phishing chain.""",
    remediation="""Publish one TXT record at the domain that lists every legitimate sender (e.g. the billing
    system) and ends in -all, within 10 DNS lookups. At your DNS host: DNS records > TXT. Check: `dig +short TXT
    <domain>`.""",
    steps={MS: "Microsoft 365: `v=spf1 include:spf.protection.outlook.com -all`.",
           GG: "Google Workspace: `v=spf1 include:_spf.google.com ~all` (or -all)."},
    references=(R.HIPAA_MALWARE, R.HIPAA_TRANSMISSION, R.CPG_EMAIL, R.CIS_M365_SPF, R.SCUBA_EXO_SPF,
                R.SCUBA_GWS_SPF, R.T_PHISH_LINK),
    providers=(MS, GG), requires=("mail_domains",), subject_kind=SubjectKind.DOMAIN, family=FAMILY,
    owner_role="IT manager",
)
def spf_record(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _per_domain(data, spf_verdict)


@check(
    id="IDA-ESEC-002", title="Sending domain's DMARC does not quarantine or reject forged mail",
    severity=Severity.HIGH,
    rationale="""DMARC is the instruction receivers follow when mail claiming to be from the clinic fails SPF and
    DKIM. With p=none, a partial pct, or no record at all, forged mail is delivered anyway — to patients, to
    partners and to the clinic's own staff — and without a rua= address nobody ever sees the reports that show
    the domain being forged. p=quarantine or p=reject at pct=100 with reports closes the spoofing step.""",
    remediation="""Publish a TXT record at _dmarc.<domain>: start with `v=DMARC1; p=quarantine; pct=100;
    rua=mailto:dmarc-reports@<domain>`, watch the reports, then move to p=reject. At your DNS host: DNS records >
    TXT, host `_dmarc`; check with `dig +short TXT _dmarc.<domain>`.""",
    steps={MS: "Microsoft 365 admin center > Settings > Domains lists each domain's records.",
           GG: "Google Admin console > Apps > Google Workspace > Gmail > Authenticate email shows DKIM; DMARC is "
               "published at your DNS host."},
    references=(R.HIPAA_MALWARE, R.HIPAA_REVIEW, R.CPG_EMAIL, R.CIS_M365_DMARC, R.SCUBA_EXO_DMARC,
                R.SCUBA_EXO_DMARC_REJECT, R.SCUBA_GWS_DMARC, R.T_PHISH_LINK),
    providers=(MS, GG), requires=("mail_domains",), subject_kind=SubjectKind.DOMAIN, family=FAMILY,
    owner_role="IT manager",
)
def dmarc_enforced(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _per_domain(data, dmarc_verdict)


@check(
    id="IDA-ESEC-003", title="Mail from a sending domain is not DKIM-signed", severity=Severity.MEDIUM,
    rationale="""DKIM signs every outgoing message with a key published in the domain's DNS, so receivers can
    prove a message really came from the clinic and was not altered. Without it, DMARC can only rely on SPF, which
    breaks on forwarding, and a forged message is easier to pass off as genuine.""",
    remediation="""Turn on DKIM signing with the domain's own key for every sending domain: publish the key
    records your mail provider gives you at your DNS host (DNS records > CNAME or TXT), then enable signing.""",
    steps={MS: """Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies > Email
           authentication settings > DKIM: publish the two CNAME records shown, then `Set-DkimSigningConfig
           -Identity <domain> -Enabled $true` (or `New-DkimSigningConfig -DomainName <domain> -Enabled $true`).""",
           GG: """Google Admin console > Apps > Google Workspace > Gmail > Authenticate email: generate the key,
           publish the TXT record at google._domainkey.<domain>, then Start authentication."""},
    references=(R.HIPAA_MALWARE, R.HIPAA_TRANSMISSION, R.CPG_EMAIL, R.CIS_M365_DKIM, R.SCUBA_EXO_DKIM,
                R.SCUBA_GWS_DKIM, R.T_IMPERSONATION),
    providers=(MS, GG), requires=("mail_domains",), subject_kind=SubjectKind.DOMAIN, family=FAMILY,
    owner_role="IT manager",
)
def dkim_signing(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _per_domain(data, dkim_verdict)
