"""Signs of takeover: per user, the combinations incident responders look for in the last `lookback_days` of logs.

A stolen password alone is quiet; what gives a takeover away is what the attacker does next, soon after signing
in from somewhere new: a rule that forwards or hides mail, a second MFA method so the account stays theirs, a
consent that lets their app read mail after the password is reset. Each finding names the events — time, address,
country, actor, operation — so the reader can act on evidence, and says when the logs could not show enough.
The rules (what counts as a new country, the windows, what the logs can and cannot show) are in
docs/semantics.md, "Signs of takeover".
"""

from __future__ import annotations

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import FAIL, HIGH, MEDIUM, PASS, UNKNOWN, nothing_found_row, privileged_set, tenant_row
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData
from idaudit.core.takeover_signals import (
    before,
    event_text,
    events,
    mail_scopes,
    new_countries,
    risky_detections,
    user_ips,
    when,
    where,
    window_text,
)

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "takeover"
RESPOND = """Treat it as an incident: revoke sessions, reset the password, remove methods, rules, forwarding and
consents the user did not add, review what was forwarded or read, and run the HIPAA breach risk assessment
(45 CFR 164.402)."""
RESPOND_MS = """Entra admin centre > Users > <user> > Revoke sessions (`Revoke-MgUserSignInSession -UserId <upn>`);
Exchange admin centre > Mail flow > Message trace."""
RESPOND_GG = """Admin console > Directory > Users > <user> > Security > Sign-in cookies > Reset (`gam user <email>
signout`); Reporting > Email Log Search."""
FORWARD_OR_HIDE = ("forwardto", "redirectto", "forwardasattachmentto", "deletemessage", "softdeletemessage",
                   "movetofolder", "markasread", "forwardingsmtpaddress", "forwardingaddress")


def _signals(data: AuditData, uid: str, t: pd.Timestamp, days: int, newc: dict[str, list], mfa: pd.DataFrame,
             risk: pd.DataFrame, labels: dict[str, str]) -> list[str]:
    """What made the account look taken over in the `days` before `t`."""
    out = [n.text() for n in newc.get(uid, []) if before(t, days, n.first_seen)]
    for r in mfa[mfa["user_id"] == uid].itertuples(index=False):
        if before(t, days, r.time):
            out.append(event_text(r, labels))
    for r in risk[risk["user_id"] == uid].itertuples(index=False):
        if before(t, days, r.time):
            out.append(f"{when(r.time)}: Identity Protection '{r.event_type}' ({r.level} risk) "
                       f"{where(str(r.ip), str(r.country))}")
    return out


def _dangerous(data: AuditData, row: object) -> str:
    """Why a logged rule / forwarding change moves or hides mail ('' when it does not, as far as can be seen)."""
    r = row
    if str(getattr(r, "kind", "")) == "mailbox_forwarding":
        return f"mailbox forwarding to {getattr(r, 'object', '') or 'an address not logged'}"
    if data.available("mail_rules"):
        rules = data.table("mail_rules")
        mine = rules[(rules["user_id"] == str(getattr(r, "user_id", "")))
                     & (rules["rule_name"].str.casefold() == str(getattr(r, "object", "")).casefold())]
        for rule in mine.itertuples(index=False):
            if bool(rule.forwards) or bool(rule.hides_mail):
                return "the rule " + ("forwards mail" if bool(rule.forwards) else f"hides mail ({rule.hide_action})")
    detail = str(getattr(r, "detail", "")).casefold()
    hit = [p for p in FORWARD_OR_HIDE if f"{p}=" in detail]
    return f"the change set {', '.join(hit)}" if hit else ""


@check(
    id="IDA-TKO-001", title="Mail forwarding or hiding rule set up soon after a risky sign-in",
    severity=Severity.CRITICAL,
    rationale="""The pattern of a taken-over mailbox: a sign-in from a country the user was not in (or a new MFA
    method, or a sign-in Identity Protection rated risky), and within days a rule that forwards mail outside or
    hides it. From then on every referral and lab result is copied to the attacker and the replies that would
    expose them disappear. The combination, not either half, is what incident responders look for; each finding
    names both events.""",
    remediation=RESPOND,
    steps={MS: RESPOND_MS + " Remove the rule: `Remove-InboxRule -Mailbox <upn> -Identity <rule>`.",
           GG: RESPOND_GG + " Remove the filter: `gam user <email> delete filter <id>`."},
    references=(R.HIPAA_INCIDENT, R.HIPAA_REVIEW, R.HIPAA_BREACH, R.CPG_EMAIL, R.T_VALID_CLOUD, R.T_FORWARD_RULE,
                R.T_HIDE_RULES),
    providers=(MS, GG), requires=("change_events",), subject_kind=SubjectKind.RULE, family=FAMILY,
    owner_role="IT manager + privacy officer",
)
def rule_after_risky_sign_in(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    days = settings.takeover_window_days
    newc = new_countries(data)
    mfa = events(data, "mfa_added", "recovery_changed")
    risk = risky_detections(data)
    suspicious = events(data, "suspicious_login")
    signs_known = data.available("sign_in_countries")
    rows: list[dict[str, str]] = []
    if data.provider == GG.value:
        return _google_rules(data, labels, newc, suspicious, signs_known)
    for r in events(data, "inbox_rule", "mailbox_forwarding").itertuples(index=False):
        why = _dangerous(data, r)
        if not why:
            continue
        uid = str(r.user_id)
        who = labels.get(uid, uid or "a mailbox not in the directory")
        subject = f"{who}: {r.operation} '{r.object}'"
        signs = _signals(data, uid, pd.Timestamp(r.time), days, newc, mfa, risk, labels)  # type: ignore[arg-type]
        change = f"{event_text(r, labels)} — {why}"
        if signs:
            status, evidence = FAIL, f"{change}; in the {days} days before: " + " | ".join(signs)
        elif signs_known:
            status, evidence = PASS, f"{change}; no sign-in from a new country, new MFA method or risky sign-in " \
                                     f"in the {days} days before"
        else:
            status, evidence = UNKNOWN, f"{change}; whether it followed a sign-in from a new country cannot be " \
                                        f"told: {data.status['sign_in_countries'].reason}"
        rows.append({"subject_id": f"{uid}:{r.event_id}", "subject": subject, "status": status,
                     "evidence": evidence, "owner_id": uid})
    if not rows:
        rows.append(nothing_found_row(data, ("change_events",),
                                      f"no forwarding or hiding rule was created or changed in {window_text(data)}"))
    return result_frame(rows)


def _google_rules(data: AuditData, labels: dict[str, str], newc: dict[str, list], suspicious: pd.DataFrame,
                  signs_known: bool) -> pd.DataFrame:
    """Google's audit logs do not record a user creating a Gmail filter or turning on forwarding: the current
    forwarding and hiding filters are set against the window's risky sign-ins instead (timing not knowable)."""
    owners: dict[str, str] = {}
    if data.available("forwarding"):
        for r in data.table("forwarding").itertuples(index=False):
            if bool(r.enabled) is not False:
                owners.setdefault(str(r.user_id), f"forwards mail to {r.recipient}")
    if data.available("mail_rules"):
        for r in data.table("mail_rules").itertuples(index=False):
            if bool(r.hides_mail) and bool(r.enabled) is not False:
                owners.setdefault(str(r.user_id), f"filter '{r.rule_name}' hides mail ({r.hide_action})")
    rows: list[dict[str, str]] = []
    for uid, what in sorted(owners.items()):
        signs = [n.text() for n in newc.get(uid, [])]
        signs += [event_text(r, labels) for r in suspicious[suspicious["user_id"] == uid].itertuples(index=False)]
        base = f"{labels.get(uid, uid)} {what} (Google's logs do not record when a filter or forwarding was set up)"
        if signs:
            status, evidence = FAIL, f"{base}; risky sign-ins in {window_text(data)}: " + " | ".join(signs)
        elif signs_known:
            status, evidence = PASS, f"{base}; no suspicious login or sign-in from a new country in " \
                                     f"{window_text(data)}"
        else:
            status, evidence = UNKNOWN, f"{base}; sign-ins not collected: {data.status['sign_in_countries'].reason}"
        rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": status, "evidence": evidence,
                     "owner_id": uid})
    if not rows:
        rows.append(nothing_found_row(data, ("change_events",), "no mailbox forwards or hides mail, so no "
                                      "forwarding set up after a risky sign-in"))
    return result_frame(rows)


@check(
    id="IDA-TKO-002", title="A user who is not an admin consented to an app that can read mail",
    severity=Severity.HIGH,
    rationale="""Consent phishing needs no password: the user clicks 'Accept' on an app asking for Mail.Read (or
    Gmail access) and the attacker's app reads the mailbox with a refresh token that survives a password reset and
    a new MFA method. An ordinary user has no reason to hand a new app their mail; one who did in the log window is
    named with the time, address and country of the consent.""",
    remediation="Confirm with the user; if they did not mean it, remove the grant and the app, then " + RESPOND,
    steps={MS: """Entra admin centre > Enterprise applications > <app> > Permissions or Delete
           (`Remove-MgOauth2PermissionGrant`). """ + RESPOND_MS,
           GG: """Admin console > Security > Access and data control > API controls > App access control: block the
           app; `gam user <email> deprovision`. """ + RESPOND_GG},
    references=(R.HIPAA_INCIDENT, R.HIPAA_INFO_ACCESS, R.CIS_M365_USER_CONSENT, R.SCUBA_CONSENT, R.T_STEAL_TOKEN,
                R.T_APP_TOKEN),
    providers=(MS, GG), requires=("change_events",), subject_kind=SubjectKind.APP, family=FAMILY,
    owner_role="IT manager + privacy officer",
)
def mail_consent_by_non_admin(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    admins = privileged_set(data).user_ids if data.available("role_assignments") else None
    rows: list[dict[str, str]] = []
    reviewed = 0
    for r in events(data, "consent").itertuples(index=False):
        reviewed += 1
        detail = str(r.detail)
        scopes = mail_scopes(detail.split(";")[0].removeprefix("scopes:"))
        if not scopes or "admin consent" in detail:
            continue
        actor = str(r.actor_id)
        text = f"{event_text(r, labels)} granted {', '.join(scopes)}"
        subject = f"{labels.get(actor, str(r.actor) or actor)}: consent to '{r.object}'"
        if admins is None:
            rows.append({"subject_id": f"{actor}:{r.event_id}", "subject": subject, "status": UNKNOWN,
                         "evidence": f"{text}; whether the user is an admin cannot be told: "
                                     f"{data.status['role_assignments'].reason}", "owner_id": actor})
        elif actor not in admins:
            rows.append({"subject_id": f"{actor}:{r.event_id}", "subject": subject, "status": FAIL,
                         "evidence": f"{text}; the user holds no admin role", "owner_id": actor})
    if not rows:
        rows.append(nothing_found_row(data, ("change_events",),
                                      f"no user who is not an admin consented to an app that reads mail in "
                                      f"{window_text(data)} ({reviewed} consents in the log)"))
    return result_frame(rows)


@check(
    id="IDA-TKO-003", title="Second MFA method registered from an unfamiliar address", severity=Severity.HIGH,
    rationale="""An attacker who phished a password and a one-time code registers their own authenticator so the
    account stays theirs after the session expires. A second method registered from an address the user never
    signed in from in the window, or from a new country, is that persistence step. Google's nearest logged
    equivalents are a 2-Step Verification enrolment and a recovery phone or email change.""",
    remediation="Confirm with the user; delete the method or recovery detail they did not add, then " + RESPOND,
    steps={MS: """Entra admin centre > Users > <user> > Authentication methods: delete it
           (`Remove-MgUserAuthenticationMicrosoftAuthenticatorMethod`). """ + RESPOND_MS,
           GG: """Admin console > Directory > Users > <user> > Security: recovery email and phone, 2-Step
           Verification. """ + RESPOND_GG},
    references=(R.HIPAA_INCIDENT, R.HIPAA_AUTH, R.CPG_MFA, R.T_MFA_MODIFY, R.T_DEVICE_REG),
    providers=(MS, GG), requires=("change_events",), subject_kind=SubjectKind.USER, family=FAMILY,
    owner_role="IT manager",
)
def mfa_from_unfamiliar_address(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    newc = new_countries(data)
    ips = user_ips(data)
    methods = None
    if data.available("mfa_registration"):
        reg = data.table("mfa_registration")
        methods = {str(u): len([m for m in str(ms).split(";") if m.strip()])
                   for u, ms in zip(reg["user_id"], reg["methods"], strict=True)}
    rows: list[dict[str, str]] = []
    for r in events(data, "mfa_added", "recovery_changed").itertuples(index=False):
        uid = str(r.user_id)
        text = event_text(r, labels)
        subject = f"{labels.get(uid, uid)}: {r.operation}" + (f" '{r.object}'" if str(r.object) else "")
        if not data.available("sign_in_countries"):
            rows.append({"subject_id": f"{uid}:{r.event_id}", "subject": subject, "status": UNKNOWN,
                         "evidence": f"{text}; whether the address is familiar cannot be told: "
                                     f"{data.status['sign_in_countries'].reason}", "owner_id": uid})
            continue
        new = [n for n in newc.get(uid, []) if n.country == str(r.country)]
        reasons = [f"{r.country} is a new country for the user ({new[0].text()})"] if new else []
        if str(r.ip) and str(r.ip) not in ips.get(uid, set()):
            reasons.append("the user had no successful sign-in from this address in the window")
        count = methods.get(uid) if methods is not None else None
        second = r.kind == "recovery_changed" or count is None or count >= 2
        how_many = "" if count is None else f"; the user now has {count} registered method(s)"
        if reasons and second:
            status, evidence = FAIL, f"{text}; unfamiliar: {'; '.join(reasons)}{how_many}"
        elif reasons:
            status, evidence = PASS, f"{text}; the user's only method (a first registration){how_many}"
        else:
            status, evidence = PASS, f"{text}; from an address the user signs in from{how_many}"
        rows.append({"subject_id": f"{uid}:{r.event_id}", "subject": subject, "status": status,
                     "evidence": evidence, "owner_id": uid})
    if not rows:
        rows.append(nothing_found_row(data, ("change_events",), f"no MFA method or recovery detail was added in "
                                                                f"{window_text(data)}"))
    return result_frame(rows)


@check(
    id="IDA-TKO-004", title="User at high risk, not remediated", severity=Severity.HIGH,
    rationale="""Identity Protection rates a user at high risk when it has strong evidence the account is
    compromised (leaked credentials, unfamiliar sign-in properties, suspicious inbox forwarding). Until the risk is
    remediated (a secure password change, an admin confirming safe or compromised and acting) the attacker may
    still hold a working session.""",
    remediation="""Investigate the detections; a secure password reset remediates the risk. If compromised: """
    + RESPOND,
    steps={MS: """Entra admin centre > Protection > Identity Protection > Risky users > <user>
           (`Invoke-MgConfirmRiskyUserCompromised -UserIds <id>`); """ + RESPOND_MS},
    references=(R.HIPAA_INCIDENT, R.HIPAA_REVIEW, R.CPG_MFA, R.T_VALID_CLOUD),
    providers=(MS,), requires=("risky_users",), subject_kind=SubjectKind.USER, family=FAMILY,
    owner_role="IT manager",
)
def high_risk_not_remediated(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    risky = data.table("risky_users")
    det = data.table("risk_detections") if data.available("risk_detections") else None
    rows: list[dict[str, str]] = []
    for r in risky.itertuples(index=False):
        uid = str(r.user_id)
        state = str(r.risk_state)
        open_risk = state.casefold() in ("atrisk", "confirmedcompromised")
        text = f"risk {r.risk_level!s}, state {state}, detail {str(r.risk_detail) or 'none'}, " \
               f"updated {when(r.updated)}"
        if det is not None:
            mine = det[det["user_id"] == uid]
            text += "".join(f"; {when(d.time)}: '{d.event_type}' ({d.level}) {where(str(d.ip), str(d.country))}"
                            for d in mine.itertuples(index=False))
        if str(r.risk_level).casefold() == "high" and open_risk:
            rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": FAIL, "evidence": text})
        elif open_risk and str(r.risk_level).casefold() == "hidden":
            rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": UNKNOWN,
                         "evidence": text + "; the risk level is hidden (Entra ID P2 shows it)"})
        else:
            rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": PASS, "evidence": text,
                         "confidence": HIGH})
    if not rows:
        rows.append(tenant_row(PASS, "Identity Protection lists no user at risk"))
    return result_frame(rows)


def _count(value: object) -> int:
    """A count from a nullable integer column (NA: 0 — nothing was counted)."""
    try:
        return 0 if pd.isna(value) else int(value)  # type: ignore[arg-type,call-overload]
    except (TypeError, ValueError):
        return 0


@check(
    id="IDA-TKO-005", title="Sign-ins succeeded without MFA (legacy protocol or password only)",
    severity=Severity.MEDIUM,
    rationale="""A successful sign-in over IMAP, POP, authenticated SMTP or ActiveSync, or any sign-in that needed
    only a password, is exactly what a phished or sprayed password buys an attacker: no second factor stood in the
    way. The log window's successes show which accounts are open that way today, with the address of the last
    one.""",
    remediation="""Block legacy authentication and require MFA for every user (see the authentication checks); move
    devices that send mail (scanners, fax) to a connector or OAuth.""",
    steps={MS: """Entra admin centre > Protection > Conditional Access > new policy: client apps 'Exchange
           ActiveSync clients' and 'Other clients', Block access; Exchange: `Set-CASMailbox -Identity <upn>
           -ImapEnabled $false -PopEnabled $false -SmtpClientAuthenticationDisabled $true`."""},
    references=(R.HIPAA_AUTH, R.CPG_MFA, R.CIS_M365_LEGACY, R.SCUBA_LEGACY, R.T_VALID_CLOUD, R.T_SPRAY),
    providers=(MS,), requires=("sign_in_summary",), subject_kind=SubjectKind.USER, family=FAMILY,
    owner_role="IT manager",
)
def no_mfa_successes(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    s = data.table("sign_in_summary")
    rows: list[dict[str, str]] = []
    for r in s.itertuples(index=False):
        legacy = _count(r.legacy_successes)
        single = _count(r.single_factor_successes)
        if not legacy and not single:
            continue
        parts = []
        if legacy:
            parts.append(f"{legacy} success(es) over {r.legacy_clients!s}, last {when(r.legacy_last)} "
                         f"from {str(r.legacy_last_ip) or 'an address not logged'}")
        if single:
            parts.append(f"{single} single-factor success(es), last {when(r.single_factor_last)} "
                         f"from {str(r.single_factor_last_ip) or 'an address not logged'}")
        uid = str(r.user_id)
        rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": FAIL,
                     "evidence": "; ".join(parts), "confidence": HIGH if legacy else MEDIUM})
    if not rows:
        rows.append(nothing_found_row(data, ("sign_in_summary",),
                                      f"every successful sign-in in {window_text(data)} used MFA over a modern "
                                      f"client ({len(s)} users signed in)"))
    return result_frame(rows)


@check(
    id="IDA-TKO-006", title="Google reported a suspicious sign-in", severity=Severity.HIGH,
    rationale="""Google flags a sign-in as suspicious when it does not match the user's usual behaviour (an
    unusual place or device, a less secure app, a programmatic login), and disables accounts it believes were
    hijacked. Each one in the log window is a possible takeover until someone has checked it with the user.""",
    remediation="Confirm with the user, and if it was not them, " + RESPOND,
    steps={GG: """Admin console > Reporting > Audit and investigation > Login log events for the user. """
           + RESPOND_GG},
    references=(R.HIPAA_INCIDENT, R.HIPAA_REVIEW, R.SCUBA_GWS_MFA, R.T_VALID_CLOUD),
    providers=(GG,), requires=("change_events",), subject_kind=SubjectKind.USER, family=FAMILY,
    owner_role="IT manager",
)
def google_suspicious_login(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    rows: list[dict[str, str]] = []
    for uid, group in events(data, "suspicious_login").groupby("user_id", sort=True):
        uid = str(uid)
        rows.append({"subject_id": uid, "subject": labels.get(uid, uid), "status": FAIL,
                     "evidence": " | ".join(event_text(r, labels) for r in group.itertuples(index=False))})
    if not rows:
        rows.append(nothing_found_row(data, ("change_events",),
                                      f"Google reported no suspicious sign-in in {window_text(data)}"))
    return result_frame(rows)
