#!/usr/bin/env bash
# Writes a versioned migration for SQLite and PostgreSQL from the change in
# ent/schema, diffed by atlas on scratch databases (a throwaway PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: migration.sh NAME}
pgdir=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-pg.XXXXXX")
trap 'scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
export SWITCHBOARD_TEST_PG_PORT=${SWITCHBOARD_TEST_PG_PORT:-55433}
url=$(scripts/pg.sh start "$pgdir")
go run ./store/migdiff -name "$name" -postgres "$url"
