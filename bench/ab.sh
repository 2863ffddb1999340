#!/usr/bin/env bash
# Alternated comparison of two keel binaries on the issue-2 command (1,000,000 bars, all outputs written): each round
# runs A then B in four ways, then prints the median and range of each, and checks that both wrote the same files.
#   bench/ab.sh KEEL_A KEEL_B [ROUNDS]      e.g. bench/ab.sh /tmp/before/keel artifacts/keel/native/keel 7
# The four ways: --db none into a folder holding the previous run's files; --db none into a new folder; recorded into
# a fresh SQLite file; recorded into the same file again. The data file is made by bench/run.sh (seed 42) if missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 2 ]] || { echo "usage: bench/ab.sh KEEL_A KEEL_B [ROUNDS]" >&2; exit 2; }
a="$1"; b="$2"; rounds="${3:-7}"
data="$root/bench/out/bars-1000000.csv"
[[ -s "$data" ]] || "$root/bench/run.sh" --runs 1 --db none > /dev/null
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
args=(backtest --data "$data" --strategy sma-cross --param fast=10 --param slow=30 --stake 1 --commission 0.001 --cash 100000 -q)
run() { { /usr/bin/time -f "%e %M" "$1" "${args[@]}" --out "$2" --db "$3" > /dev/null; } 2>&1 | tail -1; }
for ((r = 1; r <= rounds; r++)); do
  for x in A B; do
    bin="$a"; [[ $x == B ]] && bin="$b"
    echo "$x reuse-none $(run "$bin" "$scratch/out-$x" none)"
    rm -rf "$scratch/new-$x"; echo "$x new-none $(run "$bin" "$scratch/new-$x" none)"
    rm -f "$scratch/db-$x".db*; echo "$x recorded-fresh $(run "$bin" "$scratch/rec-$x" "$scratch/db-$x.db")"
    echo "$x recorded-again $(run "$bin" "$scratch/rec-$x" "$scratch/db-$x.db")"
  done
done | tee "$scratch/times" >&2
python3 - "$scratch/times" <<'PY'
import collections, statistics, sys
t = collections.defaultdict(list); m = collections.defaultdict(list)
for line in open(sys.argv[1]):
    x, mode, sec, rss = line.split()
    t[mode, x].append(float(sec)); m[mode, x].append(int(rss))
for mode in ["reuse-none", "new-none", "recorded-fresh", "recorded-again"]:
    cell = lambda x: f"{statistics.median(t[mode, x]):.3f} s ({min(t[mode, x]):.2f}-{max(t[mode, x]):.2f}), {max(m[mode, x]) // 1024} MB"
    print(f"{mode:15s} A {cell('A')}   B {cell('B')}")
PY
for f in metrics.json orders.csv fills.csv trades.csv equity.csv report.html; do
  cmp -s "$scratch/out-A/$f" "$scratch/out-B/$f" || echo "outputs differ: $f"
done
