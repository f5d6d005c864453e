"""fitstore in Python: read a store (one SQLite file) into pandas and numpy.

    import fitstore
    s = fitstore.open("fitstore.sqlite")          # read-only
    s.samples(split="train", origin="real")       # DataFrame: texts, metric, score, provenance
    X, keys = s.vectors(encoder="e5-small")       # float32 matrix, one row per text (sha256 keys)
    m = s.training_matrix(folds=5)                # the arrays `fitstore export` writes
    s.checkpoints(); s.predictions(); s.runs()

Everything is read through SQLite's read-only mode: nothing here can change a store. The
vectors are decoded in Python from the store's blobs (`fitstore._blob`, format in
docs/storage.md) with the same checks as the Swift reader; `training_matrix` runs the
`fitstore` binary (the wheel puts it on PATH) so that its arrays are exactly the CLI's.
"""
import builtins
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import urllib.parse

import numpy as np

from ._blob import VectorBlobError, decode as decode_vector

__all__ = ["open", "Store", "StoreError", "VectorBlobError", "decode_vector", "binary"]
__version__ = "0.1.0"


class StoreError(Exception):
    """A store that cannot be read as asked; the message names the file and what is wrong."""


def binary():
    """The `fitstore` executable: $FITSTORE_BIN, else the one inside this package (the
    wheel's), else the first on PATH."""
    explicit = os.environ.get("FITSTORE_BIN")
    if explicit:
        return explicit
    from ._cli import packaged_binary
    packaged = packaged_binary()
    if os.path.isfile(packaged) and os.access(packaged, os.X_OK):
        return packaged
    found = shutil.which("fitstore")
    if found:
        return found
    raise StoreError("the fitstore binary was not found: install the wheel (pip install fitstore-*.whl) or set FITSTORE_BIN")


def open(path):  # noqa: A001 - the module's verb, as in fitstore.open(...)
    """The store at `path`, read-only."""
    return Store(path)


class Store:
    """A read-only view of one store."""

    def __init__(self, path):
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise StoreError(f"{path}: no such store (a fitstore SQLite file)")
        self.path = path
        uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path}: not a SQLite file ({error})") from None
        missing = {"sample", "text", "text_embedding", "encoder", "checkpoint", "run", "sample_view"} - tables
        if missing:
            raise StoreError(f"{path}: not a fitstore store (no {', '.join(sorted(missing))})")

    def close(self):
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def sql(self, query, parameters=()):
        """A read-only query as a DataFrame."""
        import pandas as pd
        return pd.read_sql_query(query, self._db, params=parameters)

    # MARK: - Data sets and samples

    def datasets(self):
        return self.sql("SELECT id, name, source_path FROM dataset ORDER BY id")

    def _dataset(self, dataset):
        """(id, name) of `dataset`, or of the one ingested last."""
        if dataset is None:
            row = self._db.execute("SELECT id, name FROM dataset ORDER BY created_run_id DESC, id DESC LIMIT 1").fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no data set yet (fitstore ingest DIR)")
            return row
        row = self._db.execute("SELECT id, name FROM dataset WHERE name = ?", (dataset,)).fetchone()
        if row is None:
            names = [r[0] for r in self._db.execute("SELECT name FROM dataset ORDER BY name")]
            raise StoreError(f"{self.path}: no data set named {dataset!r} (it has {', '.join(names) or 'none'})")
        return row

    def samples(self, split=None, origin=None, dataset=None):
        """The active samples of a data set (the one ingested last by default) as a DataFrame,
        one row per sample, as the `sample_view` view has them: ids, split, origin, test_id (the
        submission's ID for real test rows), metric, prompt, response and system prompt texts,
        score, and provenance (generator, its version, parameters as a dict, seed, parent_ids
        as a list). `split`: "train" or "test". `origin`: "real", "synthetic", or a generator name."""
        _, name = self._dataset(dataset)
        where, parameters = ["dataset = ?"], [name]
        if split is not None:
            if split not in ("train", "test"):
                raise StoreError(f"split must be 'train' or 'test', not {split!r}")
            where.append("split = ?")
            parameters.append(split)
        if origin is not None:
            if origin in ("real", "synthetic"):
                where.append("origin = ?")
            else:
                where.append("generator = ?")
            parameters.append(origin)
        frame = self.sql(f"SELECT * FROM sample_view WHERE {' AND '.join(where)} ORDER BY sample_id", parameters)
        frame["parameters"] = [json.loads(p) if isinstance(p, str) else None for p in frame["parameters"]]
        frame["parent_ids"] = [[int(x) for x in p.split(",")] if isinstance(p, str) and p else [] for p in frame["parent_ids"]]
        return frame

    # MARK: - Vectors

    def encoders(self):
        return self.sql("SELECT id, name, key, kind, dims, source FROM encoder ORDER BY id")

    def _encoder(self, encoder):
        rows = self._db.execute("SELECT id, name, key, dims FROM encoder ORDER BY id").fetchall()
        if encoder is None:
            encoder = "e5-small" if any(r[1] == "e5-small" for r in rows) else None
            if encoder is None:
                models = [r for r in rows if r[1] is not None]
                if len(models) == 1:
                    return models[0]
                raise StoreError(f"{self.path}: say which encoder (it has {', '.join(str(r[1] or r[2]) for r in rows) or 'none'})")
        for r in rows:
            if encoder in (r[1], r[2]):
                return r
        raise StoreError(f"{self.path}: no encoder named {encoder!r} (it has {', '.join(str(r[1] or r[2]) for r in rows) or 'none'})")

    def vectors(self, encoder=None, texts=None):
        """(matrix, keys): the float32 vectors of one encoder (by name or key; default e5-small),
        one row per text, in text id order, and each row's text sha256 (the key `vectors
        import` takes). `texts`: an iterable of sha256 keys to restrict to (missing ones are
        left out). A damaged blob raises VectorBlobError naming its text."""
        encoder_id, name, key, dims = self._encoder(encoder)
        rows = self._db.execute(
            "SELECT t.sha256, e.vector FROM text_embedding e JOIN text t ON t.id = e.text_id WHERE e.encoder_id = ? ORDER BY t.id",
            (encoder_id,))
        wanted = set(texts) if texts is not None else None
        keys, matrix = [], []
        for sha, blob in rows:
            if wanted is not None and sha not in wanted:
                continue
            try:
                v = decode_vector(blob)
            except VectorBlobError as error:
                raise VectorBlobError(f"{self.path}: text_embedding of text {sha} (encoder {name or key}): {error}") from None
            if len(v) != dims:
                raise VectorBlobError(f"{self.path}: text_embedding of text {sha} has {len(v)} values; encoder {name or key} has {dims}")
            keys.append(sha)
            matrix.append(v)
        out = np.stack(matrix) if matrix else np.zeros((0, dims), dtype=np.float32)
        return out, np.array(keys, dtype=object)

    # MARK: - Training matrix

    def training_matrix(self, split="train", origin="real", encoder=None, extras=False, system_prompt=False,
                        folds=0, dataset=None):
        """The arrays `fitstore export` writes with the same flags, as a dict: X, y, sample_id,
        metric_id, test_id, split, origin (and fold with folds > 0), plus "manifest" (its JSON).
        Runs the fitstore binary on this store (read-only: export writes nothing into it)."""
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "export")
            args = [binary(), "export", "--store", self.path, "--out", out, "--split", split, "--origin", origin]
            if encoder:
                args += ["--encoder", encoder]
            if extras:
                args.append("--extras")
            if system_prompt:
                args.append("--system-prompt")
            if folds:
                args += ["--folds", str(folds)]
            if dataset:
                args += ["--dataset", dataset]
            done = subprocess.run(args, capture_output=True, text=True)
            if done.returncode != 0:
                raise StoreError(done.stderr.strip() or f"fitstore export failed ({done.returncode})")
            arrays = {}
            for name in ("X", "y", "sample_id", "metric_id", "test_id", "split", "origin", "fold"):
                file = os.path.join(out, name + ".npy")
                if os.path.exists(file):
                    arrays[name] = np.load(file, allow_pickle=False)
            with builtins.open(os.path.join(out, "manifest.json")) as f:
                arrays["manifest"] = json.load(f)
            return arrays

    # MARK: - Models and runs

    def checkpoints(self, dataset=None):
        """Every checkpoint of a data set (default: the one ingested last): id, model, created_at,
        cv_rmse (its one CV number), test_rmse (the newest `fitstore score`, else NaN), chosen
        (the data set's chosen checkpoint, the one `predict` uses), encoders, config (a dict)."""
        dataset_id, _ = self._dataset(dataset)
        frame = self.sql(
            """SELECT c.id, c.model, c.created_at, c.run_id,
                      -- its one CV number, as `fitstore checkpoints` shows it: a kept bag's own
                      -- nested CV where its out-of-fold predictions are the nested bags'
                      CASE WHEN json_extract(c.evaluation, '$.outOfFold') = 'nested bag'
                           THEN COALESCE(json_extract(c.evaluation, '$.nestedBagging.bagRMSE'), json_extract(c.evaluation, '$.crossValidation.rmse'))
                           ELSE json_extract(c.evaluation, '$.crossValidation.rmse') END AS cv_rmse,
                      (SELECT s.rmse FROM checkpoint_score s WHERE s.checkpoint_id = c.id ORDER BY s.id DESC LIMIT 1) AS test_rmse,
                      (SELECT group_concat(name, ',') FROM (SELECT COALESCE(e.name, e.key) AS name FROM checkpoint_encoder ce
                         JOIN encoder e ON e.id = ce.encoder_id WHERE ce.checkpoint_id = c.id ORDER BY ce.position)) AS encoders,
                      c.config
                 FROM checkpoint c WHERE c.dataset_id = ? ORDER BY c.id""", (dataset_id,))
        chosen = self._chosen(dataset_id)
        frame["chosen"] = frame["id"] == chosen
        frame["config"] = [json.loads(c) for c in frame["config"]]
        frame["encoders"] = [e.split(",") if isinstance(e, str) else [] for e in frame["encoders"]]
        return frame

    def _chosen(self, dataset_id):
        row = self._db.execute("SELECT checkpoint_id FROM chosen_checkpoint WHERE dataset_id = ? ORDER BY id DESC LIMIT 1",
                               (dataset_id,)).fetchone()
        return row[0] if row else None

    def predictions(self, checkpoint=None, dataset=None):
        """The stored test predictions of a checkpoint (default: the data set's chosen one) as a
        DataFrame: sample_id, test_id (the submission's ID), metric, score; in ID order."""
        dataset_id, name = self._dataset(dataset)
        if checkpoint is None:
            checkpoint = self._chosen(dataset_id)
            if checkpoint is None:
                raise StoreError(f"{self.path}: data set {name} has no checkpoint yet (fitstore train, or fitstore run)")
        return self.sql(
            """SELECT p.sample_id, s.position + 1 AS test_id, m.name AS metric, p.score
                 FROM prediction p JOIN sample s ON s.id = p.sample_id JOIN metric m ON m.id = s.metric_id
                WHERE p.checkpoint_id = ? ORDER BY s.position""", (int(checkpoint),))

    def runs(self):
        """Every run (the ledger): kind, status, times, what it added, its counts and parameters."""
        return self.sql("SELECT * FROM run_summary ORDER BY run_id")

