"""The `signIns` section keeps aggregates per user, not every sign-in: the countries and addresses a user signed in
from, and how many successes used a legacy protocol or a single factor (docs/snapshot-format.md).

Part of the snapshot format, so it lives in the core: the connector folds Graph's signIn objects into it as they
arrive, the simulator renders the same fold for its rendered snapshot, and the normaliser reads it. The fold is
independent of the order sign-ins arrive in (Graph returns newest first; pages may overlap in time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Graph's clientAppUsed values of modern clients; everything else is a legacy protocol (basic authentication):
# Exchange ActiveSync, IMAP4, POP3, Authenticated SMTP, MAPI over HTTP, Exchange Web Services, Other clients, ...
MODERN_CLIENTS = frozenset({"browser", "mobile apps and desktop clients"})
MAX_IPS_PER_COUNTRY = 10

SIGN_IN_SELECT = ("id,createdDateTime,userId,userPrincipalName,ipAddress,clientAppUsed,location,status,"
                  "authenticationRequirement,appDisplayName,riskLevelDuringSignIn")


def is_legacy(client_app: str) -> bool:
    return bool(client_app) and client_app.strip().casefold() not in MODERN_CLIENTS


def _key(s: Mapping[str, Any]) -> tuple[str, str]:
    return str(s.get("createdDateTime") or ""), str(s.get("id") or "")


def aggregate_sign_ins(sign_ins: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """{user id: aggregate} from Graph signIn objects; failures (status.errorCode != 0) are left out."""
    rows = [s for s in sign_ins if isinstance(s, dict) and s.get("userId")
            and isinstance(s.get("status"), dict) and s["status"].get("errorCode") == 0]
    rows.sort(key=_key)
    out: dict[str, dict[str, Any]] = {}
    for s in rows:
        uid, when = str(s["userId"]), str(s.get("createdDateTime") or "")
        ip = str(s.get("ipAddress") or "")
        loc: dict[str, Any] = s["location"] if isinstance(s.get("location"), dict) else {}
        country = str(loc.get("countryOrRegion") or "")
        client = str(s.get("clientAppUsed") or "")
        agg = out.setdefault(uid, {"userPrincipalName": str(s.get("userPrincipalName") or ""), "signIns": 0,
                                   "first": when, "last": when, "countries": {}})
        agg["signIns"] += 1
        agg["last"] = when
        c = agg["countries"].setdefault(country, {"count": 0, "first": when, "last": when, "firstIp": ip,
                                                  "city": str(loc.get("city") or ""), "ips": []})
        c["count"] += 1
        c["last"] = when
        if ip and ip not in c["ips"] and len(c["ips"]) < MAX_IPS_PER_COUNTRY:
            c["ips"].append(ip)
        if is_legacy(client):
            leg = agg.setdefault("legacy", {"count": 0, "clients": [], "last": when, "lastIp": ip})
            leg["count"] += 1
            leg["last"], leg["lastIp"] = when, ip
            if client not in leg["clients"]:
                leg["clients"].append(client)
        if str(s.get("authenticationRequirement") or "") == "singleFactorAuthentication":
            sf = agg.setdefault("singleFactor", {"count": 0, "last": when, "lastIp": ip})
            sf["count"] += 1
            sf["last"], sf["lastIp"] = when, ip
    return out
