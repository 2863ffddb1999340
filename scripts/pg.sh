#!/usr/bin/env bash
# A throw-away PostgreSQL server for tests and benchmarks, on 127.0.0.1 only.
#   scripts/pg.sh start DIR   initialise and start a cluster in DIR (installing Debian's postgresql when missing);
#                             prints its connection string on stdout (everything else goes to stderr)
#   scripts/pg.sh stop DIR    stop it and delete DIR
# The cluster runs with fsync=off: it is for tests, never for data you want to keep.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

pgbin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$v" && -x /usr/lib/postgresql/$v/bin/initdb ]] && echo "/usr/lib/postgresql/$v/bin"
}

case "$cmd" in
start)
  if [[ -z "$(pgbin)" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "pg.sh: PostgreSQL is not installed and this user cannot install it: run 'sudo apt-get install postgresql' or set KEEL_TEST_POSTGRES" >&2
      exit 1
    fi
    echo "pg.sh: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y --no-install-recommends postgresql || { apt-get update && apt-get install -y --no-install-recommends postgresql; }; } >&2
  fi
  bin=$(pgbin)
  rm -rf "$dir"
  mkdir -p "$dir/data" "$dir/run"
  if [[ $(id -u) -eq 0 ]] && ! su postgres -s /bin/sh -c "test -x '$(dirname "$dir")'"; then
    echo "pg.sh: the postgres user cannot enter $(dirname "$dir"); put DIR somewhere world-readable such as /tmp" >&2
    rm -rf "$dir"; exit 1
  fi
  chmod 700 "$dir/data"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres:postgres "$dir"; chmod 755 "$dir"; fi
  echo keel > "$dir/run/pw"
  [[ $(id -u) -eq 0 ]] && chown postgres "$dir/run/pw"
  chmod 600 "$dir/run/pw"
  as_pg "$bin/initdb -D $dir/data -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=$dir/run/pw -E UTF8 --locale=C.UTF-8" >/dev/null
  # A free port: start at 55432 and move up past anything already listening.
  port=55432
  while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  as_pg "$bin/pg_ctl -D $dir/data -l $dir/run/postgres.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start" >&2 \
    || { cat "$dir/run/postgres.log" >&2; exit 1; }
  # A fresh random password per server (and unlike every other word in the connection string, so a test can tell
  # whether it leaked into output).
  pw="pw$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  as_pg "$bin/psql -h $dir/run -p $port -U postgres -v ON_ERROR_STOP=1 -q -c \"CREATE ROLE keel LOGIN SUPERUSER PASSWORD '$pw'\" -c 'CREATE DATABASE keel OWNER keel'" >&2
  echo "$port" > "$dir/port"
  echo "Host=127.0.0.1;Port=$port;Username=keel;Password=$pw;Database=keel"
  ;;
stop)
  bin=$(pgbin || true)
  if [[ -n "$bin" && -d "$dir/data" ]]; then
    as_pg "$bin/pg_ctl -D $dir/data -m immediate -w -t 30 stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
