"""The planted problems: what real surgery centres get wrong, placed on disjoint staff in exact numbers for a size.

Each planted subject carries a tag (`Person.planted`, `App.planted`) so tests can assert a check finds exactly what
was planted (docs/simulator.md lists the tags). Called by the builder while it assembles the people.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from simulator.catalogue import FREE_MAIL, PARTNER_LAB
from simulator.idgen import fixed_rule_id, rule_id
from simulator.org import App, AppGrant, InboxRule, MailboxForward, RuleActions, RuleConditions


def plant_problems(rng: random.Random, staff: list[dict[str, Any]], as_of: datetime, ago: Any, gid: dict[str, str],
           apps: dict[str, App], domain: str) -> None:
    """Plant the problems real surgery centres have, in exact numbers for a size, on disjoint staff."""
    n = len(staff)
    order = list(range(n))
    rng.shuffle(order)
    nurses = [i for i in order if staff[i]["dept"] == "Perioperative Nursing"] or order
    compromised = nurses[:max(1, n // 600)]
    taken = set(compromised)
    rest = [i for i in order if i not in taken]
    counts = {
        "mailbox_forward": max(1, n // 500), "stale": max(2, round(n * 0.015)), "leaver": max(1, round(n * 0.03)),
        "securedocs": max(3, round(n * 0.01)), "excluded": max(2, n // 250), "per_user": max(1, round(n * 0.03)),
        "disabled_forward": 1, "partner_forward": 1, "internal_forward": 1, "no_mfa": max(1, round(n * 0.12)),
        # issue 16 (appended: the picks above are unchanged)
        "subdomain_forward": 1, "inflected_hiding": 1, "own_org_app": 1, "impostor_app": 1,
    }
    picks: dict[str, list[int]] = {}
    pos = 0
    for key, k in counts.items():
        picks[key] = rest[pos:pos + k]
        pos += k

    for i in compromised:
        kw = staff[i]
        attacker = f"{kw['first'][0]}{kw['last']}{rng.randint(10, 99)}".lower().replace("'", "")
        kw["rules"] = [
            InboxRule(rule_id(rng), "Mail sync", 1, True, RuleConditions(),
                      RuleActions(forward_to=(f"{attacker}@{rng.choice(FREE_MAIL[:2])}",))),
            InboxRule(rule_id(rng), ".", 2, True,
                      RuleConditions(body_or_subject_contains=("invoice", "payment", "wire transfer")),
                      RuleActions(move_to_folder="RSS Feeds", mark_as_read=True, stop_processing=True)),
        ]
        kw["grants"] = [AppGrant(apps["SecureDocs Viewer"].id, apps["SecureDocs Viewer"].user_scopes)]
        kw["planted"] += ["compromised", "forward_external_rule", "hiding_rule", "consented_unverified_app"]
        # the attacker registered an authenticator of their own (simulator/activity.py: the registration event)
        extra = "software_otp" if "authenticator_push" in kw["mfa_methods"] else "authenticator_push"
        kw["mfa_methods"] = (*kw["mfa_methods"], extra)
    for i in picks["mailbox_forward"]:
        kw = staff[i]
        addr = f"{kw['first']}.{kw['last']}{rng.randint(1, 99)}".lower().replace("'", "")
        kw["mailbox_forward"] = MailboxForward(f"{addr}@{rng.choice(FREE_MAIL)}", keep_copy=True)
        kw["planted"].append("mailbox_forward_external")
    for j, i in enumerate(picks["stale"]):
        kw = staff[i]
        if j == 0:
            kw["last_sign_in"] = None
            kw["created_at"] = as_of - timedelta(days=365)
            kw["planted"] += ["stale_account", "never_signed_in"]
        else:
            kw["last_sign_in"] = ago(205, 540)
            kw["planted"].append("stale_account")
            if j == 1:  # sprayed: a failed attempt two days ago makes lastSignInDateTime look recent
                kw["last_failed_sign_in"] = as_of - timedelta(days=2)
                kw["planted"].append("sprayed_dormant")
    for i in picks["leaver"]:
        kw = staff[i]
        kw.update(enabled=False, licensed=False, last_sign_in=ago(100, 700))
        kw["planted"].append("disabled_leaver")
    for i in picks["securedocs"]:
        staff[i]["grants"] = [AppGrant(apps["SecureDocs Viewer"].id, apps["SecureDocs Viewer"].user_scopes)]
        staff[i]["planted"].append("consented_unverified_app")
    for j, i in enumerate(picks["excluded"]):
        kw = staff[i]
        kw["groups"] = (gid["MFA Exclusions"],)
        kw["per_user_mfa"] = "enforced" if j % 2 == 0 else "enabled"
        kw["planted"] += ["mfa_excluded"] + (["per_user_mfa_only"] if j % 2 == 0 else [])
    for i in picks["per_user"]:
        staff[i]["per_user_mfa"] = "enforced"
    for i in picks["disabled_forward"]:
        kw = staff[i]
        addr = f"{kw['first']}{kw['last']}".lower().replace("'", "")
        kw["rules"] = [*kw["rules"], InboxRule(rule_id(rng), "Fwd to home", len(kw["rules"]) + 1, False,
                                               RuleConditions(), RuleActions(forward_to=(f"{addr}@hotmail.com",)))]
        kw["planted"].append("disabled_forward_rule")
    for i in picks["partner_forward"]:
        kw = staff[i]
        kw["rules"] = [*kw["rules"], InboxRule(
            rule_id(rng), "Lab results to partner", len(kw["rules"]) + 1, True,
            RuleConditions(subject_contains=("lab result",)),
            RuleActions(forward_to=(f"results@{PARTNER_LAB}",)))]
        kw["planted"].append("forward_trusted_partner")
    for i in picks["internal_forward"]:
        kw = staff[i]
        kw["rules"] = [*kw["rules"], InboxRule(
            rule_id(rng), "Scheduling requests", len(kw["rules"]) + 1, True,
            RuleConditions(subject_contains=("schedule request",)),
            RuleActions(redirect_to=(f"scheduling@{domain}",)))]
        kw["planted"].append("forward_internal")
    for i in picks["no_mfa"]:
        staff[i]["mfa_methods"] = ()
        staff[i]["planted"].append("no_mfa")
    # issue 16: forwarding to an unverified subdomain (routed by its own MX: outside), a hiding rule on inflected
    # words, an unverified app registered in the tenant itself and a look-alike of an allowed app (one consent each)
    for i in picks["subdomain_forward"]:
        kw = staff[i]
        kw["rules"] = [*kw["rules"], InboxRule(
            fixed_rule_id("subdomain", kw["first"], kw["last"]), "Referrals to intake portal", len(kw["rules"]) + 1,
            True, RuleConditions(subject_contains=("referral",)),
            RuleActions(forward_to=(f"intake@portal.{domain}",)))]
        kw["planted"].append("forward_unverified_subdomain")
    for i in picks["inflected_hiding"]:
        kw = staff[i]
        kw["rules"] = [*kw["rules"], InboxRule(
            fixed_rule_id("inflected", kw["first"], kw["last"]), "Cleanup", len(kw["rules"]) + 1, True,
            RuleConditions(subject_contains=("hacked", "phishing", "compromised")),
            RuleActions(delete=True, stop_processing=True))]
        kw["planted"].append("hiding_rule_inflected_words")
    for key, app_key in (("own_org_app", "Scan Helper [own_org_unverified_mail_app]"),
                         ("impostor_app", "idaudit (read-only audit) [impostor_named_like_allowed_app]")):
        for i in picks[key]:
            app = apps[app_key]
            staff[i]["grants"] = [AppGrant(app.id, app.user_scopes)]
            staff[i]["planted"].append(f"consented_{app.planted[0]}")
