"""The Python API (`import fitstore`) against the CLI's own outputs on the same store."""
import csv
import hashlib
import io
import json
import os

import numpy as np
import pytest

import fitstore
from conftest import cli


def export(store, out, *flags):
    cli("export", "--store", store, "--out", out, *flags)
    return {name[:-4]: np.load(os.path.join(out, name), allow_pickle=False) for name in os.listdir(out) if name.endswith(".npy")}


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_samples_are_the_rows_export_writes_with_their_provenance(made, workdir):
    s = fitstore.open(made["store"])
    frame = s.samples()
    arrays = export(made["store"], os.path.join(workdir, "all"), "--split", "all", "--origin", "all")
    assert list(frame["sample_id"]) == list(arrays["sample_id"])
    assert list(frame["split"]) == list(arrays["split"])
    assert list(frame["test_id"].fillna(-1).astype(int)) == list(arrays["test_id"])
    labelled = ~np.isnan(arrays["y"])
    assert np.array_equal(frame["score"].to_numpy(dtype=np.float32)[labelled], arrays["y"][labelled])
    assert frame["score"][~labelled].isna().all()
    # Provenance: every synthetic row names its generator and parameters, and its parents are rows of the store.
    synthetic = s.samples(origin="synthetic")
    assert len(synthetic) > 0 and set(synthetic["origin"]) == {"synthetic"}
    assert all(isinstance(p, dict) and p for p in synthetic["parameters"])
    everything = set(s.sql("SELECT id FROM sample")["id"])
    assert all(p and set(p) <= everything for p in synthetic["parent_ids"])
    one = synthetic["generator"].iloc[0]
    assert set(s.samples(origin=one)["generator"]) == {one}
    counted = cli("sql", "--store", made["store"], "--format", "csv",
                  "SELECT COUNT(*) FROM sample_view WHERE split = 'train' AND origin = 'real'").split()[-1]
    assert len(s.samples(split="train", origin="real")) == int(counted)
    with pytest.raises(fitstore.StoreError, match="split must be"):
        s.samples(split="valid")


def test_vectors_are_bit_identical_to_the_exported_blocks(made, workdir):
    s = fitstore.open(made["store"])
    matrix, keys = s.vectors(encoder="e5-small")
    assert matrix.dtype == np.float32 and matrix.shape[0] == len(keys) > 0
    row_of = {k: i for i, k in enumerate(keys)}
    arrays = export(made["store"], os.path.join(workdir, "train"))
    frame = s.samples(split="train", origin="real").set_index("sample_id").loc[arrays["sample_id"]]
    dims = matrix.shape[1]
    for block, column in ((0, "prompt"), (1, "response")):
        rows = [row_of[hashlib.sha256(t.encode("utf-8")).hexdigest()] for t in frame[column]]
        exported = arrays["X"][:, block * dims:(block + 1) * dims]
        assert np.array_equal(matrix[rows].view(np.uint32), exported.view(np.uint32)), column
    subset, subset_keys = s.vectors(texts=list(keys[:3]))
    assert list(subset_keys) == list(keys[:3]) and np.array_equal(subset, matrix[:3])
    with pytest.raises(fitstore.StoreError, match="no encoder named"):
        s.vectors(encoder="nope")


def test_a_damaged_blob_is_refused_byte_by_byte(made):
    s = fitstore.open(made["store"])
    blob = s._db.execute("SELECT vector FROM text_embedding ORDER BY text_id LIMIT 1").fetchone()[0]
    good = fitstore.decode_vector(blob)
    assert good.dtype == np.float32 and np.isfinite(good).all()
    # Every single-byte change is refused (header checks, LZ4, CRC-32), never decoded to other numbers.
    for i in range(len(blob)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x5A
        with pytest.raises(fitstore.VectorBlobError):
            fitstore.decode_vector(bytes(damaged))
    for cut in (0, 10, 19, len(blob) - 1):
        with pytest.raises(fitstore.VectorBlobError):
            fitstore.decode_vector(blob[:cut])


def test_training_matrix_is_the_cli_export(made, workdir):
    s = fitstore.open(made["store"])
    m = s.training_matrix(extras=True, folds=3)
    arrays = export(made["store"], os.path.join(workdir, "extras"), "--extras", "--folds", "3")
    assert set(arrays) <= set(m)
    for name, values in arrays.items():
        assert m[name].dtype == values.dtype and m[name].shape == values.shape, name
        if values.dtype.kind == "f":
            assert np.array_equal(m[name].view(np.uint32), values.view(np.uint32)), name
        else:
            assert np.array_equal(m[name], values), name
    assert m["manifest"]["rows"] == len(m["y"]) and m["X"].shape[1] == m["manifest"]["columns"]


def test_checkpoints_predictions_and_runs_are_what_the_cli_shows(made):
    s = fitstore.open(made["store"])
    checkpoints = s.checkpoints()
    shown = cli("checkpoints", "--store", made["store"])
    chosen = checkpoints[checkpoints["chosen"]]
    assert len(chosen) == 1
    ident, cv = int(chosen["id"].iloc[0]), float(chosen["cv_rmse"].iloc[0])
    assert f"chosen: checkpoint {ident} (CV {cv:.4f})" in shown
    assert chosen["encoders"].iloc[0] == ["e5-small"] and isinstance(chosen["config"].iloc[0], dict)

    with open(made["submission"], newline="") as f:
        submitted = list(csv.DictReader(f))
    predictions = s.predictions()
    assert [int(r["ID"]) for r in submitted] == list(predictions["test_id"])
    assert np.allclose([float(r["score"]) for r in submitted], predictions["score"], atol=5e-5, rtol=0)
    assert predictions.equals(s.predictions(checkpoint=ident))

    runs = s.runs()
    listed = cli("sql", "--store", made["store"], "--format", "csv", "SELECT run_id, kind FROM run_summary ORDER BY run_id")
    rows = list(csv.reader(io.StringIO(listed)))[1:]
    assert [int(r[0]) for r in rows] == list(runs["run_id"]) and [r[1] for r in rows] == list(runs["kind"])
    assert {"ingest", "embed", "augment", "train", "predict"} <= set(runs["kind"])


def test_the_api_never_writes_to_the_store(made, workdir):
    before = file_digest(made["store"])
    s = fitstore.open(made["store"])
    s.samples(); s.vectors(); s.checkpoints(); s.predictions(); s.runs()
    with pytest.raises(Exception):
        s.sql("DELETE FROM sample")
    s.close()
    assert file_digest(made["store"]) == before
    with pytest.raises(fitstore.StoreError, match="no such store"):
        fitstore.open(os.path.join(workdir, "missing.sqlite"))
    other = os.path.join(workdir, "other.sqlite")
    with open(other, "wb") as f:
        f.write(b"not sqlite at all" * 100)
    with pytest.raises(fitstore.StoreError, match="not a SQLite file|not a fitstore store"):
        fitstore.open(other)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_vectors_import_takes_float64_and_float16(made, workdir, dtype):
    store = os.path.join(workdir, f"import-{dtype}.sqlite")
    with open(made["store"], "rb") as f, open(store, "wb") as g:
        g.write(f.read())
    keys = os.path.join(workdir, f"keys-{dtype}.jsonl")
    cli("texts", "--store", store, "--missing", "--encoder", f"ext-{dtype}", "--out", keys)
    with open(keys) as f:
        n = sum(1 for line in f if line.strip())
    values = np.random.default_rng(7).standard_normal((n, 24)).astype(dtype)  # numpy's float64, as a user makes it
    path = os.path.join(workdir, f"v-{dtype}.npy")
    np.save(path, values)
    said = cli("vectors", "import", "--store", store, "--encoder", f"ext-{dtype}", "--keys", keys, path)
    assert f"read as {dtype})" in said
    stored, stored_keys = fitstore.open(store).vectors(encoder=f"ext-{dtype}")
    with open(keys) as f:
        order = [json.loads(line)["sha256"] for line in f if line.strip()]
    stored_by_key = dict(zip(stored_keys, stored))
    # float64 rounds to float32 first (astype's rounding); every stored vector is float16 (docs/storage.md).
    expected = values.astype(np.float32).astype(np.float16).astype(np.float32)
    got = np.stack([stored_by_key[k] for k in order])
    assert np.array_equal(got.view(np.uint32), expected.view(np.uint32))
