"""The synthetic organisation: deterministic, sized as asked, believable, with every planted problem present."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from idaudit.core.methods import METHOD_STRENGTH
from simulator import TenantPolicy, build_organisation
from simulator.catalogue import ROLE_BY_NAME

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)

ALWAYS_PLANTED = ("no_mfa", "admin_sms_only", "compromised", "forward_external_rule", "hiding_rule",
                  "mailbox_forward_external", "consented_unverified_app", "stale_account", "never_signed_in",
                  "stale_guest", "shared_sign_in_enabled", "privileged_on_prem", "break_glass", "mfa_excluded",
                  "per_user_mfa_only", "helpdesk_phishing_resistant", "disabled_forward_rule", "sprayed_dormant")


def test_same_seed_same_organisation_and_other_seed_differs() -> None:
    a = build_organisation(300, seed=7, as_of=AS_OF)
    b = build_organisation(300, seed=7, as_of=AS_OF)
    c = build_organisation(300, seed=8, as_of=AS_OF)
    assert a.people == b.people and a.groups == b.groups and a.apps == b.apps and a.tenant_id == b.tenant_id
    assert a.mfa_policies == b.mfa_policies
    assert [p.id for p in a.people] != [p.id for p in c.people]
    assert a.tenant_id != c.tenant_id


@pytest.mark.parametrize("n", [10, 50, 333, 2000])
def test_size_is_exact_and_ids_and_mailbox_names_unique(n: int) -> None:
    org = build_organisation(n, as_of=AS_OF)
    assert len(org.people) == n
    assert len({p.id for p in org.people}) == n
    assert len({p.mail.lower() for p in org.people}) == n
    assert all(p.kind in ("staff", "admin", "guest", "shared", "room", "service", "break_glass") for p in org.people)
    assert {m for p in org.people for m in p.mfa_methods} <= set(METHOD_STRENGTH)


def test_sizes_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="between 10 and 200000"):
        build_organisation(9)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_organisation(50, as_of=datetime(2026, 1, 1))  # a naive time is the point of the test


@pytest.mark.parametrize("n", [40, 50, 300, 5000])
def test_every_planted_problem_is_present_from_40_accounts(n: int) -> None:
    org = build_organisation(n, as_of=AS_OF)
    tags = Counter(t for p in org.people for t in p.planted)
    missing = [t for t in ALWAYS_PLANTED if tags[t] == 0]
    assert not missing
    staff = org.of_kind("staff")
    no_mfa = [p for p in staff if not p.mfa_methods]
    # ~12% of ordinary staff have no MFA method (exactly the planted ones, rounded)
    planted_no_mfa = org.planted("no_mfa")
    assert set(planted_no_mfa) <= set(no_mfa)
    if n >= 300:  # at 40-50 accounts a handful of staff make the ratio coarse
        assert abs(len(planted_no_mfa) / len(staff) - 0.12) < 0.02


def test_planted_problems_scale_with_size() -> None:
    small = Counter(t for p in build_organisation(300, as_of=AS_OF).people for t in p.planted)
    large = Counter(t for p in build_organisation(20_000, as_of=AS_OF).people for t in p.planted)
    for tag in ("no_mfa", "compromised", "stale_account", "mailbox_forward_external", "consented_unverified_app"):
        assert large[tag] > small[tag]


def test_global_administrators_break_glass_and_roles() -> None:
    org = build_organisation(300, as_of=AS_OF)
    ga = ROLE_BY_NAME["Global Administrator"].template_id
    holders = [p for p in org.people for h in p.roles if h.template_id == ga and h.assignment == "active"]
    non_bg = [p for p in holders if p.kind != "break_glass"]
    assert len(non_bg) == 5  # above the usual 2-4 range on purpose
    sms_only = [p for p in holders if p.mfa_methods == ("sms",)]
    assert len(sms_only) == 1 and sms_only[0].title == "Systems Administrator"
    bg = org.of_kind("break_glass")
    assert len(bg) == 2 and all(p.mfa_methods == ("fido2",) for p in bg)
    assert {p.id for p in bg} == set(org.group_named("Break Glass").member_ids)
    synced = [p for p in holders if p.on_prem_synced]
    assert len(synced) == 1
    helpdesk = org.group_named("IT Helpdesk Admins")
    assert helpdesk.role_assignable and helpdesk.roles[0].role == "Helpdesk Administrator"
    for pid in helpdesk.member_ids:
        assert "fido2" in org.person(pid).mfa_methods
    eligible = [h for p in org.people for h in p.roles if h.assignment == "eligible"]
    assert eligible, "PIM-eligible roles exist"


def test_mfa_exclusions_group_nests_two_device_accounts() -> None:
    org = build_organisation(300, as_of=AS_OF)
    excl = org.group_named("MFA Exclusions")
    nested = org.group(excl.member_group_ids[0])
    assert nested.name == "Legacy Device Accounts" and len(nested.member_ids) == 2
    members = org.transitive_member_ids(excl.id)
    assert set(nested.member_ids) <= set(members)
    assert set(excl.member_ids) <= set(members)
    only_per_user = org.planted("per_user_mfa_only")
    assert only_per_user and all(p.per_user_mfa == "enforced" and p.id in members for p in only_per_user)
    policy = next(p for p in org.mfa_policies if p.name == "Require MFA for all users")
    assert policy.state == "enabled" and excl.id in policy.exclude_group_ids
    assert org.group_named("Break Glass").id in policy.exclude_group_ids
    states = {p.name: p.state for p in org.mfa_policies}
    assert "report_only" in states.values()
    assert states["Block legacy authentication"] == "enabled"


def test_compromised_nurse_forwards_outside_and_hides_invoices() -> None:
    org = build_organisation(300, as_of=AS_OF)
    (nurse,) = org.planted("compromised")
    assert nurse.department == "Perioperative Nursing"
    forward = [r for r in nurse.inbox_rules if r.actions.forward_to]
    assert forward and forward[0].actions.forward_to[0].endswith(("@gmail.com", "@outlook.com"))
    hide = next(r for r in nurse.inbox_rules if r.name == ".")
    assert hide.actions.move_to_folder == "RSS Feeds" and hide.actions.mark_as_read
    assert "invoice" in hide.conditions.body_or_subject_contains
    (fwd,) = org.planted("mailbox_forward_external")
    assert fwd.mailbox_forward is not None and not fwd.mailbox_forward.address.endswith(org.domain)


def test_stale_accounts_and_guest_ages() -> None:
    org = build_organisation(300, as_of=AS_OF)
    stale = org.planted("stale_account")
    assert all(p.enabled for p in stale)
    never = org.planted("never_signed_in")
    assert len(never) == 1 and never[0].last_sign_in is None
    assert never[0].created_at == AS_OF - timedelta(days=365)
    signed = [p.last_sign_in for p in stale if p.last_sign_in is not None]
    assert signed and all(AS_OF - t > timedelta(days=200) for t in signed)
    (guest,) = org.planted("stale_guest")
    assert guest.is_guest and guest.last_sign_in is not None and AS_OF - guest.last_sign_in > timedelta(days=200)
    # most people are fine: recent sign-in, MFA registered
    staff = org.of_kind("staff")
    fine = [p for p in staff if p.mfa_methods and p.last_sign_in and AS_OF - p.last_sign_in < timedelta(days=30)]
    assert len(fine) > 0.7 * len(staff)


def test_apps_consents_and_tenant_flags() -> None:
    org = build_organisation(300, as_of=AS_OF)
    sd = org.app_named("SecureDocs Viewer")
    assert not sd.verified_publisher and "Mail.Read" in sd.user_scopes and "offline_access" in sd.user_scopes
    assert "Mail.Read" in sd.admin_consent_scopes
    consenting = [p for p in org.people for g in p.app_grants if g.app_id == sd.id]
    assert len(consenting) >= 3
    assert ("graph", "Mail.Read") in org.app_named("ArchiveIt Mail Backup").application_permissions
    assert org.auditor_app_id == org.app_named("idaudit (read-only audit)").id
    assert org.policy == TenantPolicy()  # defaults: P1+P2, legacy consent, autoforward On, BCC rule
    assert any(r.bcc_to for r in org.transport_rules)
    quiet = build_organisation(300, as_of=AS_OF, policy=TenantPolicy(transport_bcc="", legacy_auth_block="report_only"))
    assert not any(r.bcc_to for r in quiet.transport_rules)
    assert {p.name: p.state for p in quiet.mfa_policies}["Block legacy authentication"] == "report_only"


def test_hundred_thousand_accounts_build() -> None:
    org = build_organisation(100_000, as_of=AS_OF)
    assert len(org.people) == 100_000
    assert len(org.planted("compromised")) >= 100
