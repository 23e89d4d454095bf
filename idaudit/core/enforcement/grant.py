"""A Conditional Access policy's grant controls: does satisfying them take a second factor?

Graph `conditionalAccessGrantControls`: `builtInControls` (block, mfa, compliantDevice, domainJoinedDevice,
approvedApplication, compliantApplication, passwordChange), `authenticationStrength`, `customAuthenticationFactors`,
`termsOfUse`, and `operator` (AND: every control; OR: any one). Under OR the grant is only as strong as its weakest
alternative, so an alternative a stolen password satisfies (terms of use, an approved client app, a strength that
allows a single factor) means the policy does not require MFA at all. Rules and sources: docs/semantics.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MFA = "mfa"
PHISHING_RESISTANT = "phishing_resistant"
WEAKER = "weaker_alternative"

# Graph GET /identity/conditionalAccess/authenticationStrength/combinations (List authenticationMethodModes):
# each allowed combination is one or two comma-separated authenticationMethodModes.
MULTIFACTOR_COMBINATIONS = frozenset(frozenset(c.casefold().split(",")) for c in (
    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
    "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush",
    "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice", "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"))
SINGLE_FACTOR_COMBINATIONS = frozenset(frozenset([c.casefold()]) for c in (
    "x509CertificateSingleFactor", "sms", "password", "federatedSingleFactor", "email", "qrCodePin"))
# Bound to the sign-in origin (the built-in "Phishing-resistant MFA" strength).
PHISHING_RESISTANT_COMBINATIONS = frozenset(frozenset([c.casefold()]) for c in (
    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"))

# OR-ed with MFA, these let a sign-in through on a managed device: an attacker holding only the password has none
# (Microsoft's own template "Require compliant device, hybrid joined device, or MFA"). A pass with a caveat.
DEVICE_ALTERNATIVES = {"compliantdevice": "a compliant device", "domainjoineddevice": "a hybrid-joined device"}
# OR-ed with MFA, these are satisfied without any second factor: the attacker's own phone runs an approved app.
PASSWORD_ALONE_ALTERNATIVES = {"approvedapplication": "an approved client app",
                               "compliantapplication": "an app protection policy"}
# Require password change asks for MFA before the change (and cannot be combined with other controls).
KNOWN_CONTROLS = {"mfa", "block", "passwordchange", *DEVICE_ALTERNATIVES, *PASSWORD_ALONE_ALTERNATIVES}


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value if v is not None] if isinstance(value, list) else []


@dataclass(frozen=True)
class Strength:
    """An authentication strength as the policy carries it inline."""

    kind: str  # phishing_resistant | mfa | single | undecided
    name: str
    why: str = ""  # for single / undecided: a phrase naming the combinations that decide it

    @staticmethod
    def read(raw: Mapping[str, Any]) -> Strength:
        name = str(raw.get("displayName") or raw.get("id") or "(unnamed)")
        combos = _strs(raw.get("allowedCombinations"))
        keys = [frozenset(p.strip().casefold() for p in c.split(",") if p.strip()) for c in combos]
        satisfied = str(raw.get("requirementsSatisfied") or "").casefold()
        single = [c for c, k in zip(combos, keys, strict=True) if k in SINGLE_FACTOR_COMBINATIONS]
        unknown = [c for c, k in zip(combos, keys, strict=True)
                   if k not in SINGLE_FACTOR_COMBINATIONS and k not in MULTIFACTOR_COMBINATIONS]
        if single or satisfied == "none":
            detail = f"it allows {', '.join(single)}" if single else "requirementsSatisfied is 'none'"
            return Strength("single", name, f"authentication strength '{name}' does not require MFA ({detail})")
        if unknown:
            return Strength("undecided", name, f"authentication strength '{name}' (combination(s) "
                                               f"{', '.join(unknown)} are not in Microsoft's documented list)")
        if not combos and satisfied != "mfa":
            return Strength("undecided", name, f"authentication strength '{name}' (its allowedCombinations are "
                                               "not in the data)")
        if combos and all(k in PHISHING_RESISTANT_COMBINATIONS for k in keys):
            return Strength(PHISHING_RESISTANT, name)
        return Strength(MFA, name)


@dataclass(frozen=True)
class Grant:
    kind: str  # '' (does not require MFA) | mfa | phishing_resistant
    weaker: tuple[str, ...]  # device alternatives OR-ed with MFA (pass with a caveat)
    strength_name: str  # authentication strength display name, or ''
    blocks: bool
    requests_mfa: bool = False  # names MFA or an authentication strength at all
    bypass: tuple[str, ...] = ()  # OR-ed alternatives a stolen password satisfies: the policy is not MFA
    strength_gap: str = ""  # the required strength lets a single factor through
    undecided: tuple[str, ...] = ()  # alternatives whose need for a second factor cannot be read

    @property
    def label(self) -> str:
        if self.weaker:
            return WEAKER
        return self.kind

    @staticmethod
    def read(grant: Mapping[str, Any] | None) -> Grant:
        grant = grant or {}
        controls = _strs(grant.get("builtInControls"))
        ci = [c.casefold() for c in controls]
        raw_strength = grant.get("authenticationStrength")
        strength = Strength.read(raw_strength) if isinstance(raw_strength, Mapping) else None
        operator = str(grant.get("operator") or "OR").upper()
        requests_mfa = "mfa" in ci or strength is not None
        name = strength.name if strength is not None else ""
        blocks = "block" in ci
        if not requests_mfa:
            return Grant(kind="", weaker=(), strength_name=name, blocks=blocks)
        s_kind = strength.kind if strength is not None else ""
        s_why = strength.why if strength is not None else ""
        has_mfa = "mfa" in ci or s_kind in (MFA, PHISHING_RESISTANT)
        if operator == "AND":
            # every control must be met: a second factor is required as soon as one of them requires it
            kind = PHISHING_RESISTANT if s_kind == PHISHING_RESISTANT else (MFA if has_mfa else "")
            return Grant(kind=kind, weaker=(), strength_name=name, blocks=blocks, requests_mfa=True,
                         strength_gap=s_why if not has_mfa and s_kind == "single" else "",
                         undecided=(s_why,) if not has_mfa and s_kind == "undecided" else ())
        bypass = [PASSWORD_ALONE_ALTERNATIVES[c] for c in ci if c in PASSWORD_ALONE_ALTERNATIVES]
        if _strs(grant.get("termsOfUse")):
            bypass.append("accepting terms of use")
        undecided = [f"control '{c}'" for c, k in zip(controls, ci, strict=True) if k not in KNOWN_CONTROLS]
        custom = _strs(grant.get("customAuthenticationFactors"))
        if custom:
            undecided.append(f"custom control(s) {', '.join(custom)}")
        if s_kind == "undecided":
            undecided.append(s_why)
        # Under OR, plain 'mfa' next to a phishing-resistant strength lets any MFA through.
        kind = PHISHING_RESISTANT if s_kind == PHISHING_RESISTANT and "mfa" not in ci else (MFA if has_mfa else "")
        return Grant(kind=kind, weaker=tuple(DEVICE_ALTERNATIVES[c] for c in ci if c in DEVICE_ALTERNATIVES),
                     strength_name=name, blocks=blocks, requests_mfa=True, bypass=tuple(bypass),
                     strength_gap=s_why if s_kind == "single" else "", undecided=tuple(undecided))
