"""MFA-enforcement evaluators: is a second factor actually required when this account signs in, and by what?

The Microsoft evaluator (conditional_access.py) reads the raw Conditional Access policies, security defaults and
per-user MFA state and names, per user, the policy that enforces MFA or the precise reason none does. It is pure:
plain dicts in, frozen dataclasses out, no pandas and no I/O, so it can be tested table-driven.
"""

from idaudit.core.enforcement.conditional_access import (
    Enforcement,
    GroupDirectory,
    MicrosoftEvaluator,
    TenantFacts,
    UserFacts,
)

__all__ = ["Enforcement", "GroupDirectory", "MicrosoftEvaluator", "TenantFacts", "UserFacts"]
