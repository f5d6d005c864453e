"""Embed a store's missing texts on a Ray cluster, then import them in one transaction.

    python -m fitstore.ray_embed --store fitstore.sqlite --encoder e5-ray [--shards 64] [--address auto]

1. `fitstore texts --missing --encoder NAME` lists the texts in use that lack a vector under NAME.
2. Ray Data fans them out in `--shards` contiguous shards; each worker runs the wheel's
   `fitstore encode` on its shard (the built-in multilingual-e5-small, or `--model-folder DIR`),
   or, with `--engine sentence-transformers`, a SentenceTransformer on `--device` (a GPU worker).
3. The shards come back in order and `fitstore vectors import --encoder NAME` stores them, all
   in one transaction.

fitstore's encoder computes every text the same way whatever shares its batch, so any sharding
on any number of workers gives the bytes `fitstore embed` would give on one machine (the test
checks 1, 3 and 7 shards). Nothing is written to the store before step 3: a job killed earlier
leaves the store as it was, and a rerun embeds only what is still missing. The vectors land
under NAME (an imported encoder); train, export and run use them with `--encoder NAME`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from . import StoreError, binary


def _run(args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"{' '.join(args[:3])}: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done.stdout


def encode_shard(texts, engine="fitstore", model_folder=None, prefix=None, length_policy=None, threads=1,
                 device="cpu", fitstore_bin=None):
    """The float32 vectors of `texts`, in order, computed on this worker."""
    if engine == "sentence-transformers":
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(model_folder, device=device)
        vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        source, out = os.path.join(tmp, "texts.json"), os.path.join(tmp, "vectors.npy")
        with open(source, "w", encoding="utf-8") as f:
            json.dump(list(texts), f, ensure_ascii=False)
        args = [fitstore_bin or binary(), "encode", source, "--out", out, "--threads", str(threads)]
        if model_folder:
            args += ["--encoder", model_folder]
        if prefix is not None:
            args += ["--prefix", prefix]
        if length_policy:
            args += ["--length-policy", length_policy]
        _run(args)
        return np.load(out, allow_pickle=False)


def shards_of(count, shards):
    """Contiguous [start, end) ranges covering 0..<count in `shards` near-equal parts (no empty ones)."""
    shards = max(1, min(shards, count))
    bounds = [count * i // shards for i in range(shards + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def embed(store, encoder, shards=8, address=None, model_folder=None, prefix=None, length_policy=None,
          engine="fitstore", device="cpu", cpus_per_shard=1, log=print):
    """Steps 1-3 above; returns the number of vectors imported."""
    import ray

    fitstore_bin = binary()
    with tempfile.TemporaryDirectory() as tmp:
        keys = os.path.join(tmp, "texts.jsonl")
        _run([fitstore_bin, "texts", "--store", store, "--missing", "--encoder", encoder, "--out", keys])
        with open(keys, encoding="utf-8") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        if not lines:
            log(f"every text in use already has a vector under {encoder}: nothing to do")
            return 0
        texts = [line["text"] for line in lines]
        ranges = shards_of(len(texts), shards)
        log(f"{len(texts)} text(s) missing under {encoder}: {len(ranges)} shard(s) on Ray ({engine})")
        started = time.time()
        if not ray.is_initialized():
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        settings = dict(engine=engine, model_folder=model_folder, prefix=prefix, length_policy=length_policy,
                        threads=cpus_per_shard, device=device,
                        # Workers on this machine use this binary; on a cluster each has the wheel.
                        fitstore_bin=fitstore_bin if address in (None, "local") else None)

        def work(row):
            vectors = encode_shard(json.loads(row["texts"]), **settings)
            return {"shard": row["shard"], "rows": vectors.shape[0], "dims": vectors.shape[1], "vectors": vectors.tobytes()}

        items = [{"shard": i, "texts": json.dumps(texts[a:b], ensure_ascii=False)} for i, (a, b) in enumerate(ranges)]
        resources = {"num_gpus": 1} if device.startswith("cuda") else {"num_cpus": cpus_per_shard}
        results = ray.data.from_items(items, override_num_blocks=len(items)).map(work, **resources).take_all()
        results.sort(key=lambda r: r["shard"])
        if [r["shard"] for r in results] != list(range(len(ranges))):
            raise StoreError(f"Ray returned shards {[r['shard'] for r in results]}, expected 0..{len(ranges) - 1}")
        parts = []
        for (a, b), r in zip(ranges, results):
            if r["rows"] != b - a:
                raise StoreError(f"shard {r['shard']} came back with {r['rows']} vectors for {b - a} texts")
            parts.append(np.frombuffer(r["vectors"], dtype=np.float32).reshape(r["rows"], r["dims"]))
        matrix = np.concatenate(parts)
        log(f"embedded {len(texts)} text(s) in {time.time() - started:.1f} s")
        vectors = os.path.join(tmp, "vectors.npy")
        np.save(vectors, matrix)
        log(_run([fitstore_bin, "vectors", "import", "--store", store, "--encoder", encoder, "--keys", keys, vectors]).strip())
        return len(texts)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fitstore.ray_embed", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--store", default="fitstore.sqlite", help="the store (default ./fitstore.sqlite)")
    parser.add_argument("--encoder", required=True, help="the name the vectors are stored under (an imported encoder)")
    parser.add_argument("--model-folder", help="a Hugging Face model folder (default: the built-in multilingual-e5-small)")
    parser.add_argument("--prefix", help="as `fitstore encode --prefix` (default: the model's)")
    parser.add_argument("--length-policy", help="as `fitstore encode --length-policy` (default windowed-64)")
    parser.add_argument("--address", help="the Ray cluster (auto: the one this machine belongs to; default: a local one)")
    parser.add_argument("--shards", type=int, default=8, help="shards to split the texts into (default 8)")
    parser.add_argument("--cpus-per-shard", type=int, default=1, help="CPUs (and encoder threads) per shard (default 1)")
    parser.add_argument("--engine", choices=["fitstore", "sentence-transformers"], default="fitstore")
    parser.add_argument("--device", default="cpu", help="with --engine sentence-transformers: cpu or cuda")
    a = parser.parse_args(argv)
    if a.shards < 1 or a.cpus_per_shard < 1:
        parser.error("--shards and --cpus-per-shard must be >= 1")
    if a.engine == "sentence-transformers" and not a.model_folder:
        parser.error("--engine sentence-transformers needs --model-folder")
    try:
        embed(a.store, a.encoder, shards=a.shards, address=a.address, model_folder=a.model_folder, prefix=a.prefix,
              length_policy=a.length_policy, engine=a.engine, device=a.device, cpus_per_shard=a.cpus_per_shard)
    except StoreError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
