"""Run one benchmark job in a fresh interpreter and report its result and its own peak RSS.

Peak RSS is read by the parent with os.wait4 on this very process: the kernel's ru_maxrss for exactly this child
(resource.getrusage(RUSAGE_CHILDREN) gives the same figure only for the first child, since it is a maximum over
every child ever waited for). The job itself reports `rss_before_mb`, the high-water mark when its timed part
began (interpreter, imports and input data), so the parent can tell the work's own memory from the set-up's.

Usage (by bench.common.run_child only): python -m bench.child module:function '<json kwargs>' <result file>
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    target, kwargs_json, result_file = argv
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    result = func(**json.loads(kwargs_json))
    Path(result_file).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
