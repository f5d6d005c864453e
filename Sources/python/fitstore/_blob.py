"""The vector blob of every vector column (text_embedding.vector, metric_embedding.vector),
decoded in Python with the checks the Swift reader makes (docs/storage.md):

    offset  size  field
         0     4  magic "FVEC"
         4     1  format version (1)
         5     1  dtype: 1 float32, 2 float16
         6     1  transform: 0 none, 1 byte-shuffle
         7     1  codec: 0 stored, 1 LZ4 block
         8     4  dims (u32, little-endian)
        12     4  raw length in bytes = dims x dtype size (u32)
        16     4  CRC-32 (IEEE) of the raw little-endian values, before transform and codec
        20     …  payload

A damaged or foreign blob raises VectorBlobError naming what is wrong; it never returns
wrong numbers. float16 values widen to float32 exactly, as in Swift, so a decoded vector is
bit-identical to the one `fitstore export` writes.
"""
import struct
import zlib

import numpy as np

MAGIC = b"FVEC"
FORMAT_VERSION = 1
HEADER_SIZE = 20
MAXIMUM_DIMS = 1 << 24
DTYPES = {1: ("float32", np.dtype("<f4")), 2: ("float16", np.dtype("<f2"))}


class VectorBlobError(ValueError):
    """A vector blob that cannot be decoded; the message says why."""


def header(blob):
    """(dtype name, numpy dtype, shuffled, compressed, dims, raw length, checksum)."""
    if len(blob) < HEADER_SIZE:
        raise VectorBlobError(f"{len(blob)} bytes is shorter than the {HEADER_SIZE}-byte header")
    if bytes(blob[:4]) != MAGIC:
        raise VectorBlobError("not a fitstore vector blob (bad magic)")
    version, dtype_code, transform, codec = blob[4], blob[5], blob[6], blob[7]
    if version != FORMAT_VERSION:
        raise VectorBlobError(f"unsupported vector format version {version}")
    if dtype_code not in DTYPES:
        raise VectorBlobError(f"unknown dtype code {dtype_code}")
    if transform > 1:
        raise VectorBlobError(f"unknown transform code {transform}")
    if codec > 1:
        raise VectorBlobError(f"unknown codec code {codec}")
    dims, raw_length, checksum = struct.unpack_from("<III", blob, 8)
    name, dtype = DTYPES[dtype_code]
    if not 0 < dims <= MAXIMUM_DIMS:
        raise VectorBlobError(f"dims {dims} out of range")
    if raw_length != dims * dtype.itemsize:
        raise VectorBlobError(f"raw length {raw_length} disagrees with {dims} x {name}")
    return name, dtype, transform == 1, codec == 1, dims, raw_length, checksum


def decode(blob):
    """The float32 values of one blob (a 1-d array)."""
    name, dtype, shuffled, compressed, dims, raw_length, checksum = header(blob)
    payload = bytes(blob[HEADER_SIZE:])
    if compressed:
        if not payload:
            raise VectorBlobError("empty LZ4 payload")
        import lz4.block
        try:
            raw = lz4.block.decompress(payload, uncompressed_size=raw_length)
        except Exception as error:  # lz4 raises its own error types for damaged input
            raise VectorBlobError(f"damaged LZ4 payload ({error})") from None
        if len(raw) != raw_length:
            raise VectorBlobError(f"damaged LZ4 payload (decoded {len(raw)} of {raw_length} bytes)")
    else:
        if len(payload) != raw_length:
            raise VectorBlobError(f"payload holds {len(payload)} bytes, expected {raw_length}")
        raw = payload
    if shuffled:
        # Byte planes back into elements: plane b holds byte b of every element.
        raw = np.frombuffer(raw, dtype=np.uint8).reshape(dtype.itemsize, dims).T.tobytes()
    if zlib.crc32(raw) & 0xFFFFFFFF != checksum:
        raise VectorBlobError("checksum mismatch: the blob is damaged")
    values = np.frombuffer(raw, dtype=dtype).astype(np.float32)
    if not np.isfinite(values).all():
        raise VectorBlobError("a value is not finite")
    return values
