"""Collecting: the connectors behind one small call each (notebook, script, scheduled audit), and the device-code
prompt.

msal / msgraph-sdk and the Google client load inside these functions only (lazy imports for start-up time, which
follow the layers: orchestration may import connectors), so importing idaudit stays cheap.
"""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS

if TYPE_CHECKING:
    from idaudit.core.config import TenantConfig

PathLike = str | os.PathLike[str]


def _text(value: object) -> str:
    """Plain-text display of untrusted text: no escape sequences or bidi controls reach a terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))


_URL = re.compile(r"https://[^\s<>\"']+")
_CODE = re.compile(r"\bcode\s+([A-Z0-9][A-Z0-9-]{5,})\b")


def device_code_html(message: str) -> str:
    """The sign-in prompt as HTML: a clickable https link and the code in large type, the message escaped."""
    e = html.escape
    url_match, code_match = _URL.search(message), _CODE.search(message)
    if not (url_match and code_match):
        return f"<p>{e(message)}</p>"
    url = url_match.group(0).rstrip(".,;")
    return (f"<p>Sign in: open <a href=\"{e(url, quote=True)}\" target=\"_blank\" rel=\"noopener noreferrer\">"
            f"{e(url)}</a> and enter the code <code style=\"font-size:1.4em\">{e(code_match.group(1))}</code></p>"
            f"<p style=\"color:gray\">{e(message)}</p>")


def show_device_code(message: str) -> None:
    """Show a device-code sign-in prompt: in Jupyter as a link and a large code, elsewhere on stderr.

    The message comes from the identity platform ("To sign in, use a web browser to open the page
    https://microsoft.com/devicelogin and enter the code ABCD-EFGH to authenticate."); it is escaped, and only an
    https address becomes a link.
    """
    shell: Any = None
    try:
        from IPython import get_ipython  # type: ignore[attr-defined]

        shell = get_ipython()
    except ImportError:
        pass
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        print(_text(message), file=sys.stderr, flush=True)
        return
    from IPython.display import HTML, display

    display(HTML(device_code_html(message)))


def collect_microsoft(out_dir: PathLike, *, tenant_id: str, client_id: str, client_secret: str | None = None,
                      certificate: PathLike | None = None, certificate_password: str | None = None,
                      device_code: bool = False, on_device_code: Callable[[str], None] | None = None,
                      sections: Collection[str] | None = None, progress: bool = True, **options: Any) -> Path:
    """Collect a Microsoft 365 / Entra ID tenant into a new snapshot directory and return its path.

    Exactly one credential: `client_secret`, `certificate` (PEM or PFX with the private key), or
    `device_code=True` (sign in as a user in a browser: the code and link are shown in the notebook, or passed to
    `on_device_code`). `sections` limits collection to some section names (idaudit.core.sections); a progress bar
shows on a terminal only. Further keyword options go to connectors.microsoft.MicrosoftOptions (authority_host,
    graph_endpoint, exchange_endpoint, ca_bundle, token_cache_path, concurrency, ...). Read-only; a section that
    cannot be read becomes a status in the manifest, and only a failed sign-in raises CollectionError.
    """
    from connectors.microsoft.collect import collect_microsoft as _collect  # lazy: start-up time
    from connectors.microsoft.options import MicrosoftOptions

    for key in ("ca_bundle", "token_cache_path"):
        if options.get(key) is not None:
            options[key] = Path(options[key]).expanduser()
    opts = MicrosoftOptions(
        tenant_id=tenant_id, client_id=client_id, client_secret=client_secret,
        certificate_path=Path(certificate).expanduser() if certificate is not None else None,
        certificate_password=certificate_password, device_code=device_code,
        device_code_callback=(on_device_code or show_device_code) if device_code else None, **options)
    return Path(_collect(opts, Path(out_dir).expanduser(), progress=progress, sections=sections))


def collect_google(out_dir: PathLike, *, admin_subject: str, service_account_file: PathLike | None = None,
                   service_account_info: Mapping[str, Any] | None = None, customer_id: str = "my_customer",
                   sections: Collection[str] | None = None, progress: bool = True, **options: Any) -> Path:
    """Collect a Google Workspace tenant into a new snapshot directory and return its path.

    Signs in as a service account with domain-wide delegation (`service_account_file`, the JSON key, or the same
    key already loaded as `service_account_info`) and impersonates `admin_subject`, a super admin, for the
    Directory, Reports and Policy APIs (docs/google.md). Further keyword options go to
    connectors.google.options.GoogleOptions (api_endpoint, token_uri, ca_bundle, workers, ...). Read-only; a
    section that cannot be read becomes a status in the manifest, and only a failed sign-in raises
    CollectionError.
    """
    from connectors.google.collect import collect_google as _collect  # lazy: start-up time
    from connectors.google.options import GoogleOptions, load_service_account_file

    if (service_account_file is None) == (service_account_info is None):
        raise CollectionError("give exactly one of service_account_file or service_account_info")
    info = (load_service_account_file(Path(service_account_file).expanduser()) if service_account_file is not None
            else dict(service_account_info or {}))
    opts = GoogleOptions(service_account_info=info, admin_subject=admin_subject, customer_id=customer_id,
                         **options)
    return Path(_collect(opts, Path(out_dir).expanduser(), progress=progress, sections=sections))


def collect_tenant(tenant: TenantConfig, out_dir: Path, *, progress: bool = True,
                   lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Path:
    """Collect one configured tenant into `out_dir` (a new snapshot directory) and return its path; the sign-in
    and audit logs cover the last `lookback_days` (the config's `[audit] lookback_days`).

    Dispatches to the provider's connector; raises idaudit.core.errors.CollectionError when collection cannot
    start (failed sign-in). Section-level failures are recorded in the manifest, not raised.
    """
    if tenant.provider == "microsoft":
        from connectors.microsoft.collect import collect_from_config as collect_ms  # lazy: start-up time

        return collect_ms(tenant, out_dir, progress=progress, lookback_days=lookback_days)
    if tenant.provider == "google":
        from connectors.google.collect import collect_from_config as collect_gg  # lazy: start-up time

        return collect_gg(tenant, out_dir, progress=progress, lookback_days=lookback_days)
    raise ValueError(f"unknown provider {tenant.provider!r}")
