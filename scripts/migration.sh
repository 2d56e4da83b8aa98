#!/usr/bin/env bash
# Writes a versioned migration for SQLite and PostgreSQL from the change in
# ent/schema, diffed by atlas on scratch databases (a fresh throwaway
# PostgreSQL from with-pg.sh, whatever SWITCHBOARD_TEST_POSTGRES says).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: migration.sh NAME}
SWITCHBOARD_TEST_POSTGRES='' scripts/with-pg.sh \
  sh -c 'go run ./store/migdiff -name "$1" -postgres "$SWITCHBOARD_TEST_POSTGRES"' migration "$name"
