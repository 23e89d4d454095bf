"""Google tenant settings (the `tenant_settings` rows) from the Policy API: the root OU's value of each setting, and
for the risky ones where the risk applies — every OU (resolved with inheritance) and every group-targeted policy.

A setting can be changed for a child OU or for a group, and Google applies those over the root's value (a group's
over its members' OU, google_policy.py). Reading the root alone passes a tenant whose root blocks IMAP while a child
OU, or a group of copier accounts, has it on. So each risky setting gives three keys beside its root value:

- `<prefix>_ous`: '; '-joined OU paths where the risky value is in effect ('' = none);
- `<prefix>_groups`: '; '-joined groups whose own policy sets the risky value, each with its member count
  ('' = none) — named even when their membership was not read: the policy itself is the finding;
- `<prefix>_undecided`: OUs and groups whose value could not be read or understood (no policy and no documented
  default, or a value not in Google's vocabulary), so a check cannot pass them.

The vocabulary of each key is documented in idaudit/core/settings.py; the rules and their sources in
docs/semantics.md ("Google Workspace: policy precedence and per-OU settings").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from idaudit.core.normalise.google_policy import DEVICE_TRUST, FACTORS, PolicyResolver, Resolved

APPS = "api_controls.unconfigured_third_party_apps"

# api_controls.unconfigured_third_party_apps accessLevel as the Policy API really returns it (ScubaGoggles,
# GWS.COMMONCONTROLS.10.4 tests): the names do not read as they mean; UNSPECIFIED_UBER_BLOCK is the default,
# "Allow users to access any third-party apps". Anything else is not understood (unknown, never a guess).
THIRD_PARTY_ACCESS: dict[str, str] = {
    "UNSPECIFIED_UBER_BLOCK": "any_app",
    "BLOCK_ALL_SCOPES": "off",
    "ALLOW_SIGN_IN_SCOPES_ONLY": "sign_in_only",
}


def consent(value: Any) -> str | None:
    """api_controls.unconfigured_third_party_apps accessLevel -> the neutral user_consent vocabulary."""
    return THIRD_PARTY_ACCESS.get(str(value).strip().upper()) if value is not None else None


def _on(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class Rule:
    """One Policy API field and which of its values is the risk."""

    setting: str  # Policy API setting type
    field: str
    risky: Callable[[Any], bool | None]  # field value -> risky? (None: not understood)


# prefix of the keys -> the fields read together (IMAP and POP are one check)
SCOPED: dict[str, tuple[Rule, ...]] = {
    "google_auto_forwarding": (Rule("gmail.auto_forwarding", "enableAutoForwarding", _on),),
    "google_imap_pop": (Rule("gmail.imap_access", "enableImapAccess", _on),
                        Rule("gmail.pop_access", "enablePopAccess", _on)),
    "google_mail_delegation": (Rule("gmail.mail_delegation", "enableMailDelegation", _on),),
    "google_less_secure_apps": (Rule("security.less_secure_apps", "allowLessSecureApps", _on),),
    "google_telephony": (Rule(FACTORS, "allowedSignInFactorSet",
                              lambda v: v == "ALL" if isinstance(v, str) and v else None),),
    "google_device_trust": (Rule(DEVICE_TRUST, "allowTrustingDevice", _on),),
    "google_third_party_apps": (Rule(APPS, "accessLevel",
                                     lambda v: consent(v) == "any_app" if consent(v) else None),),
}
SCOPED_KEYS = tuple(f"{p}_{s}" for p in SCOPED for s in ("ous", "groups", "undecided"))
ROOT_KEYS = ("external_auto_forwarding", "user_consent", "google_allowed_factors", "google_less_secure_apps",
             "google_device_trust", "google_mail_delegation", "google_imap_pop", "google_internal_apps_trusted")


def _verdict(rules: tuple[Rule, ...], values: list[Mapping[str, Any] | None]) -> tuple[bool | None, str]:
    """(risky?, why not known): risky if any field is risky; None if none is and some could not be read."""
    answers: list[bool | None] = []
    why: list[str] = []
    for rule, value in zip(rules, values, strict=True):
        if value is None:
            answers.append(None)
            why.append(f"no {rule.setting} policy and no documented default")
            continue
        answer = rule.risky(value.get(rule.field))
        answers.append(answer)
        if answer is None:
            why.append(f"{rule.field} {value.get(rule.field)!r} not understood")
    if any(a is True for a in answers):
        return True, ""
    return (None, "; ".join(why)) if any(a is None for a in answers) else (False, "")


def scoped_rows(r: PolicyResolver) -> list[dict[str, Any]]:
    """The `_ous`, `_groups` and `_undecided` rows of every risky setting."""
    rows: list[dict[str, Any]] = []
    for prefix, rules in SCOPED.items():
        risky_ous, undecided = [], []
        for path in r.ou_paths():
            v, why = _verdict(rules, [r.resolve(rule.setting, path).value for rule in rules])
            if v:
                risky_ous.append(path)
            elif v is None:
                undecided.append(f"OU {path} ({why})")
        risky_groups: list[str] = []
        for gid, scope in _targeted(r, rules):
            # the group's own policy per field (highest sortOrder); a field it does not set is not its finding
            own = [next((gp.value for gp in r.group_policies(rule.setting) if gp.group == gid and gp.ou == scope),
                        None) for rule in rules]
            answers = [(rule.risky(value.get(rule.field)), f"{rule.field} {value.get(rule.field)!r} not understood")
                       for rule, value in zip(rules, own, strict=True) if value is not None]
            label = r.groups.label(gid) + ("" if scope == "/" else f" in OU {scope}")
            if any(a is True for a, _ in answers):
                risky_groups.append(f"{label} ({r.groups.count(gid)})")
            elif any(a is None for a, _ in answers):
                undecided.append(f"group {label} ({'; '.join(w for a, w in answers if a is None)})")
        source = "Policy API resolved per OU and per group policy"
        rows += [{"setting": f"{prefix}_ous", "value": "; ".join(risky_ous), "source": source},
                 {"setting": f"{prefix}_groups", "value": "; ".join(risky_groups), "source": source},
                 {"setting": f"{prefix}_undecided", "value": "; ".join(undecided), "source": source}]
    return rows


def _targeted(r: PolicyResolver, rules: tuple[Rule, ...]) -> list[tuple[str, str]]:
    """(group id, OU scope) of every group policy for these fields, each once, in a stable order."""
    seen: dict[tuple[str, str], None] = {}
    for rule in rules:
        for gp in r.group_policies(rule.setting):
            seen[(gp.group, gp.ou)] = None
    return sorted(seen)


def root_rows(r: PolicyResolver, gaps: dict[str, str]) -> list[dict[str, Any]]:
    """The root OU's value of each setting (the Admin console's top-level view); a value that cannot be read is a
    gap with the reason."""
    rows: list[dict[str, Any]] = []

    def put(key: str, res: Resolved, field: str, convert: Callable[[Any], str | None]) -> None:
        raw = (res.value or {}).get(field) if res.value is not None else None
        value = convert(raw) if raw is not None else None
        if value is None:
            gaps[key] = f"no policy for this setting was returned for the root OU and Google documents no " \
                        f"default (or the value {raw!r} is not understood)"
            return
        rows.append({"setting": key, "value": value, "source": res.source})

    def flag(v: Any) -> str | None:
        return str(v).lower() if isinstance(v, bool) else None

    put("external_auto_forwarding", r.resolve("gmail.auto_forwarding", "/"), "enableAutoForwarding",
        lambda v: {True: "on", False: "off"}.get(v) if isinstance(v, bool) else None)
    put("user_consent", r.resolve(APPS, "/"), "accessLevel", consent)
    put("google_allowed_factors", r.resolve(FACTORS, "/"), "allowedSignInFactorSet", lambda v: str(v) if v else None)
    put("google_less_secure_apps", r.resolve("security.less_secure_apps", "/"), "allowLessSecureApps", flag)
    put("google_device_trust", r.resolve(DEVICE_TRUST, "/"), "allowTrustingDevice", flag)
    put("google_mail_delegation", r.resolve("gmail.mail_delegation", "/"), "enableMailDelegation", flag)
    put("google_internal_apps_trusted", r.resolve("api_controls.internal_apps", "/"), "trustInternalApps", flag)
    imap = r.resolve("gmail.imap_access", "/")
    pop = r.resolve("gmail.pop_access", "/")
    vi, vp = (imap.value or {}).get("enableImapAccess"), (pop.value or {}).get("enablePopAccess")
    if isinstance(vi, bool) and isinstance(vp, bool):
        rows.append({"setting": "google_imap_pop", "value": str(vi or vp).lower(),
                     "source": f"{imap.source}; {pop.source}"})
    else:
        gaps["google_imap_pop"] = "IMAP or POP policy not returned for the root OU (no documented default)"
    return rows
