"""Every notebook, executed by nbconvert with the goinv kernel in the quick setting.

Checks, per notebook: nbconvert exits 0; no cell has an error output unless it is
tagged "raises-exception" (and those do have one: the demonstration worked); every
cell tagged "figure" produced at least one image/png output; every code cell ran.
"""
import json
import os
import subprocess
import time

import pytest

import check_outputs
from conftest import copy_notebook, notebook_paths


@pytest.mark.parametrize("nb_path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_executes(nb_path, test_tmp):
    assert os.environ.get("GOINV_QUICK") == "1", "run through notebooks/test/run.sh (GOINV_QUICK=1)"
    work = test_tmp / "nbconvert" / nb_path.stem
    nb = copy_notebook(nb_path, work)
    out = work / (nb_path.stem + ".executed.ipynb")
    t0 = time.time()
    proc = subprocess.run(
        ["/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.kernel_name=goinv",
         "--ExecutePreprocessor.timeout=1200",
         "--ExecutePreprocessor.startup_timeout=120",
         "--output", str(out), str(nb)],
        cwd=work, capture_output=True, text=True, timeout=1800)
    print(f"{nb_path.name}: nbconvert {time.time() - t0:.1f}s, executed notebook {out}")
    assert proc.returncode == 0, f"nbconvert failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"

    probs, figures = check_outputs.problems(json.loads(out.read_text()))
    assert not probs, "\n".join(probs)
