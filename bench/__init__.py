"""Benchmarks for issue 8: collection against the throttle floor, parsing, checks and the workbook at scale.

`python -m bench [--quick] [--only NAME] [--out bench/results]` runs every measure, prints a table of ratios
against the baseline measured in the same run plus the raw figures, and writes one JSON file per run. Each
measure is a module here with `run(ctx) -> dict`; whatever is timed or whose peak memory matters runs in its own
child process (bench.child) so one measure's allocations never inflate another's figures. docs/benchmarks.md
explains each measure, the floor formula, and the latest results.
"""
