#!/usr/bin/env bash
# The main job, from a fresh clone:
#
#   bash install/quickstart.sh
#
# Installs the Debian package goinv links against (OpenBLAS), builds goinv, registers
# it as a Jupyter kernel when Jupyter is installed, and executes the flagship notebook
# (02-invariance-vs-class-size) headless with `goinv run`, leaving the executed
# notebook and an HTML page with its plots inline. Set GOINV_QUICK=1 for a small run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

bash install/deps.sh
echo "quickstart: building goinv"
mkdir -p bin
go build -o bin/goinv ./kernel/cmd/goinv

if command -v jupyter >/dev/null 2>&1; then
	echo "quickstart: Jupyter found: registering the kernel \"Go (goinv)\" for this user"
	go run ./install --user
fi

nb=notebooks/02-invariance-vs-class-size.ipynb
out=notebooks/results
mkdir -p "$out"
echo "quickstart: executing $nb (GOINV_QUICK=${GOINV_QUICK:-0}; the full setting takes 3½–7 minutes on a 2-core machine)"
t0=$SECONDS
bin/goinv run "$nb" --out "$out/02-invariance-vs-class-size.executed.ipynb" --html "$out/02-invariance-vs-class-size.html"
cat <<EOM

quickstart: done in $((SECONDS - t0)) s.
  executed notebook: $root/$out/02-invariance-vs-class-size.executed.ipynb
  HTML with plots:   $root/$out/02-invariance-vs-class-size.html
  per-class table:   $root/$out/invariance.csv
Open the notebooks in Jupyter with:  jupyter notebook notebooks/   (kernel "Go (goinv)")
EOM
