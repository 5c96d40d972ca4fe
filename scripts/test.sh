#!/usr/bin/env bash
# The README's second command: every test. Type check, lint, formatting and schema-vs-migrations
# checks, then unit and integration tests (Vitest, real embedded PostgreSQL, real qemu-img), then the
# browser tests (Playwright in Debian's Chromium against a production build started the way
# `npm start` starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
export LIBGUESTFS_BACKEND=direct
npx tsc --noEmit -p tsconfig.check.json
# Static checks stop the run early: lint (layers included), formatting, schema vs migrations.
npm run --silent lint
npm run --silent format:check
npm run --silent db:check
# Both runners always run to the end; the summary at the bottom decides the exit status.
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json || status=$?
rm -rf .next/dev   # stale dev-server route types break the build's type check
npx next build
E2E_DATA_DIR="$(mktemp -d /tmp/hangar-e2e-XXXXXX)"
s3_data_dir="$(mktemp -d /tmp/hangar-e2e-s3-XXXXXX)"
export E2E_DATA_DIR
trap 'rm -rf "$E2E_DATA_DIR" "$s3_data_dir" "$s3_data_dir-swift"' EXIT
npx playwright test || status=$?
# The specs whose bytes go through the blob store (upload, push/pull, ranged downloads, feeds,
# linked clones) again, with the app on a bucket in a one-node Swift that the web server starts and
# stops (E2E_BLOB_STORE=s3), in a data folder of their own. Not recipes, content or governance:
# their minutes are guests booting and builds, and builds on a bucket are what
# lib/processes/cluster.test.ts runs on two separate workers; nor the real Debian demo build, which
# no spec here waits for and which would compete for the CPU. `E2E_BLOB_STORE=s3 npx playwright
# test` runs every spec on a bucket.
rm -f reports/playwright-s3.json
E2E_BLOB_STORE=s3 E2E_DATA_DIR="$s3_data_dir" HANGAR_DEMO_REAL_DEBIAN=false \
  npx playwright test --no-deps e2e/{import,cli,feeds,teams,cluster}.spec.ts || status=$?
node scripts/test-summary.mjs || status=$?
exit "$status"
