#!/usr/bin/env bash
# Runs a command with SWITCHBOARD_TEST_POSTGRES pointing at a throwaway
# PostgreSQL that this script starts (installing Debian's postgresql when
# absent) and stops afterwards; an already set SWITCHBOARD_TEST_POSTGRES is
# used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SWITCHBOARD_TEST_POSTGRES:-}" ]; then
  pgdir=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-pg.XXXXXX")
  trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
  SWITCHBOARD_TEST_POSTGRES=$(scripts/pg.sh start "$pgdir")
  export SWITCHBOARD_TEST_POSTGRES
fi
export SWITCHBOARD_REQUIRE_POSTGRES=1
"$@"
