#!/usr/bin/env bash
# The whole test run on a fresh Debian 12 machine: system tools, dependencies, type-check, tests.
# Ends with one plain line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
pnpm typecheck || status=1
rm -f .vitest-results.json
pnpm exec vitest run --reporter=default --reporter=json --outputFile=.vitest-results.json || status=1
node scripts/summary.mjs .vitest-results.json || status=1
exit $status
