"""Authentication methods of a user as Graph lists them (/users/{id}/authentication/methods), by @odata.type."""

from __future__ import annotations

from typing import Any

from simulator.microsoft.wire_ids import (
    EMAIL_METHOD_ID,
    MOBILE_PHONE_METHOD_ID,
    OFFICE_PHONE_METHOD_ID,
    PASSWORD_METHOD_ID,
    derived_id,
    iso,
)
from simulator.org import Person

# Method types the v1.0 schema does not have (msgraph-sdk v1.0 models): Graph lists them only under /beta.
BETA_ONLY_METHOD_TYPES = frozenset({"#microsoft.graph.hardwareOathAuthenticationMethod"})
# Properties of a type that only v1.0 has (the beta temporaryAccessPassAuthenticationMethod lacks them).
_V1_ONLY_PROPERTIES = {"#microsoft.graph.temporaryAccessPassAuthenticationMethod": ("isUsable",
                                                                                   "methodUsabilityReason")}


def for_version(methods: list[dict[str, Any]], version: str) -> list[dict[str, Any]]:
    """The list as the given API version serves it: each version's schema has its own types and properties."""
    if version != "beta":
        return [m for m in methods if m.get("@odata.type") not in BETA_ONLY_METHOD_TYPES]
    out = []
    for m in methods:
        drop = _V1_ONLY_PROPERTIES.get(str(m.get("@odata.type")), ())
        out.append({k: v for k, v in m.items() if k not in drop} if drop else m)
    return out


def authentication_methods(p: Person) -> list[dict[str, Any]]:
    """GET /users/{id}/authentication/methods: the password plus one object per registered method."""
    created = iso(p.created_at)
    out: list[dict[str, Any]] = [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
                                  "id": PASSWORD_METHOD_ID, "password": None, "createdDateTime": created}]
    for m in p.mfa_methods:
        mid = derived_id(p.id, "method", m)
        if m in ("sms", "voice"):
            out.append({"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
                        "id": MOBILE_PHONE_METHOD_ID if m == "sms" else OFFICE_PHONE_METHOD_ID,
                        "phoneNumber": p.mobile_phone or "+1 6145550000",
                        "phoneType": "mobile" if m == "sms" else "office", "smsSignInState": "notSupported"})
        elif m == "email":
            out.append({"@odata.type": "#microsoft.graph.emailAuthenticationMethod", "id": EMAIL_METHOD_ID,
                        "emailAddress": f"{p.local_part}.personal@outlook.com"})
        elif m in ("authenticator_push", "authenticator_passwordless"):
            out.append({"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "id": mid,
                        "displayName": "iPhone 15", "deviceTag": "SoftwareTokenActivated",
                        "phoneAppVersion": "6.8.17", "createdDateTime": created})
        elif m in ("fido2", "passkey"):
            out.append({"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": mid,
                        "displayName": "YubiKey 5 NFC", "aaGuid": "2fc0579f-8113-47ea-b116-bb5a8db9202a",
                        "model": "YubiKey 5 NFC", "attestationCertificates": [],
                        "attestationLevel": "attested", "createdDateTime": created})
        elif m == "windows_hello":
            out.append({"@odata.type": "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
                        "id": mid, "displayName": f"RSC-{p.local_part[:6].upper()}-PC",
                        "createdDateTime": created, "keyStrength": "normal"})
        elif m == "software_otp":
            out.append({"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": mid,
                        "secretKey": None})
        elif m == "hardware_otp":
            out.append({"@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethod", "id": mid,
                        "device": {"id": derived_id(p.id, "oath-device", m), "displayName": "Token",
                                   "serialNumber": mid[:8], "manufacturer": "Token2", "model": "C302"}})
        elif m == "temporary_access_pass":
            out.append({"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod", "id": mid,
                        "createdDateTime": created, "lifetimeInMinutes": 60, "isUsableOnce": True,
                        "isUsable": False, "methodUsabilityReason": "Expired"})
        elif m == "platform_credential":
            out.append({"@odata.type": "#microsoft.graph.platformCredentialAuthenticationMethod", "id": mid,
                        "displayName": "MacBook Pro", "keyStrength": "normal", "platform": "macOS",
                        "createdDateTime": created})
    return out

