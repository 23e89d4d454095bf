"""Config validation: every error names the file and the key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from idaudit.core.config import load_config
from idaudit.core.errors import ConfigError


def _cfg(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "idaudit.toml"
    p.write_text(text)
    return p


def test_defaults_without_file() -> None:
    cfg = load_config(None)
    assert cfg.settings.stale_days == 90
    assert (cfg.settings.global_admin_min, cfg.settings.global_admin_max) == (2, 4)


def test_full_config(tmp_path: Path) -> None:
    cfg = load_config(_cfg(tmp_path, """
[audit]
stale_days = 60
trusted_domains = ["Partner.COM"]
break_glass = ["bg1@x.org"]

[[waivers]]
check = "IDA-AUTH-002"
subject = "bg1@x.org"
owner = "IT"
reason = "break glass"
expires = 2027-01-31

[[tenants]]
name = "riverside"
provider = "microsoft"
tenant_id = "t"
client_id = "c"
client_secret_env = "RIVERSIDE_SECRET"
"""))
    assert cfg.settings.stale_days == 60
    assert cfg.settings.trusted_domains == frozenset({"partner.com"})
    assert cfg.waivers[0].expires == date(2027, 1, 31)
    assert cfg.tenants[0].options["client_secret_env"] == "RIVERSIDE_SECRET"


@pytest.mark.parametrize("text, key", [
    ("[audit]\nstale_dayz = 3\n", "audit.stale_dayz"),
    ("[audit]\nstale_days = 'x'\n", "audit.stale_days"),
    ("[audit]\nglobal_admin_min = 9\nglobal_admin_max = 3\n", "audit.global_admin_min"),
    ("[[waivers]]\ncheck='IDA-AUTH-001'\nsubject='*'\nowner='x'\nreason='y'\n", "waivers[0].expires"),
    ("[[waivers]]\ncheck='IDA-AUTH-001'\nsubject='*'\nowner='x'\nreason='y'\nexpires='soon'\n", "waivers[0].expires"),
    ("[[tenants]]\nname='a'\nprovider='microsoft'\n[[tenants]]\nname='a'\nprovider='google'\n", "tenants[1].name"),
    ("[[tenants]]\nname='a'\nprovider='aws'\n", "tenants[0].provider"),
    ("[[tenants]]\nname='a'\nprovider='microsoft'\nclient_secret='hunter2'\n", "tenants[0].client_secret"),
    ("[[tenants]]\nname='a'\nprovider='google'\ndirectory_quota='2400'\n", "tenants[0].directory_quota"),
    ("[[tenants]]\nname='a'\nprovider='google'\ndirectory_quota=0\n", "tenants[0].directory_quota"),
    ("[[tenants]]\nname='a'\nprovider='google'\ndirectory_quota=true\n", "tenants[0].directory_quota"),
    ("[[tenants]]\nname='a'\nprovider='microsoft'\ndirectory_quota=2400\n", "tenants[0].directory_quota"),
    ("bogus = 1\n", "bogus"),
    ("[audit\n", "-"),
])
def test_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    p = _cfg(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.key == key
    assert str(p) in str(err.value)
    assert "hunter2" not in str(err.value)


def test_google_directory_quota_reaches_the_connector(tmp_path: Path) -> None:
    """A project Google granted more Directory quota paces tokens.list to it; unset, the documented 2,400."""
    import json
    import os

    from connectors.google.options import options_from_tenant
    from simulator.google.auth import new_service_account

    key = tmp_path / "key.json"
    key.write_text(json.dumps(new_service_account("cfg-test").key_file("http://127.0.0.1:9/token")))
    os.chmod(key, 0o600)
    cfg = load_config(_cfg(tmp_path, f"""
[[tenants]]
name = "raised"
provider = "google"
service_account_file = "{key}"
admin_subject = "admin@example.org"
directory_quota = 6000

[[tenants]]
name = "default"
provider = "google"
service_account_file = "{key}"
admin_subject = "admin@example.org"
"""))
    raised, default = (options_from_tenant(t.options) for t in cfg.tenants)
    assert raised.directory_quota == 6000
    assert default.directory_quota == 2400
