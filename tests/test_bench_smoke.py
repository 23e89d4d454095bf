"""Smoke test of the benchmark harness: `python -m bench --quick` runs every measure to the end and writes a
valid JSON result naming each one with its figures.

Deliberately no assertion on any time, ratio or target: the suite must not time anything (2 shared cores, other
jobs running). Targets are judged by `make bench` and reported in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench-results")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    return proc, out


def test_quick_bench_completes_and_writes_json_for_every_measure(quick_run) -> None:  # type: ignore[no-untyped-def]
    from bench.__main__ import MEASURES

    proc, out = quick_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(out.glob("bench-quick-*.json"))
    assert len(files) == 1
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    assert doc["mode"] == "quick"
    assert doc["machine"]["cores"] >= 1
    by_name = {m["name"]: m for m in doc["measures"]}
    assert set(by_name) == set(MEASURES)
    for name, m in by_name.items():
        assert "error" not in m, f"{name}: {m.get('error')}"
        assert isinstance(m["ratio"], int | float) and m["ratio"] > 0, name
        assert isinstance(m["target_met"], bool), name
        assert m["raw"], name
    assert json.loads((out / "latest-quick.json").read_text(encoding="utf-8")) == doc


def test_quick_bench_prints_the_ratio_table(quick_run) -> None:  # type: ignore[no-untyped-def]
    from bench.__main__ import MEASURES

    proc, _out = quick_run
    header = proc.stdout.splitlines()[0].split()
    assert header[:2] == ["measure", "ratio"]
    table_rows = {line.split()[0] for line in proc.stdout.splitlines()[2:2 + len(MEASURES)]}
    assert table_rows == set(MEASURES)
