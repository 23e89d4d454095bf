"""The words an attacker's hiding rule files away, in the forms people write them.

Attackers' inbox rules hide the replies that would expose them: payment-fraud mail (invoice, payment, wire, bank)
and "your account was compromised" warnings (MITRE ATT&CK T1564.008, Email Hiding Rules: "malicious rules
commonly filter out emails based on key words such as malware, suspicious, phish, and hack"). A rule matches
words as the user typed them, so a rule on 'hacked', 'phishing' or 'invoices' must count like one on 'hack',
'phish' or 'invoice'.

Each entry is a word and the endings it takes in the organisation's languages (the demo organisation writes US
English; another language is a new entry in `LANGUAGES`). Endings are listed, not guessed by a stemmer: a
stemmer would turn 'wireless', 'hackathon' or 'bankruptcy' into hits and flood ordinary filing rules with noise.
Matching is case-insensitive and on word boundaries, so 'evilbank' or 'paymentus' never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HidingWord:
    """A word attackers' rules match, and the endings it takes ('' = the word itself)."""

    word: str
    endings: tuple[str, ...] = ("",)
    stem: str = ""  # the part the endings attach to, when it is not the word itself ('invoic' + 'ing')

    def forms(self) -> tuple[str, ...]:
        base = self.stem or self.word
        out = [self.word, *(base + e for e in self.endings)]
        return tuple(dict.fromkeys(f for f in out if f))


_NOUN = ("", "s")
_VERB_E = ("e", "es", "ed", "ing")

ENGLISH: tuple[HidingWord, ...] = (
    # payment fraud
    HidingWord("invoice", _VERB_E, stem="invoic"),
    HidingWord("payment", _NOUN),
    HidingWord("wire", ("", "s", "d")),
    HidingWord("bank", ("", "s", "ing", "er", "ers")),
    HidingWord("remittance", _NOUN),
    HidingWord("ach"),
    HidingWord("payroll", _NOUN),
    HidingWord("direct deposit", _NOUN),
    HidingWord("w-2", _NOUN),
    HidingWord("w2", _NOUN),
    # account compromise and the warnings about it
    HidingWord("password", _NOUN),
    HidingWord("security"),
    HidingWord("secure", ("", "d")),
    HidingWord("phish", ("", "es", "ed", "ing", "er", "ers")),
    HidingWord("hack", ("", "s", "ed", "ing", "er", "ers")),
    HidingWord("compromise", _VERB_E, stem="compromis"),
    HidingWord("suspicious", ("", "ly")),
    HidingWord("fraud", ("", "s", "ulent")),
    HidingWord("verify", ("", "ies", "ied", "ying", "ication", "ications"), stem="verif"),
    HidingWord("mfa"),
    HidingWord("helpdesk"),
    HidingWord("help desk"),
    HidingWord("it support"),
    HidingWord("do not open"),
    HidingWord("spam"),
    HidingWord("scam", ("", "s", "mer", "mers")),
    HidingWord("urgent", ("", "ly")),
)

LANGUAGES: Mapping[str, tuple[HidingWord, ...]] = {"en": ENGLISH}


@dataclass(frozen=True)
class HidingWords:
    """A compiled word list: `find` names the base words a text contains, whatever form it uses."""

    entries: tuple[HidingWord, ...]
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    by_form: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_form = {f.casefold(): e.word for e in self.entries for f in e.forms()}
        longest_first = sorted(by_form, key=len, reverse=True)
        pattern = r"(?<![a-z0-9])(" + "|".join(re.escape(f) for f in longest_first) + r")(?![a-z0-9])"
        object.__setattr__(self, "by_form", by_form)
        object.__setattr__(self, "regex", re.compile(pattern, re.IGNORECASE))

    def base(self, form: str) -> str:
        """The listed word a matched form belongs to ('Phishing' -> 'phish')."""
        return self.by_form.get(form.casefold(), form.casefold())

    def find(self, text: str) -> list[str]:
        """Sorted base words found in `text` ('Hacked payments' -> ['hack', 'payment'])."""
        return sorted({self.base(m.group(1)) for m in self.regex.finditer(text or "")})

    def words(self) -> tuple[str, ...]:
        return tuple(e.word for e in self.entries)

    def shown(self) -> list[str]:
        """Each word with its forms, for the generated docs ('invoice (invoices, invoiced, invoicing)')."""
        out = []
        for e in self.entries:
            others = [f for f in e.forms() if f != e.word]
            out.append(f"{e.word} ({', '.join(others)})" if others else e.word)
        return out


def hiding_words(languages: Iterable[str] = ("en",)) -> HidingWords:
    return HidingWords(tuple(e for lang in languages for e in LANGUAGES[lang]))


HIDING_WORDS = hiding_words()
