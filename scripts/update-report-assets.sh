#!/usr/bin/env bash
# Refreshes the charting library the HTML report inlines (src/Keel.Runtime/Reporting/Assets) from the npm package
# pinned in tools/report-assets. Change the version there (package.json), run this, commit both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm install --prefix "$root/tools/report-assets" --no-audit --no-fund
cp "$root/tools/report-assets/node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js" \
   "$root/src/Keel.Runtime/Reporting/Assets/lightweight-charts.standalone.production.js"
echo "updated src/Keel.Runtime/Reporting/Assets/lightweight-charts.standalone.production.js"
