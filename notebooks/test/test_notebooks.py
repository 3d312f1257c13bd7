"""Every notebook, executed by nbconvert with the goinv kernel in the quick setting.

Checks, per notebook: nbconvert exits 0; no cell has an error output unless it is
tagged "raises-exception" (and those do have one: the demonstration worked); every
cell tagged "figure" produced at least one image/png output; every code cell ran.
"""
import base64
import json
import os
import subprocess
import time

import pytest

from conftest import copy_notebook, notebook_paths

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


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

    cells = json.loads(out.read_text())["cells"]
    problems = []
    figures = 0
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or not cell["source"]:
            continue
        src = "".join(cell["source"]).strip().splitlines()
        where = f"cell {i} ({src[0][:60] if src else ''!r})"
        if cell.get("execution_count") is None:
            problems.append(f"{where}: did not run")
        outs = cell.get("outputs", [])
        errors = [o for o in outs if o["output_type"] == "error"]
        if "raises-exception" in tags(cell):
            if not errors:
                problems.append(f"{where}: tagged raises-exception but gave no error")
        elif errors:
            e = errors[0]
            problems.append(f"{where}: error {e.get('ename')}: {e.get('evalue')}\n"
                            + "\n".join(e.get("traceback", []))[-1500:])
        if "figure" in tags(cell):
            figures += 1
            pngs = [o["data"]["image/png"] for o in outs
                    if o["output_type"] in ("display_data", "execute_result")
                    and "image/png" in o.get("data", {})]
            if not pngs:
                problems.append(f"{where}: tagged figure but produced no image/png")
            for p in pngs:
                data = base64.b64decode(p if isinstance(p, str) else "".join(p))
                if not data.startswith(PNG_MAGIC) or len(data) < 200:
                    problems.append(f"{where}: image/png output is not a real PNG ({len(data)} bytes)")
    assert figures > 0, f"{nb_path.name} has no cell tagged figure"
    assert not problems, "\n".join(problems)
