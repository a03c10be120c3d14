#!/bin/sh
# Rebuild every guest program to WebAssembly (wasm32-wasi, preview1), deterministically:
# the same sources and toolchain give byte-identical .wasm files (no debug info, names
# stripped, no paths or dates embedded). The .wasm files are committed so tests need no
# toolchain; CI can run `build.sh --check` to prove they match their sources.
#
#   build.sh                 guests/*.c -> guests/wasm/*.wasm, bench/fsbench.c -> bench/fsbench.wasm
#   build.sh --check         rebuild into a temp dir and fail if any committed .wasm differs
#   build.sh --out DIR       write every .wasm (fsbench.wasm too) into DIR instead
#   build.sh --native DIR    also build every program natively ($CC, default gcc) -O2 into DIR
#                            (the Linux oracle for the guests, and the native bench peer)
#
# Toolchain: clang with wasi-libc. Debian installs wasi-libc under /usr/{include,lib}/wasm32-wasi,
# which clang finds without --sysroot; wasi-sdk style trees are used when WASI_SYSROOT is set
# or /usr/share/wasi-sysroot exists.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

CLANG=${CLANG:-clang}
# Native compiler: gcc when present; clang otherwise (Debian's clang depends on libc6-dev).
if [ -z "${CC:-}" ]; then if command -v gcc >/dev/null 2>&1; then CC=gcc; else CC=clang; fi; fi
SYSROOT_FLAG=
if [ -n "${WASI_SYSROOT:-}" ]; then SYSROOT_FLAG="--sysroot=$WASI_SYSROOT"
elif [ -d /usr/share/wasi-sysroot ]; then SYSROOT_FLAG="--sysroot=/usr/share/wasi-sysroot"; fi
CFLAGS="-O2 -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE"
WASM_FLAGS="--target=wasm32-wasi $SYSROOT_FLAG -Wl,--strip-all"

out=wasm
bench_out=bench
native=
check=
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; out=$(mktemp -d); bench_out=$out ;;
    --native) native=$2; shift ;;
    --out) out=$2; bench_out=$2; shift ;;
    *) echo "usage: build.sh [--check] [--out DIR] [--native DIR]" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"

build() { # build SRC NAME OUTDIR
  # -I. for check.h; relative source paths keep the command line identical everywhere.
  $CLANG $WASM_FLAGS $CFLAGS -I. -o "$3/$2.wasm" "$1"
  if [ -n "$native" ]; then mkdir -p "$native"; $CC $CFLAGS -I. -o "$native/$2" "$1"; fi
}

for src in *.c; do build "$src" "${src%.c}" "$out"; done
build bench/fsbench.c fsbench "$bench_out"

if [ -n "$check" ]; then
  status=0
  for f in "$out"/*.wasm; do
    name=$(basename "$f")
    committed=wasm/$name
    [ "$name" = fsbench.wasm ] && committed=bench/$name
    if ! cmp -s "$f" "$committed"; then echo "stale: $committed (run build.sh)" >&2; status=1; fi
  done
  rm -rf "$out"
  exit $status
fi
