#!/usr/bin/env bash
# The main job on a fresh machine: install what is needed, then `pnpm start`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec pnpm start "$@"
