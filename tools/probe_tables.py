#!/usr/bin/env python3
"""Markdown tables of the probes' result files (tools/cross_probe.py, tools/learner_probe.py,
tools/knn_feature_probe.py), as docs/results.md quotes them.

    tools/probe_tables.py cross RESULT.json...
    tools/probe_tables.py learners RESULT.json...
    tools/probe_tables.py knncolumn RESULT.json...
"""
import json
import os
import sys


def f(v, d=3):
    return "–" if v is None else f"{v:.{d}f}"


def pct(a, b):
    return f"{(a - b) / b * 100:+.1f}%"


def table(header, aligns, paths):
    """Prints the header and rule; yields each result file's path and content."""
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(aligns) + "|")
    for p in paths:
        yield p, json.load(open(p))


def cross(paths):
    """Files of the same task are merged; a later file's setting replaces an earlier one's of the
    same K (a remeasurement)."""
    header = ["task", "rows (train/test)", "tokens (mean)", "K layers trained", "epochs kept per fold", "CV RMSE", "vs default CV",
              "test RMSE", "blend weights (default, probe)", "blend CV", "vs default CV", "blend test", "train s (5 folds)"]
    merged = {}
    for p in paths:
        r = json.load(open(p))
        if r["task"] in merged:
            kept = {s["layers"]: s for s in merged[r["task"]]["settings"]}
            kept.update({s["layers"]: s for s in r["settings"]})
            merged[r["task"]]["settings"] = list(kept.values())
        else:
            merged[r["task"]] = r
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---", "---:", "---:", "---:", "---", "---:", "---:", "---:", "---", "---:", "---:", "---:", "---:"]) + "|")
    for r in merged.values():
        d = r["default"]
        print(f"| {r['task']} (default) | {r['train_rows']}/{r['test_rows']} | {r['tokens_mean']:.0f} | – | – | {f(d['cv'])} | – | {f(d['test'])} "
              f"| – | – | – | – | – |")
        for s in sorted(r["settings"], key=lambda s: s["layers"]):
            w = ", ".join(f"{x:.2f}" for x in s["blend_weights"])
            print(f"| {r['task']} | | | {s['layers']} | {','.join(map(str, s['epochs_kept']))} | {f(s['cv'])} | {pct(s['cv'], d['cv'])} "
                  f"| {f(s['test'])} | {w} | {f(s['blend_cv'])} | {pct(s['blend_cv'], d['cv'])} | {f(s['blend_test'])} "
                  f"| {s['train_seconds']:.0f} |")


def learners(paths):
    header = ["task", "default CV", "ridge CV", "kNN CV", "default + ridge (nested)", "default + kNN (nested)", "all three (nested)",
              "trees (HGB) CV", "+ kNN target column", "default test", "best blend test"]
    for p, r in table(header, ["---"] + ["---:"] * 10, paths):
        task = os.path.basename(p).removeprefix("lp-").removesuffix(".json")
        blends = {k: r[k]["cv"] for k in ("default+ridge", "default+knn", "default+ridge+knn")}
        best = min(blends, key=blends.get)
        t = r.get("test", {})
        print(f"| {task} | {f(r['default_cv'])} | {f(r['ridge_cv'])} | {f(r['knn_cv'])} | {f(blends['default+ridge'])} "
              f"({pct(blends['default+ridge'], r['default_cv'])}) | {f(blends['default+knn'])} ({pct(blends['default+knn'], r['default_cv'])}) "
              f"| {f(blends['default+ridge+knn'])} | {f(r['hgb_cv'])} | {f(r['hgb_knn_feature_cv'])} ({pct(r['hgb_knn_feature_cv'], r['hgb_cv'])}) "
              f"| {f(t.get('default'))} | {f(t.get(best))} ({best}) |")


def knncolumn(paths):
    header = ["task", "default CV", "LightGBM CV", "+ kNN column CV", "change", "k per fold", "LightGBM test", "+ kNN column test"]
    for p, r in table(header, ["---"] + ["---:"] * 4 + ["---", "---:", "---:"], paths):
        task = os.path.basename(p).removeprefix("kf-").removesuffix(".json")
        t = r.get("test", {})
        print(f"| {task} | {f(r['default_cv'])} | {f(r['lightgbm_cv'])} | {f(r['lightgbm_knn_column_cv'])} "
              f"| {pct(r['lightgbm_knn_column_cv'], r['lightgbm_cv'])} | {','.join(map(str, r['k']))} "
              f"| {f(t.get('lightgbm'))} | {f(t.get('lightgbm_knn_column'))} |")


if __name__ == "__main__":
    modes = {"cross": cross, "learners": learners, "knncolumn": knncolumn}
    if len(sys.argv) < 3 or sys.argv[1] not in modes:
        sys.exit(__doc__)
    modes[sys.argv[1]](sys.argv[2:])
