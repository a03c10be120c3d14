#!/bin/sh
# Build the e2e guest to wasm32-wasi (deterministic: stripped, no debug info).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--strip-all -o tool.wasm tool.c
