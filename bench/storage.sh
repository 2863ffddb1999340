#!/usr/bin/env bash
# Storage benchmarks (issue #3), on the 1,000,000-bar file from ../shared/bench/make_bars.py (seed 42):
#   1. candle import into SQLite and into PostgreSQL (binary COPY): 'keel data import', rows/s, median of N;
#   2. event journal append: 1,000,000 events through the journal recorder, batched commits, median of 5;
#   3. the README backtest with the journal off (--db none), on SQLite and on PostgreSQL: median of N, and the ratios.
# PostgreSQL: KEEL_BENCH_POSTGRES (a connection string), else a throw-away server from scripts/pg.sh.
#   bench/storage.sh [--runs N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
data="$root/bench/out/bars-1000000.csv"
if [[ ! -s "$data" ]]; then
  mkdir -p "$root/bench/out"
  python3 "$root/../shared/bench/make_bars.py" 1000000 "$data" --seed 42
fi
"$root/keel" --help > /dev/null
scratch=$(mktemp -d)
pgdir=""
cleanup() { rm -rf "$scratch"; [[ -n "$pgdir" ]] && "$root/scripts/pg.sh" stop "$pgdir"; }
trap cleanup EXIT
pg="${KEEL_BENCH_POSTGRES:-}"
if [[ -z "$pg" ]]; then
  pgdir="${TMPDIR:-/tmp}/keel-pg-bench-$$"
  pg=$("$root/scripts/pg.sh" start "$pgdir")
fi
libpq() { echo "$1" | tr ';' '\n' | sed -e 's/^Host=/host=/I' -e 's/^Port=/port=/I' -e 's/^Username=/user=/I' -e 's/^Password=/password=/I' -e 's/^Database=/dbname=/I' | tr '\n' ' '; }
schema() { psql "$(libpq "$pg")" -q -c "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1" >/dev/null; echo "$pg;Search Path=$1"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== candle import (1,000,000 rows)"
for backend in sqlite postgres; do
  rates=()
  for ((i = 1; i <= runs; i++)); do
    if [[ $backend == sqlite ]]; then target="$scratch/import-$i.db"; else target=$(schema "bench_import_$i"); fi
    line=$("$root/keel" data import --symbol BENCH --timeframe 1m "$data" --db "$target" -q | head -1)
    rate=$(echo "$line" | sed -n 's/.*(\([0-9,]*\) rows\/s).*/\1/p' | tr -d ,)
    echo "$backend run $i: $line"
    rates+=("$rate")
  done
  echo "import backend=$backend median=$(printf '%s\n' "${rates[@]}" | median) rows/s"
done

echo; echo "== journal append (1,000,000 events, batches of 8192)"
dotnet run -c Release --project "$root/bench/Keel.Benchmarks" -- journal --db "$scratch/journal.db" --runs 5 | tail -1
dotnet run -c Release --project "$root/bench/Keel.Benchmarks" -- journal --db "$(schema bench_journal)" --runs 5 | tail -1

echo; echo "== backtest with the journal off and on"
off=$("$root/bench/run.sh" --runs "$runs" --db none | tail -1); echo "$off"
lite=$("$root/bench/run.sh" --runs "$runs" --db sqlite | tail -1); echo "$lite"
post=$("$root/bench/run.sh" --runs "$runs" --db "$(schema bench_backtest)" | tail -1); echo "$post"
m() { echo "$1" | sed -n 's/.*median=\([0-9.]*\)s.*/\1/p'; }
awk -v off="$(m "$off")" -v lite="$(m "$lite")" -v post="$(m "$post")" \
  'BEGIN { printf "journal on/off: sqlite %.2fx, postgres %.2fx\n", lite / off, post / off }'
