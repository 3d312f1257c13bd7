#!/usr/bin/env bash
# Rebuilds the notebooks from notebooks/src and executes them in the full setting with
# `goinv run`, writing the outputs into the committed .ipynb files:
#
#   bash notebooks/regenerate.sh            all six
#   bash notebooks/regenerate.sh 02 05      only those (by number prefix)
#   GOINV_QUICK=1 bash notebooks/regenerate.sh 00   the quick setting instead
#
# Each notebook runs with notebooks/ as its working directory, so results land in
# notebooks/results/. Prints each notebook's wall time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

mkdir -p bin
go build -o bin/goinv ./kernel/cmd/goinv
/usr/bin/python3 notebooks/build.py

sel=("$@")
cd notebooks
mkdir -p results
for nb in [0-9][0-9]-*.ipynb; do
	if ((${#sel[@]})); then
		keep=0
		for s in "${sel[@]}"; do [[ $nb == "$s"* ]] && keep=1; done
		((keep)) || continue
	fi
	echo "regenerate: $nb (GOINV_QUICK=${GOINV_QUICK:-0})"
	t0=$SECONDS
	# The tour's panic and crash on purpose are tagged raises-exception: any other error stops here.
	"$root/bin/goinv" run "$nb" --out "$nb"
	/usr/bin/python3 "$root/notebooks/test/check_outputs.py" "$nb"
	echo "regenerate: $nb done in $((SECONDS - t0)) s"
done
