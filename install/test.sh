#!/usr/bin/env bash
# Runs goinv's whole test suite, as CI does:
#
#   bash install/test.sh
#
# Installs what the tests need (Debian packages, Go modules), then: formatting, vet,
# generated code up to date, Go unit tests, fuzzing of the wire decoder, the kernel's
# end-to-end tests through real Jupyter clients (jupyter_client, jupyter_kernel_test,
# nbconvert, jupyter console), every notebook executed in the quick setting, and the
# browser test. Stops at the first failing step and says which.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

step() {
	local name=$1
	shift
	printf '\n==> %s\n' "$name"
	local t0=$SECONDS
	if ! "$@"; then
		printf '\n==> FAILED: %s (after %ss)\n' "$name" $((SECONDS - t0)) >&2
		exit 1
	fi
	printf '==> ok: %s (%ss)\n' "$name" $((SECONDS - t0))
}

gofmt_clean() {
	local out
	out=$(gofmt -l kernel stdlib install)
	[[ -z "$out" ]] || { echo "gofmt would change:"; echo "$out"; return 1; }
}

generated_up_to_date() {
	go generate ./...
	local dirty
	dirty=$(git status --porcelain -- kernel stdlib install)
	[[ -z "$dirty" ]] || { echo "go generate changed files; run it and commit:"; echo "$dirty"; return 1; }
}

step "Debian packages" bash install/deps.sh --test
step "Go modules" go mod download
step "gofmt" gofmt_clean
step "go vet" go vet ./...
step "go generate is up to date" generated_up_to_date
step "Go unit tests" go test -count=1 -timeout 20m ./...
# Short fuzzing runs of what reads bytes from the network: the message decoder
# (frames, signature, header) and the JSON scanner under it. The budgets are
# counts of inputs, not durations: with a duration, Go 1.26's fuzz coordinator
# can report "context deadline exceeded" as a failure when the time runs out
# mid-input (go.dev/issue/75804, fixed in Go 1.27). 300,000 inputs take about
# 20 s and 10 s here.
step "fuzz the message decoder" go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 300000x ./kernel/
step "fuzz the JSON scanner" go test -run '^$' -fuzz '^FuzzValid$' -fuzztime 300000x ./kernel/internal/jsonscan/
for t in kernel/e2e/run.sh notebooks/test/run.sh; do
	if [[ -f "$t" ]]; then
		step "$t" bash "$t"
	fi
done
echo
echo "install/test.sh: all steps passed"
