#!/usr/bin/env bash
# Runs every check Keel has: build with warnings as errors, formatting, the ./keel launcher build, and all tests.
# Ends with exactly one summary line:  tests: N passed, N failed, N skipped
# Exit status is non-zero if anything failed.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
results="$root/artifacts/test-results"
passed=0; failed=0; skipped=0; problems=0

pgdir=""
finish() {
  if [[ -n "$pgdir" ]]; then "$root/scripts/pg.sh" stop "$pgdir" || true; fi
  echo "tests: $passed passed, $failed failed, $skipped skipped"
}
trap finish EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "test.sh: $*" >&2; problems=$((problems + 1)); }

command -v dotnet >/dev/null 2>&1 || { fail "the .NET 10 SDK is not installed (https://dot.net)"; exit 1; }

step "restore"
dotnet restore Keel.slnx --nologo -v quiet || { fail "restore failed"; exit 1; }

step "build (warnings are errors)"
dotnet build Keel.slnx -c Release --no-restore --nologo -v quiet -p:TreatWarningsAsErrors=true || { fail "build failed"; exit 1; }

step "format"
dotnet format Keel.slnx --verify-no-changes --no-restore || fail "code is not formatted: run 'dotnet format Keel.slnx'"

step "launcher (./keel builds the CLI on first use)"
./keel --version || fail "./keel did not start"

step "postgresql (a throw-away server for the storage tests, stopped at the end)"
if [[ -n "${KEEL_TEST_POSTGRES:-}" ]]; then
  echo "using KEEL_TEST_POSTGRES from the environment"
else
  pgdir="${TMPDIR:-/tmp}/keel-pg-$$"
  if KEEL_TEST_POSTGRES=$("$root/scripts/pg.sh" start "$pgdir"); then
    export KEEL_TEST_POSTGRES
    echo "started on ${KEEL_TEST_POSTGRES%%;Username*}"
  else
    fail "could not start PostgreSQL; the PostgreSQL tests will fail"
  fi
fi

step "indicator oracle (technicalindicators and trading-signals, pinned in tools/indicator-oracle/package-lock.json)"
# Node.js and npm come from Debian's packages when missing (as PostgreSQL does), if this user can install them.
if ! command -v npm >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's nodejs and npm packages"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends nodejs npm || { apt-get update && apt-get install -y --no-install-recommends nodejs npm; }; } >/dev/null || true
fi
# Installs a Node tool folder from its lockfile. npm ls fails when a package is missing or not the version
# package.json pins, so a stale install is replaced.
npm_tool() { # DIR WHO-NEEDS-IT
  if command -v npm >/dev/null 2>&1 && npm ls --prefix "$1" --depth=0 >/dev/null 2>&1; then
    npm ls --prefix "$1" --depth=0 | tail -n +2
  elif ! command -v npm >/dev/null 2>&1; then
    fail "npm is not installed and could not be installed: $2 need Node.js 20 or later with npm (Debian: sudo apt-get install nodejs npm)"
  elif ! npm ci --prefix "$1" --no-audit --no-fund; then
    fail "npm ci --prefix $1 failed; $2 will fail"
  fi
}
npm_tool tools/indicator-oracle "the indicator oracle tests"

step "official Alpaca client (@alpacahq/alpaca-trade-api, pinned in tools/alpaca-client/package-lock.json)"
npm_tool tools/alpaca-client "the official Alpaca client tests"

step "official OANDA client (@oanda/v20, pinned in tools/oanda-client/package-lock.json)"
npm_tool tools/oanda-client "the official OANDA client tests"

step "report assets (lightweight-charts, pinned in tools/report-assets/package-lock.json; the report inlines its copy)"
npm_tool tools/report-assets "the check that the report's inlined chart library is npm's"

step "chromium (Debian's, for the browser tests)"
if ! command -v chromium >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium package"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; } >/dev/null || true
fi
if command -v chromium >/dev/null 2>&1; then
  chromium --version 2>/dev/null || true
else
  fail "chromium is not installed and could not be installed: the browser tests need it (Debian: sudo apt-get install chromium)"
fi

step "tests"
rm -rf "$results"
dotnet test tests/Keel.Tests/Keel.Tests.csproj -c Release --no-build --nologo \
  --logger "trx;LogFileName=keel-tests.trx" --logger "console;verbosity=minimal" --results-directory "$results"
test_status=$?

trx=$(find "$results" -name '*.trx' 2>/dev/null | head -1)
if [[ -n "$trx" ]]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); passed=$(get passed); failed=$(( $(get failed) + $(get error) + $(get timeout) + $(get aborted) ))
  skipped=$(( total - executed ))
else
  fail "no test results were written"
fi

if [[ $test_status -ne 0 && $failed -eq 0 ]]; then
  fail "the test run failed before reporting results"
  failed=1
fi

if [[ $problems -gt 0 || $failed -gt 0 || $test_status -ne 0 ]]; then
  exit 1
fi
exit 0
