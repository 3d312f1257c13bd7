"""`goinv run` (the headless runner, no Jupyter) on the tour: it writes the executed
notebook and a self-contained HTML page holding the plots inline."""
import json
import re
import subprocess
import time

from conftest import NOTEBOOKS, copy_notebook


def test_goinv_run_tour_html(goinv_bin, test_tmp):
    work = test_tmp / "goinv-run"
    nb = copy_notebook(NOTEBOOKS / "00-tour.ipynb", work)
    out = work / "00-tour.executed.ipynb"
    html = work / "00-tour.html"
    t0 = time.time()
    proc = subprocess.run([goinv_bin, "run", str(nb), "--out", str(out), "--html", str(html), "--allow-errors"],
                          cwd=work, capture_output=True, text=True, timeout=900)
    print(f"goinv run: {time.time() - t0:.1f}s, exit {proc.returncode}; HTML at {html}")
    assert out.exists(), f"no executed notebook:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert html.exists(), f"no HTML page:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"

    page = html.read_text()
    imgs = re.findall(r'<img[^>]+src="data:image/png;base64,([A-Za-z0-9+/=]{200,})', page)
    assert imgs, "the HTML page has no inline PNG image"

    cells = json.loads(out.read_text())["cells"]
    pngs = sum(1 for c in cells if c["cell_type"] == "code"
               for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    assert pngs >= 1, "the executed notebook holds no image/png output"
    for c in cells:
        if c["cell_type"] != "code" or "raises-exception" in c.get("metadata", {}).get("tags", []):
            continue
        errs = [o for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert not errs, f"unexpected error in {''.join(c['source'])[:80]!r}: {errs[0].get('evalue')}"
