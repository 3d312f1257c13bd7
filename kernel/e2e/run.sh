#!/usr/bin/env bash
# End-to-end tests of the goinv kernel through real Jupyter clients: builds goinv,
# installs it into a temporary prefix, then runs jupyter_client tests, the official
# jupyter_kernel_test suite, jupyter console with piped input and nbconvert --execute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./install --prefix "$tmp/prefix"
export JUPYTER_PATH="$tmp/prefix/share/jupyter"
export JUPYTER_DATA_DIR="$tmp/data" JUPYTER_RUNTIME_DIR="$tmp/runtime" JUPYTER_CONFIG_DIR="$tmp/config"
export GOINV_HISTORY="$tmp/history.jsonl" GOINV_SPEC="$tmp/prefix/share/jupyter/kernels/goinv"
export GOINV_INTERRUPT_GRACE=5s PYDEVD_DISABLE_FILE_VALIDATION=1
fail=0
cd "$root/kernel/e2e"
/usr/bin/python3 -m pytest -q -p no:cacheprovider -s test_kernel.py test_conformance.py 2>&1 | tail -40 || fail=1
[[ ${PIPESTATUS[0]} -eq 0 ]] || fail=1

echo "==> jupyter console with piped input"
# Output goes to a file, not through $(...): if the console times out, the kernel it
# started could keep a command substitution's pipe open and hang this script.
printf 'x := 21\nfmt.Println("console says", x*2)\nexit\n' | timeout -k 10 120 /usr/bin/jupyter console --kernel goinv --simple-prompt >"$tmp/console.out" 2>&1 || true
pkill -f -- "$tmp/runtime" || true # a kernel the console left behind (its connection file is in our runtime dir)
out=$(cat "$tmp/console.out")
if grep -q "console says 42" <<<"$out"; then echo "console: ok"; else echo "console: FAILED"; echo "$out" | tail -20; fail=1; fi

echo "==> jupyter nbconvert --execute"
cp "$root/kernel/e2e/smoke.ipynb" "$tmp/smoke.ipynb"
if timeout 300 /usr/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=goinv --output "$tmp/out.ipynb" "$tmp/smoke.ipynb" >/dev/null 2>&1 \
	&& /usr/bin/python3 -c '
import json, sys
cells = json.load(open(sys.argv[1]))["cells"]
outs = cells[1]["outputs"]
text = "".join("".join(o.get("text", "")) for o in outs if o["output_type"] == "stream")
res = [o for o in outs if o["output_type"] == "execute_result"]
assert "sum is 55" in text and res and "".join(res[0]["data"]["text/plain"]) == "55", outs
' "$tmp/out.ipynb"; then
	echo "nbconvert: ok"
else
	echo "nbconvert: FAILED"; fail=1
fi
exit $fail
