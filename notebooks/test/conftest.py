"""Shared fixtures of the notebook tests: paths, the goinv binary, a temp folder.

run.sh sets GOINV_BIN, GOINV_TEST_TMP, JUPYTER_PATH (goinv's kernelspec in a temporary
prefix) and GOINV_QUICK=1 before pytest starts.
"""
import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def notebook_paths():
    return sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="session")
def goinv_bin():
    path = os.environ.get("GOINV_BIN", str(ROOT / "bin" / "goinv"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"goinv binary {path} missing: run notebooks/test/run.sh")
    return path


@pytest.fixture(scope="session")
def test_tmp():
    base = os.environ.get("GOINV_TEST_TMP")
    if base:
        p = pathlib.Path(base)
    else:
        import tempfile
        p = pathlib.Path(tempfile.mkdtemp(prefix="goinv-nbtest."))
    p.mkdir(parents=True, exist_ok=True)
    return p


def copy_notebook(src, dest_dir):
    """Copies a notebook into dest_dir, so that what it writes (results/, data files)
    stays in the test's temp folder and the committed outputs are not touched."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / src.name
    shutil.copy(src, dest)
    return dest
