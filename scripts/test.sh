#!/usr/bin/env bash
# The whole test suite, on SQLite and on a throwaway PostgreSQL (see
# with-pg.sh; set SWITCHBOARD_TEST_POSTGRES to use a server of your own).
set -euo pipefail
cd "$(dirname "$0")/.."

# The query explorer is tested in a real browser.
if ! command -v chromium >/dev/null 2>&1 && [ -z "${SWITCHBOARD_CHROMIUM:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing Debian's chromium for the explorer's browser test" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    echo "test.sh: the explorer's browser test needs Chromium: sudo apt-get install -y chromium (or set SWITCHBOARD_CHROMIUM)" >&2
    exit 1
  fi
fi
export SWITCHBOARD_REQUIRE_BROWSER=1

# The real graphql-ws client (npm) speaks to the server in the WebSocket tests.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  else
    echo "test.sh: the WebSocket tests need Node.js and npm: sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
fi
export SWITCHBOARD_REQUIRE_NODE=1

go vet ./...
scripts/with-pg.sh go test -count=1 -timeout 30m "$@" ./...
