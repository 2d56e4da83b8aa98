#!/usr/bin/env bash
# The benchmarks, each printing its figure beside a baseline from the same
# run, with a throwaway PostgreSQL for those that need one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SWITCHBOARD_TEST_POSTGRES:-}" ]; then
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-pg.XXXXXX")
  trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  SWITCHBOARD_TEST_POSTGRES=$(scripts/pg.sh start "$pgdir")
  export SWITCHBOARD_TEST_POSTGRES
fi
export SWITCHBOARD_REQUIRE_POSTGRES=1
go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -timeout 60m "$@" ./...
