# fitstore export --format parquet: turns the arrays fitstore has just written into a staging
# folder into one Parquet file. fitstore embeds this file and runs it with a Python that has
# numpy and pyarrow (FITSTORE_PYTHON, else the python3 beside the binary, else python3 on
# PATH); the arrays themselves come from the Swift exporter, so the values are the .npy
# export's, bit for bit.
#
#   python3 parquet_writer.py STAGING ROW_GROUP_ROWS
#
# Reads STAGING/{X,y,sample_id,metric_id,test_id,split,origin[,fold]}.npy, manifest.json and
# metric_names.json ({"<metric id>": name}); writes STAGING/features.parquet: the per-row
# columns, then one column per feature block of the manifest named x_<block> (a vector block
# as fixed_size_list<float32>, an extra column as float32), row groups of ROW_GROUP_ROWS
# rows, and the manifest in the file's key-value metadata (key "fitstore_manifest").
import json
import os
import sys

try:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as error:  # said in words by fitstore
    sys.stderr.write(f"MISSING {error.name}\n")
    sys.exit(3)


def main(staging, row_group_rows):
    path = lambda name: os.path.join(staging, name)
    with open(path("manifest.json")) as f:
        manifest = json.load(f)
    with open(path("metric_names.json")) as f:
        metric_names = {int(k): v for k, v in json.load(f).items()}
    X = np.load(path("X.npy"), mmap_mode="r", allow_pickle=False)
    columns = {
        "sample_id": np.load(path("sample_id.npy"), allow_pickle=False),
        "test_id": np.load(path("test_id.npy"), allow_pickle=False),
        "metric_id": np.load(path("metric_id.npy"), allow_pickle=False),
    }
    columns["metric"] = np.array([metric_names.get(int(m), "") for m in columns["metric_id"]], dtype=object)
    columns["split"] = np.load(path("split.npy"), allow_pickle=False).astype(object)
    columns["origin"] = np.load(path("origin.npy"), allow_pickle=False).astype(object)
    columns["y"] = np.load(path("y.npy"), allow_pickle=False)
    if os.path.exists(path("fold.npy")):
        columns["fold"] = np.load(path("fold.npy"), allow_pickle=False)
    rows = X.shape[0]
    if X.dtype != np.float32 or X.ndim != 2 or X.shape[1] != manifest["columns"] or rows != manifest["rows"]:
        raise SystemExit(f"X.npy is {X.dtype} {X.shape}, the manifest says float32 ({manifest['rows']}, {manifest['columns']})")
    blocks = manifest["features"]
    fields = [
        pa.field("sample_id", pa.int64(), nullable=False), pa.field("test_id", pa.int64(), nullable=False),
        pa.field("metric_id", pa.int64(), nullable=False), pa.field("metric", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False), pa.field("origin", pa.string(), nullable=False),
        # NaN in y.npy (a test row) is a null here: engines read "no label" as null.
        pa.field("y", pa.float32(), nullable=True),
    ]
    if "fold" in columns:
        fields.append(pa.field("fold", pa.int64(), nullable=False))
    for block in blocks:
        width = block["end"] - block["start"]
        kind = pa.float32() if block["source"] == "extra" else pa.list_(pa.field("element", pa.float32(), nullable=False), width)
        fields.append(pa.field("x_" + block["name"], kind, nullable=False))
    schema = pa.schema(fields, metadata={"fitstore_manifest": json.dumps(manifest, sort_keys=True)})
    out = path("features.parquet")
    with pq.ParquetWriter(out, schema, compression="zstd", use_dictionary=["metric", "split", "origin"],
                          write_statistics=["sample_id", "test_id", "metric_id", "split", "origin", "y"]) as writer:
        for start in range(0, rows, row_group_rows):
            end = min(rows, start + row_group_rows)
            arrays = []
            for field in fields[: len(fields) - len(blocks)]:
                values = columns[field.name][start:end]
                if field.name == "y":
                    arrays.append(pa.array(values, type=pa.float32(), mask=np.isnan(values)))
                else:
                    arrays.append(pa.array(values, type=field.type))
            for block in blocks:
                width = block["end"] - block["start"]
                flat = np.ascontiguousarray(X[start:end, block["start"]:block["end"]]).reshape(-1)
                if block["source"] == "extra":
                    arrays.append(pa.array(flat, type=pa.float32()))
                else:
                    arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), width))
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=row_group_rows)
        if rows == 0:
            writer.write_table(schema.empty_table())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
