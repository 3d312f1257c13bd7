#!/usr/bin/env bash
# The notebooks' CI tests (called by install/test.sh):
#
#   bash notebooks/test/run.sh [pytest args...]
#
# Builds goinv, installs its kernelspec into a temporary prefix (nothing is written to
# the user's Jupyter directories), then runs with Debian's pytest:
#   test_notebooks.py  every notebook executed by `jupyter nbconvert --execute` with the
#                      goinv kernel and GOINV_QUICK=1: no error outputs except in cells
#                      tagged raises-exception, an image/png from every "figure" cell;
#   test_run_html.py   `goinv run` on 00-tour writes a notebook and HTML with an inline image;
#   test_browser.py    the classic Jupyter Notebook served on 127.0.0.1, headless Chromium
#                      runs 00-tour through the page; the rendered plot is checked and a
#                      screenshot is saved (its path is printed).
# Exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/goinv-nbtest.XXXXXX")
echo "notebooks/test: temp folder $tmp"

mkdir -p bin
go build -o bin/goinv ./kernel/cmd/goinv
go run ./install --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }
export JUPYTER_PATH="$tmp/prefix/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
/usr/bin/jupyter kernelspec list >"$tmp/kernelspecs.txt"
grep -q '^ *goinv ' "$tmp/kernelspecs.txt" || { echo "goinv kernelspec not found under $JUPYTER_PATH"; cat "$tmp/kernelspecs.txt"; exit 1; }

export GOINV_QUICK=1
export GOINV_BIN="$root/bin/goinv"
export GOINV_TEST_TMP="$tmp"
# Headless: keep Jupyter's runtime and config files inside the temp folder.
export JUPYTER_RUNTIME_DIR="$tmp/runtime" JUPYTER_CONFIG_DIR="$tmp/config" IPYTHONDIR="$tmp/ipython"
export PYTHONDONTWRITEBYTECODE=1

exec /usr/bin/python3 -m pytest -p no:cacheprovider -rA --tb=short "$root/notebooks/test" "$@"
