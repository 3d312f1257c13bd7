#!/usr/bin/env bash
# Installs the Debian packages goinv needs, only those that are missing.
#
#   bash install/deps.sh            build and run: OpenBLAS (fast training)
#   bash install/deps.sh --test     also the Jupyter client stack, PyTorch (benchmarks),
#                                   pytest and Chromium (browser test)
#
# Runs apt-get as root, or through sudo when not root. Safe to run again.
set -euo pipefail

pkgs=(libopenblas-dev gcc)
if [[ "${1:-}" == "--test" ]]; then
	pkgs+=(jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-console jupyter-client
		python3-jupyter-client python3-nbformat python3-jsonschema python3-jupyter-kernel-test
		python3-ipykernel python3-pytest python3-numpy python3-torch python3-selenium
		chromium chromium-driver)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	echo "deps: all ${#pkgs[@]} Debian packages present"
	exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q "${missing[@]}"
