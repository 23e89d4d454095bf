"""Framework references the checks cite, defined once (references.toml beside this module) so every check spells
an id the same way: `R.HIPAA_AUTH` is the entry HIPAA_AUTH of the [HIPAA] table.

Every id here was looked up (2026-11-28) in the published source or, where noted, a faithful listing of it:
- HIPAA Security Rule, 45 CFR Part 164 Subpart C (section numbers and standard names as published).
- HHS HPH Cybersecurity Performance Goals (Jan 2024): the ten essential goals, cited by name (checked against
  published summaries of the HHS list; numbering differs between summaries, so no numbers are cited).
- CIS Microsoft 365 Foundations Benchmark v6.0.1 recommendation numbers (as listed by maester365/maester).
- CISA SCuBA: ScubaGear baselines aad.md / exo.md (MS.AAD.*, MS.EXO.*), ScubaGoggles commoncontrols.md / gmail.md
  (GWS.*); ids whose published version changed over time (MS.EXO.1.1, several GWS.*) are cited without the
  version suffix.
- MITRE ATT&CK Enterprise technique ids.
"""

from __future__ import annotations

import tomllib
from importlib import resources

from idaudit.core.model import Framework, Reference


def _load() -> dict[str, Reference]:
    data = tomllib.loads(resources.files("checks").joinpath("references.toml").read_text(encoding="utf-8"))
    refs: dict[str, Reference] = {}
    for framework, entries in data.items():
        for name, entry in entries.items():
            if name in refs:
                raise ValueError(f"checks/references.toml: reference {name} is defined twice")
            refs[name] = Reference(Framework[framework], entry["id"], entry.get("title", ""))
    return refs


REFERENCES: dict[str, Reference] = _load()


def __getattr__(name: str) -> Reference:
    try:
        return REFERENCES[name]
    except KeyError:
        raise AttributeError(f"checks/references.toml has no reference named {name!r}") from None
