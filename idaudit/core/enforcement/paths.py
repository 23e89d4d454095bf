"""Coverage of one user's sign-in paths (browser, mobile and desktop apps, Exchange ActiveSync, other clients).

Conditional Access applies every policy that matches a sign-in, so one path is as protected as the strongest
source that reaches it (a block beats a phishing-resistant strength beats MFA beats MFA-or-a-managed-device), and a
user is protected only when every path is. Sources are policies, security defaults and per-user MFA; what does not
cover a path leaves a reason there, what cannot be told leaves an unknown there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from idaudit.core.enforcement.ca_policy import CLIENT_PATHS, CompiledPolicy, paths_phrase
from idaudit.core.enforcement.grant import MFA, PHISHING_RESISTANT, WEAKER

BLOCKED = "blocked"
RANK = {WEAKER: 1, MFA: 2, PHISHING_RESISTANT: 3, BLOCKED: 4}


@dataclass(frozen=True)
class Source:
    label: str  # "CA policy 'X'", "security defaults", "per-user MFA (enforced)"
    breadth: int  # how many paths it covers: a wider source is named first
    order: int  # policies in listed order first, then security defaults, then per-user MFA
    policy: CompiledPolicy | None = None


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


class Coverage:
    """What covers, what does not and what cannot be told, path by path (filled by the evaluator)."""

    def __init__(self) -> None:
        self._sources: dict[str, list[tuple[int, Source]]] = {p: [] for p in CLIENT_PATHS}
        self._unknown: dict[str, list[tuple[str, CompiledPolicy | None]]] = {p: [] for p in CLIENT_PATHS}
        self._reasons: dict[str, list[tuple[int, str, CompiledPolicy | None]]] = {p: [] for p in CLIENT_PATHS}
        self._tail: dict[str, list[str]] = {p: [] for p in CLIENT_PATHS}

    # ---- filling ----------------------------------------------------------------------------------------------
    def cover(self, path: str, label: str, source: Source) -> None:
        self._sources[path].append((RANK[label], source))

    def unknown(self, paths: Iterable[str], why: str, policy: CompiledPolicy | None = None) -> None:
        for p in paths:
            self._unknown[p].append((why, policy))

    def reason(self, paths: Iterable[str], why: str, order: int, policy: CompiledPolicy | None = None) -> None:
        for p in paths:
            self._reasons[p].append((order, why, policy))

    def tail(self, paths: Iterable[str], why: str) -> None:
        """A reason that is not a policy's (per-user MFA, security defaults), listed after the policies'."""
        for p in paths:
            self._tail[p].append(why)

    # ---- reading ----------------------------------------------------------------------------------------------
    def covered(self, path: str) -> bool:
        return bool(self._sources[path])

    def best_rank(self, path: str) -> int:
        return max((r for r, _ in self._sources[path]), default=0)

    def weakest_rank(self, paths: Sequence[str]) -> int:
        return min(self.best_rank(p) for p in paths)

    def all_at_least(self, label: str) -> bool:
        return all(self.best_rank(p) >= RANK[label] for p in CLIENT_PATHS)

    def open_paths(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if not self.covered(p) and not self._unknown[p]]

    def verdict(self, paths: Sequence[str]) -> str:
        if all(self.covered(p) for p in paths):
            return "yes"
        return "no" if self.open_paths(paths) else "unknown"

    def unknowns(self, paths: Sequence[str]) -> list[str]:
        return _dedup(why for p in paths if not self.covered(p) for why, _ in self._unknown[p])

    def reasons(self, paths: Sequence[str]) -> list[str]:
        ordered = sorted((r for p in paths for r in self._reasons[p]), key=lambda r: r[0])
        return _dedup([*(why for _, why, _ in ordered), *(why for p in paths for why in self._tail[p])])

    def has_policy_reason(self, paths: Sequence[str]) -> bool:
        return any(self._reasons[p] for p in paths)

    def policy_reasons(self, policies: Sequence[CompiledPolicy]) -> list[str]:
        wanted = {id(p) for p in policies}
        ordered = sorted((r for p in CLIENT_PATHS for r in self._reasons[p] if id(r[2]) in wanted),
                         key=lambda r: r[0])
        return _dedup(why for _, why, _ in ordered)

    def policy_unknown(self, policy: CompiledPolicy) -> bool:
        return any(pol is policy for p in CLIENT_PATHS for _, pol in self._unknown[p])

    def sources_text(self, paths: Sequence[str], per_path: bool = True) -> str:
        """Who covers these paths: one source when one reaches the best protection on all of them, else each
        source with the paths it covers ("CA policy 'A' (browser ... sign-ins) + CA policy 'B' (...)")."""
        best = {p: self.best_rank(p) for p in paths}
        candidates = sorted({id(s): s for p in paths for _, s in self._sources[p]}.values(),
                            key=lambda s: (-s.breadth, s.order))

        def reaches(src: Source, path: str) -> bool:
            return any(s is src and r == best[path] for r, s in self._sources[path])

        whole = next((s for s in candidates if all(reaches(s, p) for p in paths)), None)
        if whole is not None:
            others = [s.policy.name for s in candidates if s is not whole and s.policy is not None]
            return whole.label + (f" (also: {', '.join(repr(n) for n in others[:3])})" if others else "")
        chosen: dict[int, tuple[Source, list[str]]] = {}
        for p in paths:
            src = next(s for s in candidates if reaches(s, p))
            chosen.setdefault(id(src), (src, []))[1].append(p)
        parts = [src.label + (f" ({paths_phrase(set(ps))} sign-ins)" if per_path else "")
                 for src, ps in chosen.values()]
        return " + ".join(_dedup(parts))
