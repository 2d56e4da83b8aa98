#!/usr/bin/env bash
# The benchmarks, each printing its figure beside a baseline from the same
# run, with a throwaway PostgreSQL for those that need one (with-pg.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/with-pg.sh go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -timeout 60m "$@" ./...
