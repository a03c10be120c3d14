#!/bin/sh
# Build hello.wasm (wasm32-wasi, preview1) deterministically: no debug info, names stripped,
# so the committed file changes only when hello.c or the toolchain does. Same toolchain as
# packages/wasi/guests/build.sh (clang + wasi-libc; WASI_SYSROOT or /usr/share/wasi-sysroot
# when present, Debian's /usr/{include,lib}/wasm32-wasi otherwise).
set -eu
cd "$(dirname "$0")"
SYSROOT_FLAG=
if [ -n "${WASI_SYSROOT:-}" ]; then SYSROOT_FLAG="--sysroot=$WASI_SYSROOT"
elif [ -d /usr/share/wasi-sysroot ]; then SYSROOT_FLAG="--sysroot=/usr/share/wasi-sysroot"; fi
${CLANG:-clang} --target=wasm32-wasi $SYSROOT_FLAG -O2 -Wall -Wextra -Werror -std=c11 \
  -Wl,--strip-all -o "${1:-hello.wasm}" hello.c
