"""Shared plumbing: child processes with their peak RSS, timers, the context every measure receives."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Context:
    """What a measure needs to know about this run: quick or full, and a scratch directory it may fill."""

    quick: bool
    work: Path
    log: list[str] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # measures already run, by name

    def say(self, text: str) -> None:
        self.log.append(text)
        print(f"  · {text}", file=sys.stderr, flush=True)


class ChildFailed(RuntimeError):
    """A benchmark child exited non-zero; the message carries the tail of its stderr."""


def self_rss_mb() -> float:
    """This process's peak RSS so far, in MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(target: str, timeout: float = 3600, **kwargs: Any) -> dict[str, Any]:
    """Run `module:function(**kwargs)` in a fresh interpreter; return its dict plus `peak_rss_mb` and `child_s`.

    The child is waited for with os.wait4, which returns that child's own rusage (ru_maxrss = its peak RSS).
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        result_file = Path(tmp) / "result.json"
        err_file = Path(tmp) / "stderr.txt"
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        started = time.perf_counter()
        with open(err_file, "wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "bench.child", target, json.dumps(kwargs),
                                     str(result_file)], cwd=ROOT, env=env, stdout=err, stderr=err)
            deadline = started + timeout
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    proc.kill()
                    _pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
            proc.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0 or not result_file.is_file():
            tail = err_file.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise ChildFailed(f"{target} exited with {proc.returncode}:\n{tail}")
        out: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    out["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    out["child_s"] = round(elapsed, 3)
    return out


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """`with timer() as t: ...` then t["s"] holds the wall time in seconds (perf_counter)."""
    box: dict[str, float] = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 3)
