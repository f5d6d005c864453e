"""`fitstore export --format parquet`: the .npy export's values bit for bit, read back by
pyarrow and by Spark (pyspark in local mode, Java from Debian)."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from conftest import cli, need


@pytest.fixture(scope="module")
def exported(made, workdir):
    npy, pq = os.path.join(workdir, "x-npy"), os.path.join(workdir, "x-parquet")
    flags = ["--split", "all", "--origin", "all", "--extras", "--folds", "3"]
    cli("export", "--store", made["store"], "--out", npy, *flags)
    cli("export", "--store", made["store"], "--out", pq, "--format", "parquet", "--row-group-rows", "50", *flags)
    arrays = {n[:-4]: np.load(os.path.join(npy, n), allow_pickle=False) for n in os.listdir(npy) if n.endswith(".npy")}
    with open(os.path.join(npy, "manifest.json")) as f:
        manifest = json.load(f)
    return arrays, manifest, os.path.join(pq, "features.parquet")


def blocks_of(table, manifest):
    parts = []
    for block in manifest["features"]:
        column = table.column("x_" + block["name"]).combine_chunks()
        if block["source"] == "extra":
            parts.append(column.to_numpy().reshape(-1, 1))
        else:
            parts.append(column.values.to_numpy().reshape(len(table), block["end"] - block["start"]))
    return np.concatenate(parts, axis=1)


def test_parquet_holds_the_npy_export_bit_for_bit(exported):
    pq = pytest.importorskip("pyarrow.parquet")
    arrays, manifest, path = exported
    assert sorted(os.listdir(os.path.dirname(path))) == ["features.parquet", "manifest.json"]
    table = pq.read_table(path)
    meta = pq.ParquetFile(path).metadata
    rows = len(arrays["y"])
    assert meta.num_row_groups == -(-rows // 50) and all(meta.row_group(i).num_rows == min(50, rows - 50 * i) for i in range(meta.num_row_groups))
    X = blocks_of(table, manifest)
    assert np.array_equal(X.view(np.uint32), arrays["X"].view(np.uint32))
    for name in ("sample_id", "test_id", "metric_id", "fold"):
        assert np.array_equal(table.column(name).to_numpy(), arrays[name]), name
    y = table.column("y").to_numpy(zero_copy_only=False)
    assert np.array_equal(np.isnan(y), np.isnan(arrays["y"])) and np.array_equal(y[~np.isnan(y)], arrays["y"][~np.isnan(arrays["y"])])
    assert list(table.column("split").to_pylist()) == list(arrays["split"])
    assert list(table.column("origin").to_pylist()) == list(arrays["origin"])
    stored = json.loads(pq.ParquetFile(path).schema_arrow.metadata[b"fitstore_manifest"])
    assert stored["digest"] == manifest["digest"] and stored["parquet"]["row_group_rows"] == 50


def test_spark_reads_the_same_rows_and_checksums(exported):
    need("pyspark")
    if shutil.which("java") is None:
        pytest.fail("no java on PATH (tools/setup --references installs Debian's default-jre-headless)")
    from pyspark.sql import SparkSession, functions as F
    arrays, manifest, path = exported
    spark = (SparkSession.builder.master("local[2]").appName("fitstore-parquet")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    try:
        df = spark.read.parquet(path)
        assert df.count() == len(arrays["y"])
        # Per row, the values of each vector block summed in order in double precision: exact
        # for the same floats in the same order, so equal to numpy's running sum bit for bit.
        sums = [F.aggregate(F.col("x_" + b["name"]), F.lit(0.0).cast("double"), lambda acc, x: acc + x.cast("double")).alias("sum_" + b["name"])
                for b in manifest["features"] if b["source"] != "extra"]
        got = {r["sample_id"]: r for r in df.select("sample_id", "test_id", "metric", *sums).collect()}
    finally:
        spark.stop()
    assert sorted(got) == sorted(arrays["sample_id"].tolist())
    for block in (b for b in manifest["features"] if b["source"] != "extra"):
        values = arrays["X"][:, block["start"]:block["end"]].astype(np.float64)
        expected = np.cumsum(values, axis=1)[:, -1]
        spark_sums = np.array([got[i]["sum_" + block["name"]] for i in arrays["sample_id"].tolist()])
        assert np.array_equal(spark_sums, expected), block["name"]
    assert [got[i]["test_id"] for i in arrays["sample_id"].tolist()] == arrays["test_id"].tolist()
