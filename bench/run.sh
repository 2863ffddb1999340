#!/usr/bin/env bash
# Whole-process benchmark: generates the 1,000,000-bar file with ../shared/bench/make_bars.py (seed 42) and times
# the README backtest command on it. Prints each run, then the median wall time and the peak RSS (KB).
#   bench/run.sh [--bars N] [--runs N] [--keel PATH] [--no-out] [--db sqlite|none|CONNECTION]
# --db: where the run is recorded. 'sqlite' (the default, as for users) = a fresh SQLite file per run;
# 'none' = not recorded (journal off); anything else is passed to --db as it is (e.g. a PostgreSQL connection string).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bars=1000000; runs=5; keel="$root/keel"; out=1; db=sqlite
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bars) bars="$2"; shift 2;;
    --runs) runs="$2"; shift 2;;
    --keel) keel="$2"; shift 2;;
    --no-out) out=0; shift;;
    --db) db="$2"; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
data_dir="$root/bench/out"; mkdir -p "$data_dir"
data="$data_dir/bars-$bars.csv"
gen="$root/../shared/bench/make_bars.py"
if [[ ! -s "$data" ]]; then
  [[ -f "$gen" ]] || { echo "bench: $gen not found (../shared must sit beside the project)" >&2; exit 1; }
  echo "generating $bars bars (seed 42) -> $data" >&2
  python3 "$gen" "$bars" "$data" --seed 42
fi
"$keel" --help > /dev/null   # builds on first use, outside the timed runs
args=(backtest --data "$data" --strategy sma-cross --param fast=10 --param slow=30 --stake 1 --commission 0.001 --cash 100000 -q)
[[ $out == 1 ]] && args+=(--out "$data_dir/result")
times=(); rss=()
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
for ((i = 1; i <= runs; i++)); do
  case "$db" in
    sqlite) dbarg=(--db "$scratch/run-$i.db");;
    *) dbarg=(--db "$db");;
  esac
  line=$( { /usr/bin/time -f "%e %M" "$keel" "${args[@]}" "${dbarg[@]}" > /dev/null; } 2>&1 | tail -1 )
  t=${line% *}; m=${line#* }
  times+=("$t"); rss+=("$m")
  echo "run $i: ${t} s, peak RSS ${m} KB"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
maxrss=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
label=$db; [[ "$db" != sqlite && "$db" != none ]] && label=postgres
echo "bars=$bars runs=$runs db=$label median=${median}s peak_rss=${maxrss}KB"
