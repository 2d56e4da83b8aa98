#!/usr/bin/env bash
# Every Go fuzz target in the module, each fuzzed for FUZZTIME (default
# 30s) in its own package, one after another; fails when any fails and
# says which. Extra arguments go to each `go test` (e.g. -parallel 1).
# A failing input is written under the package's testdata/fuzz/, where it
# then runs as an ordinary test case too.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-30s}"

# One "dir name" line per target, from the test files git knows about.
targets=$(git grep -o -e '^func Fuzz[A-Za-z0-9_]*' -- '*_test.go' |
  sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$#\1 \2#; s#^[^/ ]*_test\.go:func (Fuzz[A-Za-z0-9_]*)$#. \1#' |
  sort -u)
if [ -z "$targets" ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi

passed=() failed=()
while read -r dir name; do
  echo "=== fuzz $name in ./$dir for $fuzztime"
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$@" "./$dir"; then
    passed+=("./$dir $name")
  else
    failed+=("./$dir $name")
  fi
done <<<"$targets"

echo
echo "fuzz.sh: ${#passed[@]} passed, ${#failed[@]} failed, each fuzzed for $fuzztime"
for t in "${passed[@]}"; do echo "ok   $t"; done
for t in "${failed[@]}"; do echo "FAIL $t"; done
[ "${#failed[@]}" -eq 0 ]
