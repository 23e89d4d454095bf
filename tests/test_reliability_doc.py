"""docs/reliability.md is generated from the fault matrices (tests/fault_matrix.py): it must not go stale."""

from __future__ import annotations

from tests.fault_matrix import main


def test_reliability_doc_is_current() -> None:
    assert main(["--check"]) == 0, "docs/reliability.md is stale: run python -m tests.fault_matrix"
