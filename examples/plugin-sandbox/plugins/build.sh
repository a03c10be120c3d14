#!/bin/sh
# Build the example plugins to wasm32-wasi (stripped, deterministic).
set -eu
cd "$(dirname "$0")"
for c in *.c; do
  clang --target=wasm32-wasi -O2 -Wall -Werror -Wl,--strip-all -o "${c%.c}.wasm" "$c"
done
