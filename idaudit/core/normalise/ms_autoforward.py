"""Exchange automatic external forwarding -> `auto_forward_senders` (who may) and `remote_domains` (to where).

Both controls must block for forwarding to be blocked ("when one setting allows external forwarding, but another
setting blocks it, the block typically wins"):

1. Outbound spam policies decide per sender (https://learn.microsoft.com/defender-office-365/outbound-spam-policies-
   configure). Custom policies apply, ahead of Default, to the senders their enabled HostedOutboundSpamFilterRule
   names; rules are tried by Priority (0 first) and the first that applies to a sender decides ("protection stops
   for a sender after the first policy is applied"); a sender no rule applies to gets Default. In a rule, From /
   FromMemberOf / SenderDomainIs are ANDed (several values of one condition ORed; a domain includes its
   subdomains); the ExceptIf... exceptions are ORed. A policy no enabled rule points to applies to nobody.
   AutoForwardingMode On allows; Off blocks; Automatic is Off today
   (https://learn.microsoft.com/defender-office-365/outbound-spam-policies-external-email-forwarding).
2. Remote domains decide per destination (https://learn.microsoft.com/exchange/mail-flow-best-practices/remote-
   domains/remote-domains): the default remote domain '*' applies to every external domain no other remote domain
   names, so a 'gmail.com' remote domain with AutoForwardEnabled true opens Gmail whatever '*' says.

A sender whose outcome depends on what idaudit could not read (a group's members, the rules themselves) is
`unknown` with the reason — unless both possible outcomes are the same, when it is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idaudit.core.enforcement.conditional_access import GroupDirectory
from idaudit.core.normalise.availability import built
from idaudit.core.normalise.ms_context import Tables, as_list, text

POLICIES, RULES, MAILBOXES, REMOTE = ("exchange.outboundSpamPolicies", "exchange.outboundSpamRules",
                                      "exchange.mailboxes", "exchange.remoteDomains")
MODES = {"on": "on", "off": "off", "automatic": "off"}  # Automatic - System-controlled is Off (documented)


@dataclass(frozen=True)
class Outcome:
    """What applies to one sender: allowed yes / no / unknown, the policy, how it was decided, why unknown."""

    allowed: str
    policy: str = ""
    via: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Sender:
    user_id: str
    identities: frozenset[str]  # case-folded addresses and names a rule's From may name
    domain: str  # primary SMTP domain, case-folded


@dataclass(frozen=True)
class SpamRule:
    name: str
    policy: str
    priority: int
    raw: dict[str, Any]


def _mode(policy: dict[str, Any] | None) -> str | None:
    if policy is None:
        return None
    return MODES.get(text(policy.get("AutoForwardingMode")).strip().casefold())


def _smtp(value: Any) -> str:
    v = text(value).strip()
    return v.split(":", 1)[1].strip() if v.casefold().startswith("smtp:") else v


def _senders(t: Tables) -> list[Sender] | None:
    """Mailboxes (they are who auto-forwards), else every user with a mail address; None when neither was read."""
    users = {text(u.get("id")): u for u in t.users if u.get("id")}
    mailboxes = t.data(MAILBOXES)
    out: list[Sender] = []
    if isinstance(mailboxes, list):
        for mb in mailboxes:
            if not isinstance(mb, dict) or not mb.get("ExternalDirectoryObjectId"):
                continue
            uid = text(mb["ExternalDirectoryObjectId"])
            u = users.get(uid, {})
            ids = {_smtp(a) for a in as_list(mb.get("EmailAddresses"))} | {
                text(mb.get(k)) for k in ("Identity", "Name", "DisplayName", "Alias", "PrimarySmtpAddress",
                                          "UserPrincipalName", "DistinguishedName", "Guid", "ExchangeObjectId",
                                          "ExternalDirectoryObjectId")} | {text(u.get(k)) for k in
                                                                   ("mail", "userPrincipalName", "displayName")}
            primary = _smtp(mb.get("PrimarySmtpAddress")) or text(u.get("mail"))
            out.append(Sender(uid, frozenset(i.strip().casefold() for i in ids if i.strip()),
                              primary.rsplit("@", 1)[-1].casefold() if "@" in primary else ""))
        return out
    if not t.users_ok:
        return None
    for uid, u in users.items():
        mail = text(u.get("mail")).strip()
        if not mail:
            continue
        ids = {mail, text(u.get("userPrincipalName")), text(u.get("displayName")), uid}
        out.append(Sender(uid, frozenset(i.strip().casefold() for i in ids if i.strip()),
                          mail.rsplit("@", 1)[-1].casefold()))
    return out


class GroupsByName:
    """FromMemberOf names a group by identity (name, alias or address): find its id among the collected groups."""

    def __init__(self, t: Tables, directory: GroupDirectory) -> None:
        self.directory = directory
        self.ids: dict[str, set[str]] = {}
        for g in t.data("groups") or []:
            if isinstance(g, dict) and g.get("id"):
                for key in (g.get("displayName"), g.get("mail"), g.get("mailNickname"), g.get("id")):
                    if text(key).strip():
                        self.ids.setdefault(text(key).strip().casefold(), set()).add(text(g["id"]))

    def contains(self, group: str, user_id: str) -> bool | None:
        found = self.ids.get(group.strip().casefold(), set())
        if len(found) != 1:
            return None
        return self.directory.contains(next(iter(found)), user_id)


class SenderPolicies:
    """Which outbound spam policy applies to each sender, and what it says about automatic forwarding."""

    def __init__(self, policies: list[Any], rules: list[Any] | None, groups: GroupsByName, rules_why: str) -> None:
        self.by_name = {text(p.get("Name") or p.get("Identity")): p for p in policies if isinstance(p, dict)}
        default = [p for p in policies if isinstance(p, dict) and p.get("IsDefault") is True]
        self.default_name = text(default[0].get("Name") or default[0].get("Identity")) if default else "Default"
        self.default_mode = _mode(default[0]) if default else None
        self.groups = groups
        self.rules_why = rules_why
        self.rules: list[SpamRule] | None = None
        if rules is not None:
            enabled = [r for r in rules if isinstance(r, dict) and text(r.get("State")).casefold() in ("enabled", "")]
            self.rules = sorted((SpamRule(text(r.get("Name") or r.get("Identity")),
                                          text(r.get("HostedOutboundSpamFilterPolicy")), _priority(r), r)
                                 for r in enabled), key=lambda r: (r.priority, r.name))

    def _policy_mode(self, name: str) -> str | None:
        return _mode(self.by_name.get(name))

    def outcome(self, sender: Sender) -> Outcome:
        if self.rules is None:  # which senders the custom policies cover is unknown
            custom = {n for n, p in self.by_name.items() if p.get("IsDefault") is not True}
            modes = {self._policy_mode(n) for n in custom} | {self.default_mode}
            if len(modes) == 1 and None not in modes:
                return self._default(f"every policy says {self.default_mode} ({self.rules_why})")
            return Outcome("unknown", reason=f"which senders the custom outbound spam policies "
                                             f"({', '.join(sorted(custom))}) apply to is unknown: {self.rules_why}")
        return self._walk(sender, self.rules)

    def _default(self, via: str = "no custom policy applies") -> Outcome:
        if self.default_mode is None:
            return Outcome("unknown", self.default_name, reason="the default policy's AutoForwardingMode is not "
                                                                 "On, Off or Automatic, or it was not found")
        return Outcome("yes" if self.default_mode == "on" else "no", self.default_name, via)

    def _walk(self, sender: Sender, rules: list[SpamRule]) -> Outcome:
        for i, rule in enumerate(rules):
            applies, why = self._applies(rule.raw, sender)
            if applies is False:
                continue
            mode = self._policy_mode(rule.policy)
            if applies and mode is not None:
                return Outcome("yes" if mode == "on" else "no", rule.policy, f"rule '{rule.name}' applies")
            if applies and mode is None:
                return Outcome("unknown", rule.policy, reason=f"policy '{rule.policy}' of rule '{rule.name}' has no "
                                                              "known AutoForwardingMode")
            rest = self._walk(sender, rules[i + 1:])  # if the rule does not apply
            if mode is not None and rest.allowed == ("yes" if mode == "on" else "no"):
                return Outcome(rest.allowed, rest.policy, f"{rest.via}; rule '{rule.name}' would say the same")
            return Outcome("unknown", rule.policy, reason=f"rule '{rule.name}' ({rule.policy}, AutoForwardingMode "
                                                          f"{mode or '?'}) may apply: {why}")
        return self._default()

    def _applies(self, rule: dict[str, Any], s: Sender) -> tuple[bool | None, str]:
        """Whether a rule's sender filter takes this sender: True / False / None (with the reason it is unknown)."""
        conds: list[tuple[bool | None, str]] = []
        if as_list(rule.get("From")):
            conds.append((_named(rule.get("From"), s), ""))
        if as_list(rule.get("SenderDomainIs")):
            conds.append((_in_domain(rule.get("SenderDomainIs"), s), ""))
        if as_list(rule.get("FromMemberOf")):
            conds.append(self._member(rule.get("FromMemberOf"), s))
        if not conds:  # the portal requires a filter; a rule without one is read as covering every sender
            conds.append((True, ""))
        exc: list[tuple[bool | None, str]] = []
        if as_list(rule.get("ExceptIfFrom")):
            exc.append((_named(rule.get("ExceptIfFrom"), s), ""))
        if as_list(rule.get("ExceptIfSenderDomainIs")):
            exc.append((_in_domain(rule.get("ExceptIfSenderDomainIs"), s), ""))
        if as_list(rule.get("ExceptIfFromMemberOf")):
            exc.append(self._member(rule.get("ExceptIfFromMemberOf"), s))
        if any(v is False for v, _ in conds) or any(v is True for v, _ in exc):
            return False, ""
        unknown = [w for v, w in conds + exc if v is None]
        return (None, "; ".join(unknown)) if unknown else (True, "")

    def _member(self, groups: Any, s: Sender) -> tuple[bool | None, str]:
        answers = [(g, self.groups.contains(text(g), s.user_id)) for g in as_list(groups)]
        if any(a is True for _, a in answers):
            return True, ""
        missing = [text(g) for g, a in answers if a is None]
        if missing:
            gap = self.groups.directory.gap
            return None, f"membership of group(s) {', '.join(repr(m) for m in missing)} not collected ({gap})"
        return False, ""


def _priority(rule: dict[str, Any]) -> int:
    value = rule.get("Priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1_000_000


def _named(values: Any, s: Sender) -> bool:
    return any(text(v).strip().casefold() in s.identities for v in as_list(values))


def _in_domain(values: Any, s: Sender) -> bool:
    """SenderDomainIs: senders whose primary address is in the domain or a subdomain of it (documented)."""
    return any(s.domain == d or s.domain.endswith("." + d)
               for d in (text(v).strip().strip(".").casefold() for v in as_list(values)) if d)


def remote_domains_table(t: Tables) -> None:
    raw = t.data(REMOTE)
    if not isinstance(raw, list):
        t.missing("remote_domains", REMOTE)
        return
    rows = [{"domain": text(r.get("DomainName")).strip().casefold(), "name": text(r.get("Identity") or r.get("Name")),
             "auto_forward": r.get("AutoForwardEnabled")} for r in raw if isinstance(r, dict) and r.get("DomainName")]
    t.put("remote_domains", rows, built((REMOTE,)))


def senders_table(t: Tables, groups: GroupDirectory) -> None:
    policies = t.data(POLICIES)
    senders = _senders(t)
    if not isinstance(policies, list) or senders is None:
        t.missing("auto_forward_senders", POLICIES, MAILBOXES)
        return
    rules = t.data(RULES)
    evaluator = SenderPolicies(policies, rules if isinstance(rules, list) else None, GroupsByName(t, groups),
                               t.why(RULES))
    rows = []
    for s in senders:
        o = evaluator.outcome(s)
        rows.append({"user_id": s.user_id, "allowed": o.allowed, "policy": o.policy, "via": o.via,
                     "reason": o.reason})
    t.put("auto_forward_senders", rows, built((POLICIES, RULES, MAILBOXES)))


def auto_forward_tables(t: Tables, groups: GroupDirectory) -> None:
    senders_table(t, groups)
    remote_domains_table(t)

