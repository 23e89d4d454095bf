"""The Exchange role idaudit asks for is the documented least-privileged one (issue 21 item 5).

Get-Mailbox reads recipients, which the 'View-Only Configuration' role alone does not cover; Microsoft documents app
permissions for Exchange Online PowerShell / the admin API as Entra roles (Global Reader is supported) or custom role
groups the app's service principal joins with Add-RoleGroupMember (Microsoft Learn, "App-only authentication in
Exchange Online PowerShell", step 5). Every place that tells an administrator what to grant must say the same.
"""

from __future__ import annotations

from pathlib import Path

from idaudit.core.sections import MICROSOFT_SECTIONS

ROOT = Path(__file__).resolve().parent.parent


def test_every_exchange_section_asks_for_recipient_and_configuration_read() -> None:
    exchange = [s for s in MICROSOFT_SECTIONS if s.name.startswith("exchange.")]
    assert len(exchange) >= 5  # every Exchange section, however many there are
    for spec in exchange:
        assert "Global Reader" in spec.permission, spec.name
        assert "View-Only Recipients" in spec.permission and "View-Only Configuration" in spec.permission, spec.name


def test_the_guides_give_the_documented_role_group_way_and_keep_global_reader() -> None:
    guide = (ROOT / "docs" / "microsoft.md").read_text(encoding="utf-8")
    assert "Add-RoleGroupMember" in guide and "New-ServicePrincipal" in guide
    assert '"View-Only Recipients","View-Only Configuration"' in guide
    assert "Global Reader" in guide
    assert 'New-ManagementRoleAssignment -App <client-id> -Role "View-Only Configuration"' not in guide
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| Exchange.ManageAsApp"))
    assert "Global Reader" in row and "View-Only Recipients" in row
