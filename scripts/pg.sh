#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and migration diffs.
#   scripts/pg.sh start DIR   installs Debian's postgresql when absent, starts a
#                             server with its data in DIR, prints its URL
#   scripts/pg.sh stop DIR    stops it
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
port=${SWITCHBOARD_TEST_PG_PORT:-55432}

# port_busy reports whether something listens on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

find_pgbin() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

# run_as_pg runs a command as the postgres user when we are root (initdb
# refuses to run as root), and as ourselves otherwise.
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if ! pgbin=$(find_pgbin); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "pg.sh: installing Debian's postgresql" >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      pgbin=$(find_pgbin)
    else
      echo "pg.sh: PostgreSQL is not installed and cannot be installed here." >&2
      echo "pg.sh: install it (Debian: sudo apt-get install -y postgresql) or set SWITCHBOARD_TEST_POSTGRES to a database URL." >&2
      exit 1
    fi
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  # Another server (a developer's, an earlier run's) may hold the port.
  for _ in $(seq 1 50); do port_busy "$port" || break; port=$((port + 1)); done
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    run_as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  # A port can be held for a moment without a listener (a connection's
  # source port, one closing): binding it then fails, so try a few times.
  for attempt in 1 2 3 4 5; do
    if run_as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >&2; then
      break
    fi
    if [ "$attempt" = 5 ] || ! grep -q "could not bind" "$dir/log"; then
      cat "$dir/log" >&2; exit 1
    fi
    sleep 1
  done
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  if pgbin=$(find_pgbin) && [ -f "$dir/data/postmaster.pid" ]; then
    run_as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  ;;
*)
  echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
