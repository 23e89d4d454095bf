"""Measure 4 — checks at scale: every check over a 100,000-user Microsoft snapshot, time and peak RSS.

The snapshot is rendered by the simulator (render_microsoft_snapshot of build_organisation(users=100_000): the
sections a complete collection stores, P1 and P2 licensed) in one child process. A second, fresh child then does
what `idaudit check` does — load the snapshot, normalise it, run every registered check — and times each stage;
its peak RSS (os.wait4) is the whole audit's, interpreter and imports included.

Targets: the checks (run_checks) < 5 s and peak RSS < 1.5 GB. The ratio column compares the audit's own work
(normalise + checks) with the baseline measured in the same child: plain json.load of the same snapshot files.
"""

from __future__ import annotations

from typing import Any

from bench.common import Context, run_child, self_rss_mb, timer

CHECKS_BUDGET_S = 5.0
RSS_BUDGET_MB = 1536.0


def provider() -> str:
    """Microsoft when its normaliser is present (the larger snapshot), else Google."""
    import importlib.util

    return "microsoft" if importlib.util.find_spec("idaudit.core.normalise.microsoft") else "google"


def job_render(users: int, out: str, provider: str) -> dict[str, Any]:
    from simulator import build_organisation

    with timer() as t_org:
        org = build_organisation(users=users, seed=8)
    with timer() as t_render:
        if provider == "microsoft":
            from simulator import render_microsoft_snapshot

            render_microsoft_snapshot(org, out, licences={"p1": True, "p2": True})
        else:
            from simulator.google import render_google_snapshot

            render_google_snapshot(org, out)
    return {"build_s": round(t_org["s"], 2), "render_s": round(t_render["s"], 2)}


def job_audit(path: str) -> dict[str, Any]:
    import importlib
    import importlib.util
    import json
    from pathlib import Path

    from checks import builtin_checks
    from idaudit.core.engine import CheckSettings, run_checks
    from idaudit.core.normalise import normalise
    from idaudit.core.snapshot import load_snapshot

    registry = builtin_checks()
    for name in ("idaudit.core.normalise.microsoft", "idaudit.core.normalise.google"):  # imported before timing
        if importlib.util.find_spec(name):
            importlib.import_module(name)

    before = self_rss_mb()
    with timer() as t_json:  # the baseline: just parse the files
        size = 0
        for f in sorted(Path(path).glob("*.json")):
            size += f.stat().st_size
            json.loads(f.read_bytes())
    with timer() as t_load:
        snap = load_snapshot(path)
    with timer() as t_norm:
        data = normalise(snap)
    with timer() as t_checks:
        run = run_checks(data, CheckSettings(), registry=registry)
    counts = run.summary()
    return {"json_s": round(t_json["s"], 3), "load_s": round(t_load["s"], 3), "normalise_s": round(t_norm["s"], 3),
            "checks_s": round(t_checks["s"], 3), "checks": len(run.checks), "findings": len(run.findings),
            "statuses": counts, "users": len(data.tables["users"]), "snapshot_mb": round(size / 2**20, 1),
            "rss_before_mb": round(before, 1)}


def job_profile_checks(path: str) -> dict[str, Any]:
    """Seconds per check (for the docs when the budget is missed)."""
    from checks import builtin_checks
    from idaudit.core.engine import CheckSettings, run_checks
    from idaudit.core.normalise import normalise
    from idaudit.core.snapshot import load_snapshot

    registry = builtin_checks()
    data = normalise(load_snapshot(path))
    per: dict[str, float] = {}
    for rc in registry.all():
        with timer() as t:
            run_checks(data, CheckSettings(), registry=registry, only=[rc.meta.id])
        per[rc.meta.id] = round(t["s"], 3)
    return {"per_check_s": dict(sorted(per.items(), key=lambda kv: -kv[1]))}


def run(ctx: Context) -> dict[str, Any]:
    users = 10_000 if ctx.quick else 100_000
    prov = provider()
    snap = ctx.work / f"{prov}-{users}"
    ctx.say(f"checks: rendering a {users:,}-user {prov} snapshot")
    built = run_child("bench.checks:job_render", users=users, out=str(snap), provider=prov)
    ctx.say("checks: load + normalise + all checks in a fresh process")
    r = run_child("bench.checks:job_audit", path=str(snap))
    work = r["normalise_s"] + r["checks_s"]
    ratio = round(work / r["json_s"], 2) if r["json_s"] else None
    # The targets are for 100,000 users: the quick run (10,000) is a smoke figure held to the same budgets.
    met = r["checks_s"] < CHECKS_BUDGET_S and r["peak_rss_mb"] < RSS_BUDGET_MB
    out = {
        "name": "checks",
        "title": f"Checks: load, normalise and all checks over a {users:,}-user {prov} snapshot",
        "ratio": ratio, "ratio_label": "(normalise+checks) ÷ json.load of the snapshot",
        "target": "checks < 5 s, peak RSS < 1.5 GB" + (" (set for 100k)" if ctx.quick else ""),
        "target_met": met,
        "raw": {"provider": prov, "users": r["users"], "checks": r["checks"], "findings": r["findings"],
                "snapshot_mb": r["snapshot_mb"], "json_load_s": r["json_s"], "load_snapshot_s": r["load_s"],
                "normalise_s": r["normalise_s"], "checks_s": r["checks_s"],
                "total_s": round(r["load_s"] + work, 3), "peak_rss_mb": r["peak_rss_mb"],
                "rss_before_load_mb": r["rss_before_mb"], "statuses": r["statuses"],
                "org_build_s": built["build_s"], "render_s": built["render_s"]},
    }
    if not ctx.quick and r["checks_s"] >= CHECKS_BUDGET_S:
        out["raw"]["slowest_checks_s"] = dict(list(run_child("bench.checks:job_profile_checks",
                                                             path=str(snap))["per_check_s"].items())[:8])
    return out
