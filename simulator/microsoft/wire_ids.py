"""Well-known Microsoft identifiers and deterministic ids for rendered objects.

Real identifiers are used where Microsoft publishes them (resource app ids, app-role ids of the permissions we
render, licence SKU ids, guest role ids); everything else is derived from the organisation's ids with uuid5 so
the same organisation always renders the same objects.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"  # Office 365 SharePoint Online
MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

# Application permissions (app roles) of Microsoft Graph, by value.
GRAPH_APP_ROLES: dict[str, str] = {
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
    "Mail.Read": "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "Mail.ReadWrite": "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "Mail.ReadBasic.All": "693c5e45-0940-467d-9b8a-1022fb9d42ef",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Domain.Read.All": "dbb9058a-0e50-45d7-ae91-66909b5d4664",
    "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
    "UserAuthenticationMethod.Read.All": "38d9df27-64da-44fd-b7c5-a6fbac20248f",
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
    "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
    "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
    "MailboxSettings.Read": "40f97065-369a-49f4-947c-6a255697ae91",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Files.Read.All": "01d4889c-1287-42c6-ac1f-5d1e02578ef6",
}
EXCHANGE_APP_ROLES: dict[str, str] = {
    "full_access_as_app": "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
    "Exchange.ManageAsApp": "dc50a0fb-09a3-484d-be87-e023b12c6440",
}

GUEST_ROLE_IDS = {
    "member": "a0b1b346-4d3e-4e8b-98f8-753987be4970",
    "guest": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
    "restricted_guest": "2af84b1e-32c8-42b7-82bc-daa82404023b",
}

# Licences: (skuId, skuPartNumber, service plans (id, name)).
SKU_BUSINESS_PREMIUM = ("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", "SPB",
                        (("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM"),
                         ("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE")))
SKU_BUSINESS_STANDARD = ("f245ecc8-75af-4f8e-b61f-27d8114de5f3", "O365_BUSINESS_PREMIUM",
                         (("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD"),))
SKU_ENTRA_P2 = ("84a661c4-e949-4bd2-a560-ed7766fcaf2b", "AAD_PREMIUM_P2",
                (("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2"),))

PASSWORD_METHOD_ID = "28c10230-6103-485e-b985-444c60001490"
MOBILE_PHONE_METHOD_ID = "3179e48a-750b-4051-897c-87b9720928f7"
OFFICE_PHONE_METHOD_ID = "e37fc753-ff3b-4958-9484-eaa9425c82bc"
EMAIL_METHOD_ID = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f"

_NS = uuid.UUID("6c7a1d1e-2f0b-4f44-9a51-7d1f3c0e9b21").bytes


def derived_id(*parts: str) -> str:
    """A stable uuid for an object derived from other ids (same inputs, same id, every run).

    A name-based (version 5 style) uuid formatted by hand: uuid.uuid5 is too slow for 100,000 users."""
    h = hashlib.sha1(_NS + "|".join(parts).encode(), usedforsecurity=False).hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def opaque_id(*parts: str, length: int = 43) -> str:
    """An opaque base64url id like the ones Graph uses for grants, role assignments and mail folders."""
    digest = hashlib.sha256("|".join(parts).encode()).digest() * 2
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def folder_id(user_id: str, folder: str) -> str:
    """An Exchange folder id (opaque, 'AAMk...'): Graph never shows a folder's name in an inbox rule."""
    return "AAMk" + opaque_id("folder", user_id, folder, length=116)


def iso(dt: datetime | None) -> str | None:
    """Graph's timestamp format: UTC with a Z suffix, whole seconds."""
    if dt is None:
        return None
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def graph_app_role_id(permission: str) -> str:
    return GRAPH_APP_ROLES.get(permission) or derived_id("graph-app-role", permission)


# SharePoint Online's application roles the simulator offers (ids derived: the real ones are the tenant's to read).
SHAREPOINT_APP_ROLE_NAMES = ("Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All",
                             "Sites.Selected", "User.Read.All", "TermStore.Read.All")


def sharepoint_app_role_id(permission: str) -> str:
    return derived_id("sharepoint-app-role", permission)


def exchange_app_role_id(permission: str) -> str:
    return EXCHANGE_APP_ROLES.get(permission) or derived_id("exchange-app-role", permission)
