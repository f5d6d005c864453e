"""python -m fitstore.ray_embed on a local Ray cluster: the vectors it imports are the bytes
`fitstore embed` stores, for every sharding; a killed job leaves the store as it was."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT, cli, need


def blobs(store, encoder):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return dict(db.execute("""SELECT t.sha256, e.vector FROM text_embedding e JOIN text t ON t.id = e.text_id
                                   JOIN encoder c ON c.id = e.encoder_id WHERE COALESCE(c.name, c.key) = ?""", (encoder,)))
    finally:
        db.close()


@pytest.fixture(scope="module")
def stores(small_task, workdir):
    """One store embedded by `fitstore embed`, and a copy of it before embedding."""
    fresh = os.path.join(workdir, "ray-fresh.sqlite")
    cli("ingest", "--store", fresh, small_task)
    embedded = os.path.join(workdir, "ray-embedded.sqlite")
    shutil.copy(fresh, embedded)
    cli("embed", "--store", embedded)
    return fresh, embedded


@pytest.fixture(scope="module")
def ray_cluster():
    ray = need("ray")
    # Workers import fitstore as the driver does (from the checkout; a user's come from the wheel).
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.path.join(ROOT, "Sources", "python"), "FITSTORE_BIN": os.environ["FITSTORE_BIN"]}})
    yield ray
    ray.shutdown()


@pytest.mark.parametrize("shards", [1, 7])  # one shard, and more shards than cores
def test_ray_embed_gives_the_bytes_of_fitstore_embed(stores, ray_cluster, workdir, shards):
    from fitstore import ray_embed
    fresh, embedded = stores
    store = os.path.join(workdir, f"ray-{shards}.sqlite")
    shutil.copy(fresh, store)
    said = []
    count = ray_embed.embed(store, "e5-ray", shards=shards, log=said.append)
    reference = blobs(embedded, "e5-small")
    assert count == len(reference) > 0 and f"{min(shards, count)} shard(s)" in said[0]
    assert blobs(store, "e5-ray") == reference
    # A rerun finds nothing missing and writes nothing.
    assert ray_embed.embed(store, "e5-ray", shards=shards, log=said.append) == 0


def test_a_killed_ray_embed_leaves_the_store_as_it_was(stores, workdir):
    need("ray")
    fresh, _ = stores
    store = os.path.join(workdir, "ray-killed.sqlite")
    shutil.copy(fresh, store)
    with open(store, "rb") as f:
        before = f.read()
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "Sources", "python")}
    job = subprocess.Popen([sys.executable, "-u", "-m", "fitstore.ray_embed", "--store", store, "--encoder", "e5-ray", "--shards", "4"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Killed once the fan-out has started, before the import.
    for line in job.stdout:
        if "shard(s) on Ray" in line:
            break
    job.kill()
    job.wait()
    with open(store, "rb") as f:
        assert f.read() == before
    from fitstore import ray_embed
    assert ray_embed.embed(store, "e5-ray", shards=2, log=lambda _: None) > 0


def test_the_sentence_transformers_engine_imports_vectors_like_fitstores(stores, ray_cluster, workdir):
    """--engine sentence-transformers (what a GPU worker runs; here on CPU) on a model folder:
    its vectors are PyTorch's, not ours, so they agree with `fitstore encode` on the same
    folder to float noise (cosine), not to the byte."""
    need("sentence_transformers")
    import numpy as np
    from fitstore import ray_embed
    import fitstore
    folder = os.path.join(os.environ.get("FITSTORE_MODEL_DIR") or os.path.expanduser("~/.cache/fitstore/models"), "hf", "all-MiniLM-L6-v2")
    if not os.path.isdir(folder):
        pytest.fail(f"no MiniLM folder at {folder} (tools/setup --references fetches it)")
    fresh, _ = stores
    store = os.path.join(workdir, "ray-st.sqlite")
    shutil.copy(fresh, store)
    count = ray_embed.embed(store, "minilm-st", shards=2, model_folder=folder, engine="sentence-transformers", log=lambda _: None)
    theirs, keys = fitstore.open(store).vectors(encoder="minilm-st")
    assert count == len(keys) > 0
    texts = {}
    cli("texts", "--store", fresh, "--missing", "--encoder", "minilm-x", "--out", os.path.join(workdir, "st-keys.jsonl"))
    with open(os.path.join(workdir, "st-keys.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            texts[row["sha256"]] = row["text"]
    ours = ray_embed.encode_shard([texts[k] for k in keys], model_folder=folder, length_policy="truncate", threads=2)
    # Stored vectors are float16 (docs/storage.md): compare at that precision.
    cosine = (theirs * ours).sum(1) / np.linalg.norm(theirs, axis=1) / np.linalg.norm(ours, axis=1)
    assert cosine.min() > 0.999, cosine.min()
