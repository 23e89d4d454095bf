"""Exchange transport (mail flow) rules -> `forwarding` rows: every documented action that puts a copy of a message in
front of another recipient, with the rule's mode and the conditions that narrow it.

Sources (New-TransportRule, https://learn.microsoft.com/powershell/module/exchange/new-transportrule):
- RedirectMessageTo, BlindCopyTo, CopyTo, AddToRecipients: recipients added to (or replacing) the message's own;
- ModerateMessageByUser: the moderator receives the whole message to approve it;
- AddManagerAsRecipientType (To / Cc / Bcc / Redirect) and ModerateMessageByManager: the sender's manager — an
  address idaudit does not collect, so the recipient cannot be placed (the check says `unknown`);
- GenerateIncidentReport with IncidentReportContent AttachOriginalMail (or the legacy IncidentReportOriginalMail
  IncludeOriginalMail): the report carries the original message. A report without it carries metadata only and is
  not counted as a copy (docs/semantics.md).
- Mode Audit / AuditAndNotify: "no action is taken on the message that would impact delivery" — kept as `mode`, the
  check passes such a rule while naming what it would do if enforced. An absent Mode is read as Enforce (never a
  pass on missing data).
- Conditions (AND) and exceptions (ExceptIf..., OR) narrow which messages a rule touches (mail flow rules,
  https://learn.microsoft.com/exchange/security-and-compliance/mail-flow-rules/mail-flow-rules): summarised in
  `applies_when`; a rule without any applies to every message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idaudit.core.normalise.ms_context import as_list, text

# (field, what the action does, whether the original recipients still get the message)
RECIPIENT_ACTIONS: tuple[tuple[str, str, bool], ...] = (
    ("RedirectMessageTo", "redirects to", False),
    ("BlindCopyTo", "blind-copies to", True),
    ("CopyTo", "copies (Cc) to", True),
    ("AddToRecipients", "adds as a recipient", True),
    ("ModerateMessageByUser", "sends for approval to", True),
)
MANAGER = "(the sender's manager: Manager attribute not collected)"
ORIGINAL_ATTACHED = "sends an incident report with the original message attached to"

# New-TransportRule conditions that have an ExceptIf twin (the same names, prefixed, are the exceptions).
CONDITIONS: tuple[str, ...] = (
    "From", "FromMemberOf", "FromScope", "FromAddressContainsWords", "FromAddressMatchesPatterns", "SenderDomainIs",
    "SenderIpRanges", "SenderADAttributeContainsWords", "SenderADAttributeMatchesPatterns",
    "SenderManagementRelationship", "SenderInRecipientList", "SentTo", "SentToMemberOf", "SentToScope",
    "RecipientDomainIs", "RecipientAddressContainsWords", "RecipientAddressMatchesPatterns",
    "RecipientADAttributeContainsWords", "RecipientADAttributeMatchesPatterns", "RecipientInSenderList",
    "AnyOfToHeader", "AnyOfToHeaderMemberOf", "AnyOfCcHeader", "AnyOfCcHeaderMemberOf", "AnyOfToCcHeader",
    "AnyOfToCcHeaderMemberOf", "AnyOfRecipientAddressContainsWords", "AnyOfRecipientAddressMatchesPatterns",
    "BetweenMemberOf1", "BetweenMemberOf2", "ManagerAddresses", "ManagerForEvaluatedUser", "ADComparisonAttribute",
    "ADComparisonOperator", "SubjectContainsWords", "SubjectMatchesPatterns", "SubjectOrBodyContainsWords",
    "SubjectOrBodyMatchesPatterns", "HeaderContainsMessageHeader", "HeaderContainsWords",
    "HeaderMatchesMessageHeader", "HeaderMatchesPatterns", "AttachmentContainsWords",
    "AttachmentExtensionMatchesWords", "AttachmentHasExecutableContent", "AttachmentIsPasswordProtected",
    "AttachmentIsUnsupported", "AttachmentMatchesPatterns", "AttachmentNameMatchesPatterns",
    "AttachmentProcessingLimitExceeded", "AttachmentPropertyContainsWords", "AttachmentSizeOver",
    "ContentCharacterSetContainsWords", "HasClassification", "HasNoClassification", "HasSenderOverride",
    "MessageContainsAllDataClassifications", "MessageContainsDataClassifications", "MessageSizeOver",
    "MessageTypeMatches", "SCLOver", "WithImportance",
)
WINDOW = ("ActivationDate", "ExpiryDate")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_shown(v)}" for k, v in value.items())
    return text(value)


def _present(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def applies_when(rule: dict[str, Any]) -> str:
    """'SentToScope: NotInOrganization; except From: ceo@x' — '' when the rule touches every message."""
    conds = [f"{c}: {_shown(rule[c])}" for c in CONDITIONS if _present(rule.get(c))]
    excepts = [f"{c}: {_shown(rule['ExceptIf' + c])}" for c in CONDITIONS if _present(rule.get("ExceptIf" + c))]
    window = [f"{w}: {text(rule[w])}" for w in WINDOW if _present(rule.get(w))]
    parts = conds + window
    if excepts:
        parts.append("except " + "; ".join(excepts))
    return "; ".join(parts)


def _mode(rule: dict[str, Any]) -> str:
    mode = text(rule.get("Mode")).strip().casefold()
    return mode or "enforce"


def _report_attaches_original(rule: dict[str, Any]) -> bool:
    content = {text(c).strip().casefold() for c in as_list(rule.get("IncidentReportContent"))}
    legacy = text(rule.get("IncidentReportOriginalMail")).strip().casefold()
    return "attachoriginalmail" in content or legacy == "includeoriginalmail"


def transport_rows(rules: list[Any], address: Callable[[Any], str],
                   domain_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """One forwarding row per (rule, recipient-adding action, recipient)."""
    return [row for tr in rules if isinstance(tr, dict) for row in _rule_rows(tr, address, domain_of)]


def _rule_rows(tr: dict[str, Any], address: Callable[[Any], str],
               domain_of: Callable[[str], str]) -> list[dict[str, Any]]:
    state = text(tr.get("State")).casefold()
    base = {"user_id": "", "mechanism": "transport_rule", "rule_id": text(tr.get("Guid") or tr.get("Identity")),
            "rule_name": text(tr.get("Name") or tr.get("Identity")),
            "enabled": state == "enabled" if state else None, "applies_when": applies_when(tr), "mode": _mode(tr)}
    out: list[dict[str, Any]] = []

    def add(recipient: str, how: str, keeps: bool, domain: str | None = None) -> None:
        dom = domain_of(recipient) if domain is None else domain
        out.append({**base, "recipient": recipient, "recipient_domain": dom, "keeps_copy": keeps, "how": how})

    for field, how, keeps in RECIPIENT_ACTIONS:
        for rec in as_list(tr.get(field)):
            addr = address(rec)
            if addr:
                add(addr, how, keeps)
    manager = text(tr.get("AddManagerAsRecipientType")).strip()
    if manager:
        redirect = manager.casefold() == "redirect"
        add(MANAGER, "redirects to" if redirect else f"adds as a recipient ({manager})", not redirect, "")
    if tr.get("ModerateMessageByManager") is True:
        add(MANAGER, "sends for approval to", True, "")
    report = address(tr.get("GenerateIncidentReport"))
    if report and _report_attaches_original(tr):
        add(report, ORIGINAL_ATTACHED, True)
    return out
