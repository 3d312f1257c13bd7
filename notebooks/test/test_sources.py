"""The committed notebooks hold exactly the cells of their sources in notebooks/src
(so a reviewer can read the .cells diffs and trust the .ipynb files)."""
import subprocess

from conftest import NOTEBOOKS


def test_notebooks_match_sources():
    proc = subprocess.run(["/usr/bin/python3", str(NOTEBOOKS / "build.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
