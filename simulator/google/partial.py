"""Google's `fields` partial-response selector: `nextPageToken,users(id,name/fullName)`.

Grammar (the subset Google documents): a comma-separated list of selections; a selection is a path `a/b/c`,
optionally followed by a parenthesised sub-selection applied to the object (or to each element of the array) it
names. Unknown field names select nothing, as at Google.
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, "Tree | None"]  # None: the whole value


def parse_fields(text: str) -> Tree:
    tree, pos = _parse_list(text.replace(" ", ""), 0)
    if pos != len(text.replace(" ", "")):
        raise ValueError(f"unexpected {text[pos:]!r}")
    return tree


def _parse_list(s: str, pos: int) -> tuple[Tree, int]:
    tree: Tree = {}
    while pos < len(s):
        start = pos
        while pos < len(s) and s[pos] not in ",()":
            pos += 1
        path = [p for p in s[start:pos].split("/")]
        if not path or any(not p for p in path):
            raise ValueError(f"empty field name at {start}")
        sub: Tree | None = None
        if pos < len(s) and s[pos] == "(":
            sub, pos = _parse_list(s, pos + 1)
            if pos >= len(s) or s[pos] != ")":
                raise ValueError("unbalanced parentheses")
            pos += 1
        _merge(tree, path, sub)
        if pos < len(s) and s[pos] == ",":
            pos += 1
            continue
        break
    return tree, pos


def _merge(tree: Tree, path: list[str], sub: Tree | None) -> None:
    node = tree
    for name in path[:-1]:
        nxt = node.get(name, {})
        if nxt is None:
            return  # already selected whole
        node[name] = nxt
        node = nxt
    last = path[-1]
    if sub is None or node.get(last, {}) is None:
        node[last] = None
    else:
        existing = node.get(last) or {}
        assert existing is not None
        existing.update(sub)
        node[last] = existing


def _apply(value: Any, tree: Tree) -> Any:
    if isinstance(value, list):
        return [_apply(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for name, sub in tree.items():
        if name in value:
            out[name] = value[name] if sub is None else _apply(value[name], sub)
    return out


def apply_fields(doc: Any, fields: str) -> Any:
    return _apply(doc, parse_fields(fields))
