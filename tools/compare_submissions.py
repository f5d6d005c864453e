#!/usr/bin/env python3
"""Two submissions on one task's held-out labels: each one's RMSE, their ratio, and how much of
the ratio is the luck of the test rows (for reporting only: test labels never choose).

    tools/compare_submissions.py TASK_DIR A.csv B.csv [--resamples N] [--seed S]

Prints, for all rows and then per source (test_meta.csv's `source` column, when the task has
one): the number of items, RMSE of A and of B, A/B, and the standard deviation and 95% interval
of A/B over bootstrap resamples of the test **items**. An item is a distinct (user_prompt,
response) pair: its rows (one per metric) share their text and their errors, so resampling rows
one by one would treat an item's six dialogue metrics as six independent draws and understate
the spread (on mixed, 1,714 items hold 3,638 rows).

A ratio whose interval excludes 1 is a difference the test rows show beyond their luck; it
says nothing of whether CV on the training rows could have seen it.
"""
import argparse
import csv
import json
import sys

import numpy as np


def scores(path, what):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"compare_submissions: cannot read {what} {path}: {e.strerror}")
    out = {}
    for n, r in enumerate(rows, start=2):
        try:
            out[int(r["ID"])] = float(r["score"])
        except (KeyError, TypeError, ValueError):
            sys.exit(f"compare_submissions: {path}, line {n}: expected ID,score with a whole ID and a number, got {r}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("task")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--resamples", type=int, default=4000)
    p.add_argument("--seed", type=int, default=5401)
    args = p.parse_args()

    labels = scores(f"{args.task}/test_labels.csv", "labels")
    a, b = scores(args.a, "submission"), scores(args.b, "submission")
    for name, sub in (("A", a), ("B", b)):
        missing = sorted(set(labels) - set(sub))
        if missing:
            sys.exit(f"compare_submissions: submission {name} has no score for test ID {missing[0]} ({len(missing)} missing)")
    try:
        with open(f"{args.task}/test_data.json") as f:
            records = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"compare_submissions: cannot read {args.task}/test_data.json: {e}")
    source = {}
    try:
        with open(f"{args.task}/test_meta.csv", newline="") as f:
            source = {int(r["ID"]): r.get("source", "") for r in csv.DictReader(f)}
    except OSError:
        pass  # no per-source lines without test_meta.csv

    ids = sorted(labels)
    if len(records) < ids[-1]:
        sys.exit(f"compare_submissions: test_data.json holds {len(records)} records, test_labels.csv names ID {ids[-1]}")
    # Test IDs are positions 1...N in test_data.json (the DA5401 format).
    items = {}
    item_of = {}
    for i in ids:
        r = records[i - 1]
        key = (r.get("user_prompt"), r.get("response"))
        item_of[i] = items.setdefault(key, len(items))
    k = len(items)
    sq_a, sq_b, rows = np.zeros(k), np.zeros(k), np.zeros(k)
    by_source = {}
    for i in ids:
        t = item_of[i]
        sq_a[t] += (a[i] - labels[i]) ** 2
        sq_b[t] += (b[i] - labels[i]) ** 2
        rows[t] += 1
        if source.get(i):
            by_source.setdefault(source[i], set()).add(t)

    rng = np.random.default_rng(args.seed)

    def line(name, chosen):
        chosen = np.array(sorted(chosen))
        rmse_a = np.sqrt(sq_a[chosen].sum() / rows[chosen].sum())
        rmse_b = np.sqrt(sq_b[chosen].sum() / rows[chosen].sum())
        ratios = np.empty(args.resamples)
        for s in range(args.resamples):
            pick = chosen[rng.integers(0, len(chosen), len(chosen))]
            ratios[s] = np.sqrt(sq_a[pick].sum() / sq_b[pick].sum()) if sq_b[pick].sum() > 0 else np.nan
        lo, hi = np.nanpercentile(ratios, [2.5, 97.5])
        print(f"| {name} | {len(chosen)} | {int(rows[chosen].sum())} | {rmse_a:.4f} | {rmse_b:.4f} | {rmse_a / rmse_b:.4f} "
              f"| {np.nanstd(ratios):.4f} | {lo:.4f}-{hi:.4f} |")

    print(f"A = {args.a}, B = {args.b}; item bootstrap, {args.resamples} resamples, seed {args.seed}")
    print()
    print("| rows | items | test rows | RMSE A | RMSE B | A/B | sd of A/B | 95% interval |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    line("all", range(k))
    for name in sorted(by_source):
        line(name, by_source[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
