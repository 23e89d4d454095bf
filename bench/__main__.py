"""`python -m bench [--quick] [--only NAME ...] [--out bench/results]`: run the measures, print, write JSON.

Every measure returns a dict with `ratio` (against the baseline measured in this same run), its `target`, whether
the target was met, and the raw figures. A measure that cannot run (a part missing, a child crashing) is reported
with its error and the run goes on: the JSON then says `"error"` for it, never a made-up number.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context

# Order: what needs no connector first, then the collections.
MEASURES: dict[str, str] = {
    "parsing": "bench.parsing",
    "checks": "bench.checks",
    "workbook": "bench.workbook",
    "collection_microsoft": "bench.collection_microsoft",
    "naive_sdk": "bench.naive_sdk",
    "collection_google": "bench.collection_google",
}


def machine() -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"python": platform.python_version(), "platform": platform.platform(), "cores": cores,
            "processor": platform.processor() or platform.machine()}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def print_table(results: list[dict[str, Any]]) -> None:
    rows = [("measure", "ratio", "what the ratio is", "target", "met", "seconds")]
    for r in results:
        if "error" in r:
            rows.append((r["name"], "ERROR", r["error"].splitlines()[0][:60], r.get("target", ""), "no",
                         _fmt(r.get("measure_s"))))
            continue
        met = "yes" if r.get("target_met") else "no"
        rows.append((r["name"], _fmt(r.get("ratio")), r.get("ratio_label", ""), r.get("target", ""), met,
                     _fmt(r.get("measure_s"))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for r in results:
        raw = r.get("raw")
        if not raw:
            continue
        print(f"{r['name']}: {r.get('title', '')}")
        for k, v in raw.items():
            if isinstance(v, dict):
                v = ", ".join(f"{kk}={_fmt(vv)}" for kk, vv in v.items())
            print(f"    {k:<34} {_fmt(v)}")
        for note in r.get("notes", ()):
            print(f"    note: {note}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small tenants, scaled throttles: about a minute")
    p.add_argument("--only", action="append", choices=sorted(MEASURES), metavar="NAME",
                   help=f"run only this measure (repeatable): {', '.join(MEASURES)}")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory for the JSON result")
    p.add_argument("--keep-work", action="store_true", help="keep the scratch directory (snapshots, files)")
    args = p.parse_args(argv)
    names = [n for n in MEASURES if not args.only or n in args.only]
    work = Path(tempfile.mkdtemp(prefix="idaudit-bench-"))
    ctx = Context(quick=args.quick, work=work)
    started = datetime.now(UTC)
    results: list[dict[str, Any]] = []
    try:
        for name in names:
            print(f"[bench] {name} ({'quick' if args.quick else 'full'})", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            try:
                module = importlib.import_module(MEASURES[name])
                result = module.run(ctx)
            except Exception as exc:
                traceback.print_exc()
                result = {"name": name, "error": f"{type(exc).__name__}: {exc}"}
            result["measure_s"] = round(time.perf_counter() - t0, 2)
            results.append(result)
            ctx.results[name] = result
    finally:
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"[bench] scratch kept in {work}", file=sys.stderr)
    doc = {"started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"), "mode": "quick" if args.quick else "full",
           "machine": machine(), "measures": results}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{doc['mode']}-{stamp}.json"
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    (out / f"latest-{doc['mode']}.json").write_text(text, encoding="utf-8")
    print_table(results)
    print(f"\nresults: {path}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
