#!/usr/bin/env python3
"""Assembles the fitstore wheel from a self-contained binary and the Python package.

    tools/make_wheel.py BINARY OUT_DIR   -> OUT_DIR/fitstore-VERSION-py3-none-manylinux_2_X_x86_64.whl

A wheel is a zip with a fixed layout (PEP 427, PEP 491): the package (Sources/python/fitstore)
with the binary as fitstore/_bin/fitstore, and fitstore-VERSION.dist-info/ holding METADATA,
WHEEL, entry_points.txt (the `fitstore` command: fitstore._cli:main, which runs the binary)
and RECORD (every file's sha256). The platform tag names the newest glibc symbol version the
binary needs (manylinux_2_X, PEP 600). Entries are written in sorted order with a fixed
timestamp, so the same inputs give the same bytes.
"""
import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PACKAGE = os.path.join(ROOT, "Sources", "python", "fitstore")
STAMP = (2026, 1, 1, 0, 0, 0)


def glibc_tag(binary):
    symbols = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+)", symbols)}
    major, minor = max(versions, default=(2, 17))
    return f"manylinux_{major}_{minor}_x86_64"


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main(binary, out_dir):
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(PACKAGE, "__init__.py")) as f:
        python_version = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)
    if version != python_version:
        sys.exit(f"make_wheel: the binary says {version}, the Python package {python_version}: build them from one checkout")
    tag = glibc_tag(binary)
    dist = f"fitstore-{version}.dist-info"
    files = {}  # name in the wheel -> (bytes, executable)
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), "rb") as f:
                files[f"fitstore/{name}"] = (f.read(), False)
    with open(binary, "rb") as f:
        files["fitstore/_bin/fitstore"] = (f.read(), True)
    with open(os.path.join(ROOT, "docs", "python.md"), encoding="utf-8") as f:
        description = f.read()
    files[f"{dist}/METADATA"] = ("\n".join([
        "Metadata-Version: 2.1",
        "Name: fitstore",
        f"Version: {version}",
        "Summary: Learn an LLM judge's fitness score (0-10) for (metric, prompt, response) triples, every artifact in one SQLite file",
        "Requires-Python: >=3.9",
        "Requires-Dist: numpy",
        "Requires-Dist: pandas",
        "Requires-Dist: pyarrow",
        "Requires-Dist: lz4",
        "Provides-Extra: ray",
        'Requires-Dist: ray[data]; extra == "ray"',
        "Description-Content-Type: text/markdown",
        "",
        description,
    ]).encode(), False)
    files[f"{dist}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: fitstore tools/make_wheel.py\nRoot-Is-Purelib: false\nTag: py3-none-{tag}\n".encode(), False)
    files[f"{dist}/entry_points.txt"] = (b"[console_scripts]\nfitstore = fitstore._cli:main\n", False)
    record = [record_line(name, data) for name, (data, _) in files.items()] + [f"{dist}/RECORD,,"]
    files[f"{dist}/RECORD"] = (("\n".join(record) + "\n").encode(), False)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"fitstore-{version}-py3-none-{tag}.whl")
    with zipfile.ZipFile(path + ".part", "w", compression=zipfile.ZIP_DEFLATED) as z:
        # dist-info last, RECORD at the very end, as installers expect.
        order = sorted(n for n in files if not n.startswith(dist)) + sorted(n for n in files if n.startswith(dist) and not n.endswith("RECORD")) + [f"{dist}/RECORD"]
        for name in order:
            data, executable = files[name]
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    os.replace(path + ".part", path)
    print(path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
