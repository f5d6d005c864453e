#!/usr/bin/env python3
"""Reads a `fitstore export` directory with numpy alone and prints, as JSON, what a test
compares against the store: shapes, sha256 of each array's bytes, ids, split and origin, and
whether the safetensors file holds the same tensors as the .npy files."""
import hashlib, json, struct, sys
import numpy as np

d = sys.argv[1]
X = np.load(f"{d}/X.npy"); y = np.load(f"{d}/y.npy")
ids = np.load(f"{d}/sample_id.npy"); mids = np.load(f"{d}/metric_id.npy")
split = np.load(f"{d}/split.npy"); origin = np.load(f"{d}/origin.npy")
manifest = json.load(open(f"{d}/manifest.json"))

raw = open(f"{d}/features.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
dtypes = {"F32": "<f4", "I64": "<i8", "U8": "u1"}
st = {}
for name, t in header.items():
    if name == "__metadata__":
        continue
    a, b = t["data_offsets"]
    st[name] = np.frombuffer(body[a:b], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
legend_split = header["__metadata__"]["split_legend"].split(",")
legend_origin = header["__metadata__"]["origin_legend"].split(",")
same = (np.array_equal(st["X"], X) and np.array_equal(st["y"], y, equal_nan=True)
        and np.array_equal(st["sample_id"], ids) and np.array_equal(st["metric_id"], mids)
        and [legend_split[i] for i in st["split"]] == split.tolist()
        and [legend_origin[i] for i in st["origin"]] == origin.tolist())
print(json.dumps({
    "X_shape": list(X.shape), "X_dtype": str(X.dtype), "X_sha256": hashlib.sha256(X.tobytes()).hexdigest(),
    "y": [None if np.isnan(v) else float(v) for v in y],
    "sample_id": ids.tolist(), "metric_id": mids.tolist(), "split": split.tolist(), "origin": origin.tolist(),
    "safetensors_equal": bool(same), "manifest_rows": manifest["rows"], "manifest_digest": manifest["digest"],
}))
