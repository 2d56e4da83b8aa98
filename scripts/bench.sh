#!/usr/bin/env bash
# The benchmarks, each printing its figure beside a baseline from the same
# run, with a throwaway PostgreSQL for those that need one (with-pg.sh);
# PostGraphile 5, the read benchmark's peer, where Node.js is new enough
# for it (22); then the report of them (bench/report):
# bench/results/report.md, a table of every figure, and report.png, a plot
# of each against its baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
node_major=$(node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0)
if [ "${node_major:-0}" -ge 22 ]; then
	npm ci --prefix bench/postgraphile --no-audit --no-fund
fi
scripts/with-pg.sh go test -run '^$' -bench "${BENCH:-.}" -benchtime 1x -timeout 60m "$@" ./... | tee bench/results/bench.txt
go run ./bench/report -in bench/results/bench.txt -out bench/results
echo "The report: bench/results/report.md and bench/results/report.png"
