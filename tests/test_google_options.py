"""Google connector options: where the key comes from, and errors that name the file, variable or field."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from connectors.google.options import GoogleOptions, options_from_tenant
from idaudit.core.errors import CollectionError
from simulator.google.auth import new_service_account

KEY = new_service_account("options-test").key_file("http://127.0.0.1:9/token")


def test_key_from_file_and_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    os.chmod(path, 0o600)
    a = options_from_tenant({"name": "t", "service_account_file": str(path), "admin_subject": "admin@example.org"})
    monkeypatch.setenv("IDAUDIT_TEST_GOOGLE_KEY", json.dumps(KEY))
    b = options_from_tenant({"name": "t", "service_account_env": "IDAUDIT_TEST_GOOGLE_KEY",
                             "admin_subject": "admin@example.org", "customer_id": "C012345"})
    assert a.client_email == b.client_email == KEY["client_email"] and b.customer_id == "C012345"
    assert "PRIVATE KEY" not in repr(a)  # the key never shows in repr or logs


def test_errors_name_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CollectionError, match=r"bad\.json: not valid JSON"):
        options_from_tenant({"service_account_file": str(bad), "admin_subject": "a@example.org"})
    oauth_client = tmp_path / "client.json"
    oauth_client.write_text(json.dumps({"installed": {"client_id": "x"}}))
    with pytest.raises(CollectionError, match=r"client\.json: field 'type' must be 'service_account'"):
        options_from_tenant({"service_account_file": str(oauth_client), "admin_subject": "a@example.org"})
    monkeypatch.delenv("IDAUDIT_MISSING_KEY", raising=False)
    with pytest.raises(CollectionError, match="IDAUDIT_MISSING_KEY is not set"):
        options_from_tenant({"service_account_env": "IDAUDIT_MISSING_KEY", "admin_subject": "a@example.org"})
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps(KEY))
    os.chmod(loose, 0o644)
    with caplog.at_level(logging.WARNING):
        options_from_tenant({"service_account_file": str(loose), "admin_subject": "a@example.org"})
    assert "chmod 600" in caplog.text
    with pytest.raises(CollectionError, match="admin_subject"):
        options_from_tenant({"name": "t", "service_account_file": str(loose)})


def test_plain_http_only_on_loopback_and_batch_limits() -> None:
    GoogleOptions(service_account_info=KEY, admin_subject="a@example.org", api_endpoint="http://127.0.0.1:8080")
    with pytest.raises(CollectionError, match="only on loopback"):
        GoogleOptions(service_account_info=KEY, admin_subject="a@example.org", api_endpoint="http://proxy.example")
    with pytest.raises(CollectionError, match="Gmail batch limit"):
        GoogleOptions(service_account_info=KEY, admin_subject="a@example.org", gmail_batch_size=101)
