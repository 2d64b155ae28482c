#!/usr/bin/env bash
# A private, throwaway PostgreSQL server for the usage-store tests, on 127.0.0.1 only.
#   usage_postgres.sh start DIR PORT   → initdb into DIR, start, create database `usage`; prints the URL
#   usage_postgres.sh stop DIR         → stop it (fast) and remove DIR
#   usage_postgres.sh pause DIR        → stop it (immediate, like a crash), keeping its data
#   usage_postgres.sh resume DIR       → start it again on the same port and data
# Runs the server as the `postgres` user when started as root (CI), as the caller otherwise.
set -euo pipefail
cmd="${1:?start|stop}"
dir="${2:?directory}"
bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$bindir/initdb" ] || { echo "usage_postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    port="${3:?port}"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -A trust -U sluice --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -h 127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U sluice usage
    echo "$port" >"$dir/port"
    echo "postgresql://sluice@127.0.0.1:$port/usage"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  pause)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
    ;;
  resume)
    port="$(cat "$dir/port")"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -p $port -h 127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  *) echo "usage: $0 start DIR PORT | stop DIR | pause DIR | resume DIR" >&2; exit 2 ;;
esac
