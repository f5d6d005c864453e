"""Fixtures of the Python API's tests: a store made by the fitstore CLI, which the API is then
checked against.

The data: the first records of a shared task (../shared/tasks/prometheus_rubric, or the task
folder $FITSTORE_PY_TASK) when present, else the built-in demo data, so the tests pass on a
machine without ../shared. The binary: $FITSTORE_BIN, else this checkout's debug build (what
`swift test` leaves; tools/test sets FITSTORE_BIN).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Sources", "python"))

CI = os.environ.get("CI", "") not in ("", "0", "false")


def fitstore_bin():
    explicit = os.environ.get("FITSTORE_BIN")
    path = explicit or os.path.join(ROOT, ".build", "debug", "fitstore")
    if not os.path.isfile(path):
        pytest.fail(f"no fitstore binary at {path}: run swift build (or set FITSTORE_BIN)")
    os.environ["FITSTORE_BIN"] = path
    return path


def cli(*args, cwd=None):
    """Runs the CLI; its stdout, failing the test with its stderr when it fails."""
    done = subprocess.run([fitstore_bin(), *args], capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        pytest.fail(f"fitstore {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def need(module):
    """Imports a reference module; a missing one skips the test, except under CI where it fails."""
    try:
        return __import__(module)
    except ImportError:
        if CI:
            pytest.fail(f"{module} is not installed and CI is set (tools/setup --references installs it)")
        pytest.skip(f"{module} is not installed (tools/setup --references installs it)")


def shared_task():
    task = os.environ.get("FITSTORE_PY_TASK") or os.path.join(ROOT, "..", "shared", "tasks", "prometheus_rubric")
    return task if os.path.isfile(os.path.join(task, "train_data.json")) else None


def write_task(folder, train=80, test=30):
    """A DA5401 folder: the first records of the shared task, else the generated demo."""
    task = shared_task()
    out = os.path.join(folder, f"task-{train}-{test}")
    if task is None:
        cli("demo", "--store", os.path.join(folder, f"scratch-{train}-{test}.sqlite"), "--out", out,
            "--train", str(train), "--test", str(test))
        return out
    os.makedirs(out)
    for name in os.listdir(task):
        source = os.path.join(task, name)
        if name == "train_data.json" or name == "test_data.json":
            with open(source, encoding="utf-8") as f:
                records = json.load(f)
            with open(os.path.join(out, name), "w", encoding="utf-8") as f:
                json.dump(records[: train if name.startswith("train") else test], f, ensure_ascii=False)
        elif name.endswith(".json") or name.endswith(".npy"):
            shutil.copy(source, os.path.join(out, name))
    return out


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("fitstore-py"))


@pytest.fixture(scope="session")
def task(workdir):
    return write_task(workdir)


@pytest.fixture(scope="session")
def small_task(workdir):
    """A few records: for tests that embed a task several times."""
    return write_task(workdir, train=16, test=4)


@pytest.fixture(scope="session")
def made(workdir, task):
    """A store through ingest, embed, augment, train and predict; its path and submission."""
    store = os.path.join(workdir, "made.sqlite")
    cli("ingest", "--store", store, task)
    cli("embed", "--store", store)
    cli("augment", "--store", store, "--stages", "negative")
    cli("train", "--store", store, "--cv-folds", "3")
    submission = os.path.join(workdir, "submission.csv")
    cli("predict", "--store", store, "--out", submission)
    return {"store": store, "submission": submission}
