"""MFA-enforcement evaluators: is a second factor actually required when this account signs in, and by what?

The Microsoft evaluator (conditional_access.py) reads the raw Conditional Access policies (ca_policy.py: whom a
policy names and which sign-ins it reaches; grant.py: whether its grant takes a second factor), security defaults
and per-user MFA state, judges each client path (paths.py), and names, per user, what enforces MFA and closes legacy
authentication, or the precise reason nothing does. It is pure: plain dicts in, frozen dataclasses out, no pandas
and no I/O, so it can be tested table-driven. The rules and their sources: docs/semantics.md.
"""

from idaudit.core.enforcement.conditional_access import (
    Enforcement,
    GroupDirectory,
    MicrosoftEvaluator,
    TenantFacts,
    UserFacts,
)

__all__ = ["Enforcement", "GroupDirectory", "MicrosoftEvaluator", "TenantFacts", "UserFacts"]
