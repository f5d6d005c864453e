#!/usr/bin/env python3
"""The strong peer of bench/tasks: LightGBM bagged over five folds on fitstore's own features.

What a competitor who exports our features would submit (issue #26): the training matrix of
the store's chosen checkpoint as `fitstore export` writes it (the vector blocks, the five
extra columns, the system prompt block when the chosen checkpoint has it), plus the metric id
as a categorical column; LightGBM (learning rate 0.05, 31 leaves, early stopping after 100
rounds without a lower RMSE on the held-out fold, deterministic, 2 threads); the folds are the
store's own (`export --folds 5`: the grouping `train` uses), so its CV is comparable with the
checkpoint's; the test prediction is the mean of the five fold models.

    tools/lightgbm_peer.py STORE TASK_DIR --fitstore BIN --out RESULT.json [--submission CSV]
        [--params JSON] [--rounds N] [--no-metric-column] [--by-family] [--reuse]

RESULT.json: cv_rmse, fold_rmse, test rows, the feature columns, seconds, and the digest of
what the fit reads (the exported matrix, labels, folds, parameters, LightGBM's version); with
--submission the ID,score file (score it with score_submission.py). With --reuse, a RESULT.json
of the same digest (and its submission) is kept instead of fitting again: LightGBM is
deterministic here, so the same inputs give the same models.
"""
import argparse, hashlib, json, os, subprocess, sys, tempfile, time

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("task")
    p.add_argument("--fitstore", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--submission")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--no-metric-column", action="store_true", help="leave out the metric id column (to measure what it adds)")
    p.add_argument("--params", default="", help="LightGBM parameters to override, as JSON")
    p.add_argument("--rounds", type=int, default=0,
                   help="a fixed number of rounds per fold model instead of early stopping on the held-out fold "
                        "(with --params, LightGBM at our trees' settings: see docs/results.md, issue 26)")
    p.add_argument("--reuse", action="store_true", help="keep an earlier RESULT.json fitted on the same inputs")
    p.add_argument("--by-family", action="store_true",
                   help="one bag per metric family (name before '/') on its own rows, instead of one bag on all rows")
    a = p.parse_args()
    import lightgbm as lgb

    def sql(query):
        r = subprocess.run([a.fitstore, "sql", "--store", a.store, "--format", "json", query], capture_output=True, text=True, check=True)
        return json.loads(r.stdout)

    chosen = sql("SELECT c.config FROM chosen_checkpoint h JOIN checkpoint c ON c.id = h.checkpoint_id ORDER BY h.id DESC LIMIT 1")
    config = json.loads(chosen[0]["config"]) if chosen else {}
    if config.get("model") == "blend":
        member = sql("SELECT c.config FROM blend_member m JOIN checkpoint c ON c.id = m.member_id "
                     "WHERE m.blend_id = (SELECT checkpoint_id FROM chosen_checkpoint ORDER BY id DESC LIMIT 1) ORDER BY m.position LIMIT 1")
        config = json.loads(member[0]["config"]) if member else {}
    system = (config.get("features", {}).get("systemDims") or 0) > 0
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x")
        args = [a.fitstore, "export", "--store", a.store, "--out", out, "--split", "all", "--extras", "--folds", str(a.folds)]
        if system:
            args.append("--system-prompt")
        subprocess.run(args, capture_output=True, text=True, check=True)
        X = np.load(os.path.join(out, "X.npy"))
        y = np.load(os.path.join(out, "y.npy"))
        split = np.load(os.path.join(out, "split.npy"))
        fold = np.load(os.path.join(out, "fold.npy"))
        metric = np.load(os.path.join(out, "metric_id.npy"))
        sample = np.load(os.path.join(out, "sample_id.npy"))
    positions = {r["id"]: r["position"] for r in sql("SELECT id, position FROM sample WHERE split = 'test' AND origin = 'real'")}
    if a.no_metric_column:
        categorical = []
    else:
        X = np.hstack([X, metric.reshape(-1, 1).astype(np.float32)])
        categorical = [X.shape[1] - 1]
    train = (split == "train") & (fold >= 0)
    test = split == "test"
    params = dict(objective="regression", learning_rate=0.05, num_leaves=31, deterministic=True, force_row_wise=True,
                  num_threads=2, seed=5401, verbose=-1)
    params.update(json.loads(a.params or "{}"))
    digest = hashlib.sha256()
    for part in (X, y, split.astype("U8"), fold, metric, sample):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(json.dumps([params, a.folds, categorical, lgb.__version__] + (["by-family"] if a.by_family else [])
                             + ([f"rounds {a.rounds}"] if a.rounds else []), sort_keys=True).encode())
    digest = digest.hexdigest()
    if a.reuse and os.path.exists(a.out) and (not a.submission or os.path.exists(a.submission)):
        with open(a.out) as f:
            earlier = json.load(f)
        if earlier.get("digest") == digest:
            print(json.dumps(earlier))
            return 0
    def rmse(pred, rows):
        return float(np.sqrt(np.mean((np.clip(pred[rows], 0, 10) - y[rows]) ** 2)))

    def bag(rows):
        """The fold loop on the training rows in `rows`: out-of-fold and test predictions (test
        rows: all of them) and each fold's rounds."""
        oof = np.full(len(y), np.nan)
        test_pred = np.zeros(int(test.sum()))
        rounds = []
        for f in range(a.folds):
            tr = train & rows & (fold != f)
            va = train & rows & (fold == f)
            d_tr = lgb.Dataset(X[tr], y[tr], categorical_feature=categorical, free_raw_data=False)
            if a.rounds:
                # Fixed rounds: the held-out fold takes no part in the fit (no early stopping on it).
                booster = lgb.train(params, d_tr, num_boost_round=a.rounds)
                best = a.rounds
            else:
                d_va = lgb.Dataset(X[va], y[va], categorical_feature=categorical, reference=d_tr, free_raw_data=False)
                booster = lgb.train(params, d_tr, num_boost_round=10000, valid_sets=[d_va],
                                    callbacks=[lgb.early_stopping(100, verbose=False)])
                best = int(booster.best_iteration)
            rounds.append(best)
            oof[va] = booster.predict(X[va], num_iteration=best)
            test_pred += booster.predict(X[test], num_iteration=best) / a.folds
        return oof, test_pred, rounds

    families = {}
    if not a.by_family:
        oof, test_pred, rounds = bag(np.ones(len(y), dtype=bool))
    else:
        # One bag per metric family (the part of the metric's name before '/'), each on its
        # family's training rows only; the pooled bag is fitted only for test rows of a family
        # with no training rows. CV is then the families' out-of-fold predictions; rounds are
        # per family.
        major = {r["id"]: r["major"] for r in sql("SELECT id, major FROM metric")}
        family = np.array([major.get(int(m), "") for m in metric])
        seen = sorted(set(family[train]))
        unseen = ~np.isin(family[test], seen)
        oof, test_pred, rounds = np.full(len(y), np.nan), np.zeros(int(test.sum())), {}
        if unseen.any():
            oof, test_pred, rounds["pooled"] = bag(np.ones(len(y), dtype=bool))
        for name in seen:
            rows = family == name
            f_oof, f_test, rounds[name] = bag(rows)
            oof[train & rows] = f_oof[train & rows]
            test_pred[rows[test]] = f_test[rows[test]]
            families[name] = rmse(f_oof, train & rows)
    fold_rmse = [rmse(oof, train & (fold == f)) for f in range(a.folds)]
    cv = rmse(oof, train)
    result = dict(cv_rmse=cv, fold_rmse=fold_rmse, rounds=rounds, test_rows=int(test.sum()), columns=int(X.shape[1]), system_block=system,
                  seconds=time.time() - started, lightgbm=lgb.__version__, digest=digest)
    if a.by_family:
        result["family_cv_rmse"] = families
    if a.submission:
        ids = [positions[int(s)] + 1 for s in sample[test]]
        order = np.argsort(ids)
        with open(a.submission, "w") as f:
            f.write("ID,score\n")
            for i in order:
                f.write(f"{ids[i]},{float(np.clip(test_pred[i], 0, 10)):.4f}\n")
    with open(a.out, "w") as f:
        json.dump(result, f)
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
