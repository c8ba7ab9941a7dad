# A private PostgreSQL server for the tests that need one (source after
# tests/lib.sh).  pg_start initialises a cluster in a temporary directory,
# as the unprivileged user nobody when we are root (postgres refuses root),
# listening on a Unix socket only (no TCP port to collide with), with
# password authentication (scram-sha-256): clients get the password from
# the PGPASSFILE it writes, as an administrator's ~/.pgpass would give it.
# Sets PG_URL (a libpq URI without a password), PG_SOCK, PGPASSFILE; pg_stop
# (also at exit) stops the server and removes the directory.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DIR=

pg_available() { [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; }

pg_as() {
  if [ "$(id -u)" = 0 ]; then (cd "${PG_DIR:-/}" && runuser -u nobody -- "$@"); else "$@"; fi
}

pg_start() {
  PG_DIR=$(mktemp -d /tmp/ptc-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  PG_SOCK=$PG_DIR/sock
  mkdir -p "$PG_SOCK"
  local pw=ptc-pg-$RANDOM$RANDOM
  printf '%s\n' "$pw" >"$PG_DIR/pw"
  [ "$(id -u)" = 0 ] && chown -R nobody "$PG_DIR"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U ptc --auth=scram-sha-256 --pwfile="$PG_DIR/pw" \
    -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-k $PG_SOCK -c listen_addresses='' -c fsync=off -c max_connections=60" start >/dev/null ||
    { cat "$PG_DIR/server.log" >&2; return 1; }
  PGPASSFILE=$T_WORK/pgpass
  printf '%s:5432:*:ptc:%s\n' "$PG_SOCK" "$pw" >"$PGPASSFILE"
  chmod 600 "$PGPASSFILE"
  export PGPASSFILE
  PG_URL="postgresql://ptc@/ptc?host=$PG_SOCK"
  psql_q postgres -c 'CREATE DATABASE ptc' >/dev/null
}

# psql_q [DB] ARGS...: psql against the private server, no ~/.psqlrc.
psql_q() {
  local db=ptc
  case ${1:-} in -*) ;; *) db=$1; shift ;; esac
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -U ptc -d "$db" "$@"
}

# pg_table: the phoneprov table as tests/fixtures/run/common.sh's `table` prints SQLite's.
pg_table() {
  psql_q -A -F $'\t' -P footer=off -c "SELECT ${1:-*} FROM phoneprov ORDER BY id"
}

# pg_down / pg_up: stop the server (fast, as a crash would look to clients)
# and start it again on the same socket and data.
pg_down() { pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1; }
pg_up() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
    -o "-k $PG_SOCK -c listen_addresses='' -c fsync=off -c max_connections=60" start >/dev/null
}

pg_stop() {
  [ -n "$PG_DIR" ] || return 0
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$PG_DIR"
  PG_DIR=
}
