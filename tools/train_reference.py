#!/usr/bin/env python3
"""PyTorch reference for the trainer parity test and bench/trainer.

    tools/train_reference.py IN.json OUT.json

IN.json: {"config": {"inputs", "widths", "dropout"}, "layout": [{"name", "offset", "shape"}],
"parameters": [...], "state": [...], "batches": [{"x": [...], "y": [...]}], "lr", "weight_decay",
"threads"}. The same network as FitTrain's ResidualMLP (Linear-BatchNorm1d-ReLU-Dropout blocks,
a residual Linear from the input, LayerNorm and a Linear head) is built in torch, loaded with
the given flat parameters, and trained with AdamW on the given batches (no label noise).
OUT.json: {"losses": [loss before each step]}.

torch comes from PyPI or the CPU wheel the machine image ships (pip's find-links).
"""
import json, sys

try:
    import torch
    from torch import nn
except ImportError:
    sys.exit("train_reference: torch is not installed (pip install torch)")


class ResidualMLP(nn.Module):
    def __init__(self, inputs, widths, dropout):
        super().__init__()
        layers, previous = [], inputs
        self.blocks = nn.ModuleList()
        for w in widths:
            self.blocks.append(nn.ModuleDict({"linear": nn.Linear(previous, w), "norm": nn.BatchNorm1d(w)}))
            previous = w
        self.dropout = nn.Dropout(dropout)
        self.residual = nn.Linear(inputs, widths[-1])
        self.head_norm = nn.LayerNorm(widths[-1])
        self.head_linear = nn.Linear(widths[-1], 1)

    def forward(self, x):
        h = x
        for b in self.blocks:
            h = self.dropout(torch.relu(b["norm"](b["linear"](h))))
        h = h + self.residual(x)
        return self.head_linear(self.head_norm(h)).squeeze(-1)


def torch_name(name):
    # block0.linear.weight -> blocks.0.linear.weight; head.norm.* -> head_norm.*
    if name.startswith("block"):
        index, rest = name[len("block"):].split(".", 1)
        return f"blocks.{index}.{rest}"
    return name.replace("head.norm", "head_norm").replace("head.linear", "head_linear")


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(spec.get("threads", 2))
    cfg = spec["config"]
    model = ResidualMLP(cfg["inputs"], cfg["widths"], cfg["dropout"])
    state = model.state_dict()
    flat = torch.tensor(spec["parameters"], dtype=torch.float32)
    for e in spec["layout"]:
        n = 1
        for s in e["shape"]:
            n *= s
        state[torch_name(e["name"])].copy_(flat[e["offset"]:e["offset"] + n].view(*e["shape"]).view_as(state[torch_name(e["name"])]))
    sflat = torch.tensor(spec["state"], dtype=torch.float32)
    for e in spec["state_layout"]:
        n = e["shape"][0]
        state[torch_name(e["name"])].copy_(sflat[e["offset"]:e["offset"] + n])
    model.load_state_dict(state)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=spec["lr"], weight_decay=spec["weight_decay"])
    losses = []
    for b in spec["batches"]:
        x = torch.tensor(b["x"], dtype=torch.float32).view(len(b["y"]), cfg["inputs"])
        y = torch.tensor(b["y"], dtype=torch.float32)
        opt.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    json.dump({"losses": losses}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
