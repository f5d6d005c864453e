"""The SQL examples in the README and docs/ run on the demo store after `fitstore run`: each
returns rows, or the doc says beside it (that line or the two before) why it may not."""
import csv
import io
import os
import re

import pytest

from conftest import ROOT, cli

WHY = re.compile(r"no rows|0 rows|empty|rows only|only (when|where|if|after)|none until|return nothing", re.I)


def examples():
    """(file, line number, query, context) for every `sql "..."` line and ```sql block."""
    found = []
    files = [os.path.join(ROOT, "README.md")] + sorted(
        os.path.join(ROOT, "docs", n) for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md"))
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = re.search(r"""(?:fitstore|\$B) sql (?:--format \w+ )?"((?:SELECT|WITH)[^"]*)"\s*(?:#.*)?$""", line)
            if m:
                found.append((path, i + 1, m.group(1), "\n".join(lines[max(0, i - 2):i + 1])))
        for m in re.finditer(r"```sql\n(.*?)```", text, re.S):
            start = text[:m.start()].count("\n") + 1
            for chunk in m.group(1).split(";"):
                # The comment lines above a query in the block are its context too.
                chunk_lines = [l for l in chunk.strip().splitlines()]
                comments = [l for l in chunk_lines if l.lstrip().startswith("--")]
                query = "\n".join(l for l in chunk_lines if not l.lstrip().startswith("--")).strip()
                if query.upper().startswith(("SELECT", "WITH")):
                    found.append((path, start, query, "\n".join(lines[max(0, start - 3):start] + comments)))
    return found


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("demo-run"))
    # The choices are tested elsewhere (no documented query reads them); the docs need a run's
    # store, and the nested bag would triple the training time.
    cli("run", "--learner", "default", "--bag-folds", "off", cwd=work)
    return os.path.join(work, "fitstore.sqlite")


def test_the_docs_hold_sql_examples():
    assert len(examples()) >= 12


@pytest.mark.parametrize("path,line,query,context", examples(), ids=lambda v: v if isinstance(v, int) else None)
def test_each_documented_query_runs_and_returns_rows(demo_store, path, line, query, context):
    place = f"{os.path.relpath(path, ROOT)}:{line}"
    out = cli("sql", "--store", demo_store, "--format", "csv", query)
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert rows or WHY.search(context), f"{place}: no rows on the demo store, and the doc does not say why: {query}"
