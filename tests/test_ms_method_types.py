"""Per-user methods fallback (no Entra ID P1): only method types Microsoft documents as a second factor make a user
MFA-registered. Issue 15 item 6 / issue 21 item 7; rules and sources in docs/semantics.md ("Authentication methods
and consent policy ids").

- QR code + PIN is a single-factor sign-in method (Microsoft Learn, "QR code authentication method"): alone, the
  user has no second factor.
- An external authentication method (external MFA) satisfies the second factor of an MFA requirement (Microsoft
  Learn, "Use Microsoft Entra MFA with an external provider"): it counts, as a standard (not phishing-resistant)
  method since idaudit cannot see what the provider does.
- A type idaudit does not know is not counted as a second factor; a user whose only other methods are single-factor
  is `unknown` (registered None), never registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from tests.ms_raw import ADA, BEN, CARA, raw_tenant
from tests.ms_raw import write_snapshot as snap

PASSWORD = {"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"}
QR = {"@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethod", "id": "qr",
      "standardQRCode": {"id": "q1", "expireDateTime": "2027-11-01T00:00:00Z"}}
EXTERNAL = {"@odata.type": "#microsoft.graph.externalAuthenticationMethod", "id": "ext",
            "configurationId": "c1", "displayName": "Contoso MFA"}
UNKNOWN_TYPE = {"@odata.type": "#microsoft.graph.someFutureAuthenticationMethod", "id": "f1"}
FIDO2 = {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "k1", "model": "YubiKey"}


def registration(tmp_path: Path, methods: list[dict[str, Any]]) -> pd.Series:
    raw = raw_tenant()
    raw["authenticationMethods"] = {**raw["authenticationMethods"], CARA: [PASSWORD, *methods]}
    data = normalise(snap(tmp_path / "s", raw,
                          fail={"userRegistrationDetails": (SectionStatus.UNLICENSED, "403 requires P1")}))
    reg = data.table("mfa_registration")
    hit = reg[reg["user_id"] == CARA]
    assert len(hit) == 1
    return hit.iloc[0]


@pytest.mark.parametrize(("methods", "registered", "strongest"), [
    pytest.param([QR], False, "none", id="qr-code-pin-alone-is-single-factor"),
    pytest.param([QR, FIDO2], True, "phishing_resistant", id="qr-plus-fido2"),
    pytest.param([EXTERNAL], True, "standard", id="external-mfa-counts"),
    pytest.param([UNKNOWN_TYPE], None, "unknown", id="unknown-type-is-unknown-not-registered"),
    pytest.param([UNKNOWN_TYPE, FIDO2], True, "phishing_resistant", id="unknown-type-beside-a-known-factor"),
])
def test_only_documented_second_factors_register_a_user(tmp_path: Path, methods: list[dict[str, Any]],
                                                        registered: bool | None, strongest: str) -> None:
    row = registration(tmp_path, methods)
    if registered is None:
        assert pd.isna(row["registered"])
    else:
        assert bool(row["registered"]) is registered
    assert row["strongest"] == strongest


def test_known_users_are_unchanged(tmp_path: Path) -> None:
    data = normalise(snap(tmp_path / "s", fail={"userRegistrationDetails": (SectionStatus.UNLICENSED, "403")}))
    reg = data.table("mfa_registration").set_index("user_id")
    assert bool(reg.loc[ADA, "registered"]) and bool(reg.loc[BEN, "registered"])
    assert not bool(reg.loc[CARA, "registered"])  # email alone: self-service password reset, not sign-in MFA
