"""Vocabulary of authentication methods and their strength, shared by every normaliser.

Strength is about phishing: `weak` methods (SMS, voice, email) are interceptable or SIM-swappable;
`standard` methods (authenticator push, OTP apps) stop password-only attacks but can be phished by an
adversary-in-the-middle proxy; `phishing_resistant` methods (FIDO2, Windows Hello, passkeys, platform
credentials, certificates) are bound to the real sign-in origin.
"""

from __future__ import annotations

WEAK = "weak"
STANDARD = "standard"
PHISHING_RESISTANT = "phishing_resistant"
NONE = "none"

STRENGTH_ORDER = {NONE: 0, WEAK: 1, STANDARD: 2, PHISHING_RESISTANT: 3}

METHOD_STRENGTH: dict[str, str] = {
    "sms": WEAK,
    "voice": WEAK,
    "email": WEAK,
    "temporary_access_pass": STANDARD,  # short-lived bootstrap credential
    "authenticator_push": STANDARD,
    "software_otp": STANDARD,
    "hardware_otp": STANDARD,
    "google_prompt": STANDARD,
    "backup_codes": STANDARD,
    "authenticator_passwordless": STANDARD,  # phone sign-in: number matching, still phishable
    "fido2": PHISHING_RESISTANT,
    "passkey": PHISHING_RESISTANT,
    "windows_hello": PHISHING_RESISTANT,
    "platform_credential": PHISHING_RESISTANT,
    "certificate": PHISHING_RESISTANT,
    "security_key": PHISHING_RESISTANT,
    # Microsoft external MFA: a second factor, but idaudit cannot see whether the provider resists phishing
    "external_mfa": STANDARD,
    "qr_code_pin": NONE,  # QR code + PIN: a single-factor sign-in method, never a second factor
}

# Microsoft per-user methods (authentication/methods) that Microsoft documents as a second factor for sign-in MFA.
# Only these make a user MFA-registered in the no-P1 fallback; sources in docs/semantics.md.
MICROSOFT_SECOND_FACTORS = frozenset({
    "sms", "voice", "authenticator_push", "authenticator_passwordless", "software_otp", "hardware_otp", "fido2",
    "passkey", "windows_hello", "platform_credential", "external_mfa",
})
# Documented as not a sign-in second factor: email OTP (self-service password reset), the temporary access pass
# (a bootstrap credential), QR code + PIN (single-factor by Microsoft's own description).
MICROSOFT_SINGLE_FACTOR = frozenset({"email", "temporary_access_pass", "qr_code_pin"})

# Microsoft userRegistrationDetails.methodsRegistered values -> our vocabulary (open list: unknown values are kept
# with strength 'standard' only when they are clearly a second factor; otherwise ignored with a note).
MICROSOFT_REGISTERED: dict[str, str] = {
    "mobilePhone": "sms",
    "alternateMobilePhone": "sms",
    "officePhone": "voice",
    "email": "email",
    "microsoftAuthenticatorPush": "authenticator_push",
    "microsoftAuthenticatorPasswordless": "authenticator_passwordless",
    "softwareOneTimePasscode": "software_otp",
    "hardwareOneTimePasscode": "hardware_otp",
    "fido2SecurityKey": "fido2",
    "windowsHelloForBusiness": "windows_hello",
    "temporaryAccessPass": "temporary_access_pass",
    "passKeyDeviceBound": "passkey",
    "passKeyDeviceBoundAuthenticator": "passkey",
    "passKeyDeviceBoundWindowsHello": "passkey",
    "passKeySynced": "passkey",
    "macOsSecureEnclaveKey": "platform_credential",
    "securityQuestion": "",  # not a second factor
    "appPassword": "",  # legacy app password: not MFA
}

# Microsoft /users/{id}/authentication/methods @odata.type -> our vocabulary.
MICROSOFT_METHOD_TYPES: dict[str, str] = {
    "#microsoft.graph.passwordAuthenticationMethod": "",
    "#microsoft.graph.phoneAuthenticationMethod": "sms",  # phoneType mobile/alternateMobile; office -> voice
    "#microsoft.graph.emailAuthenticationMethod": "email",
    "#microsoft.graph.fido2AuthenticationMethod": "fido2",
    "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod": "authenticator_push",
    "#microsoft.graph.softwareOathAuthenticationMethod": "software_otp",
    "#microsoft.graph.hardwareOathAuthenticationMethod": "hardware_otp",
    "#microsoft.graph.temporaryAccessPassAuthenticationMethod": "temporary_access_pass",
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod": "windows_hello",
    "#microsoft.graph.platformCredentialAuthenticationMethod": "platform_credential",
    "#microsoft.graph.passwordlessMicrosoftAuthenticatorAuthenticationMethod": "authenticator_passwordless",
    "#microsoft.graph.x509CertificateAuthenticationMethod": "certificate",  # single- or multi-factor by policy
    "#microsoft.graph.externalAuthenticationMethod": "external_mfa",
    "#microsoft.graph.qrCodePinAuthenticationMethod": "qr_code_pin",
}


def strength_of(method: str) -> str:
    return METHOD_STRENGTH.get(method, STANDARD)


def strongest(methods: list[str] | tuple[str, ...] | set[str]) -> str:
    best = NONE
    for m in methods:
        s = strength_of(m)
        if STRENGTH_ORDER[s] > STRENGTH_ORDER[best]:
            best = s
    return best
