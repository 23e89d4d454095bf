"""The layers declared in docs/architecture.md hold, and the page's diagram matches the contract.

Runs the real import-linter on the real source tree (the same command `make lint` runs) and the generator of the
page's diagram in check mode.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("idaudit", "connectors", "checks", "reports", "simulator")
OURS = re.compile(r"^(idaudit|connectors|checks|reports|simulator)(\.|$)")


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "2 kept, 0 broken" in run.stdout


def test_architecture_page_is_generated_from_the_contract() -> None:
    run = subprocess.run([sys.executable, "-m", "tools.architecture", "--check"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def _function_local_imports(path: Path) -> list[tuple[int, str]]:
    """Imports of our own packages inside a function body, outside `if TYPE_CHECKING:`."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            names = ([inner.module or ""] if isinstance(inner, ast.ImportFrom)
                     else [a.name for a in inner.names] if isinstance(inner, ast.Import) else [])
            if any(OURS.match(n) for n in names):
                found.append((inner.lineno, lines[inner.lineno - 1]))
    return found


def test_every_function_local_import_says_it_is_lazy_for_start_up() -> None:
    """A function-local import may only defer a slow import (and says so); hiding a cycle is what the layers forbid.

    The first import of a block carries the `# lazy: start-up time` marker (the lines right below it belong to it).
    """
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found = _function_local_imports(path)
            marked = {n for n, text in found if "# lazy: start-up time" in text}
            for n, text in found:
                block_marked = any(m <= n and all(k in {x for x, _ in found} for k in range(m, n + 1))
                                   for m in marked)
                comment_above = "# lazy: start-up time" in path.read_text(encoding="utf-8").splitlines()[n - 2]
                if not (block_marked or comment_above):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {text.strip()}")
    assert not offenders, "\n".join(offenders)
