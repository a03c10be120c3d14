#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine, skipping what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in clang:clang wasm-ld:lld umoci:umoci skopeo:skopeo docker-registry:docker-registry \
            zstd:zstd chromium:chromium mknod:coreutils python3:python3 openssl:openssl; do
  cmd=${pair%%:*} pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -d /usr/lib/wasm32-wasi ] || [ -d /usr/share/wasi-sysroot ] || need+=(wasi-libc)
ls /usr/lib/llvm-14/lib/clang/14*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev-wasm32)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing system packages (install as root): ${need[*]}" >&2
    exit 1
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version | grep -q '^10\.'; then
  npm i -g pnpm@10 >/dev/null 2>&1
fi
pnpm install --frozen-lockfile --reporter=silent
# The strata CLI runs built JavaScript (fast start); tests drive that binary.
pnpm build >/dev/null
