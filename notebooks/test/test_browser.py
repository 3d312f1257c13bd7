"""The tour in a real browser: Debian's classic Jupyter Notebook served on 127.0.0.1,
driven by headless Chromium through Selenium.

The page runs every cell of 00-tour.ipynb in the goinv kernel (Jupyter's own
execute_all_cells), answers the tour's stdin prompt, waits until every cell ran and
the kernel is idle, then checks that the page holds the rendered plot — an <img>
with a data:image/png source inside an output area — and that the only error outputs
are in cells tagged raises-exception. A screenshot is saved in the test's temp folder.
"""
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import NOTEBOOKS, copy_notebook

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.25)
    raise TimeoutError(f"{url} not answering after {timeout}s: {last}")


@pytest.fixture
def notebook_server(test_tmp):
    work = test_tmp / "browser"
    copy_notebook(NOTEBOOKS / "00-tour.ipynb", work)
    port, token = free_port(), secrets.token_hex(16)
    log = open(work / "jupyter-notebook.log", "w")
    env = dict(os.environ, GOINV_QUICK="1")
    proc = subprocess.Popen(
        ["/usr/bin/jupyter", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--port-retries=0", f"--NotebookApp.token={token}", "--NotebookApp.password=",
         f"--notebook-dir={work}", "--NotebookApp.open_browser=False"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", 60)
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "dir": work}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def browser(test_tmp):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.fail("Debian chromium and chromium-driver are needed: bash install/deps.sh --test")
    profile = test_tmp / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1600"]:
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(test_tmp / "chromedriver.log")),
                           options=opts)
    drv.set_script_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


STATE_JS = """
var nb = Jupyter.notebook;
if (!nb || !nb.kernel) { return null; }
var cells = nb.get_cells().filter(function (c) { return c.cell_type === 'code' && c.get_text().trim() !== ''; });
var pending = cells.filter(function (c) { return typeof c.input_prompt_number !== 'number'; }).length;
var idle = document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
return {cells: cells.length, pending: pending, idle: idle,
        kernel: nb.kernel.name, connected: nb.kernel.is_connected()};
"""

PLOT_IMG_JS = """
var cells = Jupyter.notebook.get_cells().filter(function (c) {
  return c.cell_type === 'code' && c.get_text().indexOf('"Two waves"') !== -1;
});
if (cells.length === 0) { return null; }
return cells[0].output_area.element[0].querySelector('img[src^="data:image/png"]');
"""

PLOT_JS = """
var img = (function () {""" + PLOT_IMG_JS + """})();
return img ? [img.naturalWidth, img.naturalHeight] : null;
"""

ERRORS_JS = """
var out = [];
Jupyter.notebook.get_cells().forEach(function (c, i) {
  if (c.cell_type !== 'code') { return; }
  var tags = (c.metadata && c.metadata.tags) || [];
  c.output_area.outputs.forEach(function (o) {
    if (o.output_type === 'error' && tags.indexOf('raises-exception') === -1) {
      out.push('cell ' + i + ': ' + o.ename + ': ' + o.evalue);
    }
  });
});
return out;
"""


def test_tour_in_browser(notebook_server, browser, test_tmp):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url = f"{notebook_server['url']}/notebooks/00-tour.ipynb?token={notebook_server['token']}"
    browser.get(url)

    deadline = time.time() + 90
    state = None
    while time.time() < deadline:
        state = browser.execute_script(STATE_JS)
        if state and state["connected"] and state["idle"]:
            break
        time.sleep(0.5)
    assert state and state["connected"], f"kernel never connected: {state}"
    assert state["kernel"] == "goinv", f"the page started kernel {state['kernel']!r}, want goinv"

    t0 = time.time()
    browser.execute_script("Jupyter.notebook.execute_all_cells();")
    answered = 0
    deadline = time.time() + 600
    while time.time() < deadline:
        # The tour reads a line from stdin: answer the prompt the page shows.
        for box in browser.find_elements(By.CSS_SELECTOR, "input.raw_input"):
            if box.is_displayed() and box.is_enabled():
                box.send_keys("Gopher from Chromium" + Keys.ENTER)
                answered += 1
        state = browser.execute_script(STATE_JS)
        if state and state["pending"] == 0 and state["idle"]:
            # Idle between two cells is possible: confirm a moment later.
            time.sleep(1.0)
            state = browser.execute_script(STATE_JS)
            if state["pending"] == 0 and state["idle"]:
                break
        time.sleep(0.5)
    print(f"browser: all {state['cells']} code cells ran in {time.time() - t0:.1f}s; "
          f"stdin prompts answered: {answered}")
    assert state["pending"] == 0, f"cells still pending after 600s: {state}"
    assert answered >= 1, "the tour's stdin prompt never appeared in the page"

    imgs = browser.find_elements(By.CSS_SELECTOR, ".output_area img[src^='data:image/png']")
    assert imgs, "no rendered data:image/png <img> in any output area"
    sizes = [browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight];", i)
             for i in imgs]
    assert any(w >= 100 and h >= 100 for w, h in sizes), f"images did not render: {sizes}"

    # The plot of the "Two waves" cell must be rendered as a PNG picture in its output area.
    plot_size = browser.execute_script(PLOT_JS)
    assert plot_size, "the \"Two waves\" plot cell has no <img src=data:image/png> in its output area"
    assert plot_size[0] >= 300 and plot_size[1] >= 200, f"the plot image did not render: {plot_size}"

    errors = browser.execute_script(ERRORS_JS)
    assert not errors, "error outputs outside raises-exception cells:\n" + "\n".join(errors)

    # Screenshot of the first plot in view.
    plot_img = browser.execute_script(PLOT_IMG_JS)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot_img)
    time.sleep(0.5)
    shot = test_tmp / "browser" / "00-tour-screenshot.png"
    assert browser.save_screenshot(str(shot)), "screenshot failed"
    print(f"browser: screenshot saved at {shot} ({len(imgs)} inline images on the page)")
