"""idaudit: MFA and identity-hygiene auditor for small healthcare organisations.

The public library API is filled in by idaudit.api (see docs/api.md); importing this package does no work.
"""

from idaudit.version import __version__

__all__ = ["__version__"]
