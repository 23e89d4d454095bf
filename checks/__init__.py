"""The check catalogue. Importing this package registers every check with idaudit.engine.REGISTRY.

Modules by family: authentication, accounts, mail, apps. Shared helpers live in checks.common, framework
references in checks.references. Importing is cheap: no I/O and no data is read until a check runs.
"""

from . import accounts, apps, authentication, mail

__all__ = ["accounts", "apps", "authentication", "mail"]
