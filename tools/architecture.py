"""Generate the layer diagram in docs/architecture.md from the import-linter contract in pyproject.toml.

The diagram is drawn from the contract (the layers and which packages sit side by side) and annotated with the
imports measured in the code right now (grimp, the graph import-linter itself uses), so the picture cannot drift
from what CI enforces. `python -m tools.architecture` rewrites the block between the markers; `--check` fails when
the page is stale (the test suite runs it).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- BEGIN GENERATED: layers (python -m tools.architecture) -->"
END = "<!-- END GENERATED: layers -->"


def contract() -> tuple[list[str], list[list[str]]]:
    """(root packages, layers top to bottom, each a list of the packages side by side in it)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = next(c for c in data["contracts"] if c["type"] == "layers")["layers"]
    return list(data["root_packages"]), [[p.strip() for p in layer.replace(":", "|").split("|")] for layer in layers]


def _owner(module: str, packages: list[str]) -> str | None:
    best = None
    for p in packages:
        if (module == p or module.startswith(p + ".")) and (best is None or len(p) > len(best)):
            best = p
    return best


def measured_edges(roots: list[str], packages: list[str]) -> Counter[tuple[str, str]]:
    """How many module-to-module imports run from each layer package to each other one, in the code today."""
    graph = grimp.build_graph(*roots)
    edges: Counter[tuple[str, str]] = Counter()
    for module in graph.modules:
        src = _owner(module, packages)
        for imported in graph.find_modules_directly_imported_by(module):
            dst = _owner(imported, packages)
            if src and dst and src != dst:
                edges[(src, dst)] += 1
    return edges


def _node(package: str) -> str:
    return package.replace(".", "_").replace("__", "")


def render() -> str:
    roots, layers = contract()
    packages = [p for layer in layers for p in layer]
    names = ["python -m idaudit", "entry points", "orchestration", "connectors, checks, reports, simulator", "core"]
    lines = [BEGIN, "", "```mermaid", "flowchart TB"]
    for i, layer in enumerate(layers):
        title = names[i] if len(layers) == len(names) else f"layer {i + 1}"
        lines.append(f'  subgraph L{i}["{i + 1}. {title}"]')
        lines.append("    direction LR")
        lines.extend(f'    {_node(p)}["{p}"]' for p in layer)
        lines.append("  end")
    for a, b in zip(range(len(layers)), range(1, len(layers)), strict=False):
        lines.append(f"  L{a} --> L{b}")
    lines += ["```", "", "Which package imports which today, measured on the import graph lint-imports checks "
              "(an arrow above is a permission; this is what the code uses of it):", "",
              "| package | imports from |", "|---|---|"]
    edges = measured_edges(roots, packages)
    for src in packages:
        targets = sorted({dst for (s, dst) in edges if s == src})
        lines.append(f"| `{src}` | {', '.join(f'`{t}`' for t in targets) or '(nothing of ours)'} |")
    lines += ["", END]
    return "\n".join(lines)


def updated(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC}: markers {BEGIN!r} / {END!r} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + render() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/architecture.md is stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    new = updated(current)
    if args.check:
        if new != current:
            print(f"{DOC} is stale: run python -m tools.architecture", file=sys.stderr)
            return 1
        return 0
    if new != current:
        tmp = DOC.with_suffix(".md.tmp")
        tmp.write_text(new, encoding="utf-8")
        tmp.replace(DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
