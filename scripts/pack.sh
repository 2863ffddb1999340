#!/usr/bin/env bash
# Builds Keel's NuGet packages into a local feed, for strategy projects outside Keel's tree (templates/keel-strategy):
#   scripts/pack.sh [FEED_DIR]      (default: artifacts/packages)
# Then: dotnet new install templates/keel-strategy && dotnet new keel-strategy -n MyBot --feed "$PWD/artifacts/packages"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
feed="${1:-$root/artifacts/packages}"
mkdir -p "$feed"
dotnet pack "$root/Keel.slnx" -c Release -o "$feed" --nologo -v quiet ${KEEL_PACK_NO_BUILD:+--no-build}
echo "packages in $feed:" >&2
ls "$feed"/*.nupkg >&2
