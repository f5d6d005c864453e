#!/usr/bin/env python3
"""The PyTorch peer of bench/trainer: the seed's residual MLP and training recipe in torch
(CPU), on the matrices `fitstore export --folds K` wrote.

    tools/bench_trainer_peer.py EXPORT_DIR THREADS EPOCHS [SEED]

EPOCHS > 0: prints JSON with the seconds per epoch over EPOCHS timed epochs on every row
(batch 256, AdamW, label noise 0.05, validation on min(3000, 20%) rows each epoch).
EPOCHS = 0: prints the K-fold CV RMSE on real rows with the seed's full recipe (plateau LR x0.5
after 4 epochs, early stopping after 12 restoring the best weights) using fold.npy's
assignment, the same folds fitstore uses, with model seeds SEED + fold.
"""
import copy, json, sys, time
import numpy as np
import torch
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_reference import ResidualMLP

d, threads, timed_epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 5401
torch.set_num_threads(threads)
X = torch.from_numpy(np.load(f"{d}/X.npy")); y = torch.from_numpy(np.load(f"{d}/y.npy"))
fold = np.load(f"{d}/fold.npy")


def train(rows, seed, max_epochs=100, on_epoch=None):
    g = torch.Generator().manual_seed(seed)
    rows = rows[torch.randperm(len(rows), generator=g)]
    v = min(3000, int(0.2 * len(rows)))
    val, tr = rows[:v], rows[v:]
    torch.manual_seed(seed)
    model = ResidualMLP(X.shape[1], [1024, 512, 256], 0.2)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-5)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=4, threshold=1e-4)
    best, best_state, bad = float("inf"), None, 0
    for epoch in range(max_epochs):
        started = time.time()
        model.train()
        perm = tr[torch.randperm(len(tr), generator=g)]
        for b in range(0, len(perm), 256):
            idx = perm[b:b + 256]
            if len(idx) < 2:
                continue
            opt.zero_grad()
            target = y[idx] + 0.05 * torch.randn(len(idx), generator=g)
            loss = torch.mean((model(X[idx]) - target) ** 2)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            rmse = torch.sqrt(torch.mean((model(X[val]).clamp(0, 10) - y[val]) ** 2)).item()
        sched.step(rmse)
        if on_epoch:
            on_epoch(time.time() - started)
        if rmse < best * (1 - 1e-4):
            best, best_state, bad = rmse, copy.deepcopy(model.state_dict()), 0
        else:
            bad += 1
            if bad >= 12:
                break
    model.load_state_dict(best_state)
    model.eval()
    return model


times = []
if timed_epochs > 0:
    # Timing only: EPOCHS epochs on every row.
    train(torch.arange(len(y)), 1, max_epochs=timed_epochs, on_epoch=times.append)
    print(json.dumps({"seconds_per_epoch": sum(times) / len(times)}))
    sys.exit(0)
sq, n = 0.0, 0
for k in range(int(fold.max()) + 1):
    held = np.nonzero(fold == k)[0]
    rows = torch.from_numpy(np.nonzero(fold != k)[0])
    model = train(rows, seed + k)
    with torch.no_grad():
        p = model(X[torch.from_numpy(held)]).clamp(0, 10)
    sq += torch.sum((p - y[torch.from_numpy(held)]) ** 2).item(); n += len(held)
print(json.dumps({"cv_rmse": (sq / n) ** 0.5, "folds": int(fold.max()) + 1}))
