#!/usr/bin/env bash
# The README's first command: install what is missing, build, and start Hangar with demo data
# on the embedded defaults at http://localhost:${PORT:-3000}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
rm -rf .next/dev   # stale dev-server route types break the build's type check
npx next build
exec npx tsx scripts/start.ts
