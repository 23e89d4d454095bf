"""`import idaudit` stays cheap: no pandas, msal, msgraph or Google client until the API is used.

Each probe runs in a fresh interpreter (a subprocess) so modules other tests imported cannot hide an import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("msgraph", "msal", "googleapiclient", "pandas", "kiota_abstractions", "openpyxl")

PROBE = """
import json, sys
{body}
heavy = {heavy!r}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}})))
"""


def _loaded_after(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    result: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_import_idaudit_loads_no_heavy_dependency() -> None:
    assert _loaded_after("import idaudit") == []


def test_public_names_are_listed_and_resolve() -> None:
    import idaudit

    for name in idaudit.__all__:
        assert getattr(idaudit, name) is not None, name
    assert set(idaudit.__all__) <= set(dir(idaudit))
    assert callable(idaudit.load) and isinstance(idaudit.Audit, type)


def test_using_the_api_offline_does_not_load_connector_libraries() -> None:
    # Touching the API loads pandas (the tables are DataFrames) but never a connector's client library.
    loaded = _loaded_after("import idaudit\nidaudit.load\nidaudit.catalogue()")
    assert "pandas" in loaded  # the probe can see an import when there is one
    assert not {"msgraph", "msal", "googleapiclient", "kiota_abstractions"} & set(loaded)


def test_auditing_a_snapshot_loads_no_connector_library(tmp_path: Path) -> None:
    simulator = pytest.importorskip("simulator")
    snap = simulator.render_microsoft_snapshot(simulator.build_organisation(users=20, seed=3), tmp_path / "snap")
    loaded = _loaded_after(f"import idaudit\na = idaudit.load({str(snap)!r})\n"
                           "a.no_mfa(); a.external_forwarding(); a.apps_reading_mail(); a._repr_html_()")
    assert "pandas" in loaded
    assert not {"msgraph", "msal", "googleapiclient", "kiota_abstractions"} & set(loaded)


def test_unknown_attribute_is_an_attribute_error() -> None:
    import idaudit

    try:
        idaudit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
