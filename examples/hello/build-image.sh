#!/bin/sh
# Build examples/hello/image: an OCI image layout (image-spec v1.0 "image-layout") made with
# umoci, holding one image of two layers:
#   1. base files: /etc/motd, /etc/hostname, /tmp (1777), /data (the program writes here)
#   2. the module: /hello.wasm
# config: os wasip1, architecture wasm, Entrypoint ["/hello.wasm"], Cmd ["world"],
#         Env GREETING=Hello and PATH, WorkingDir /data.
# The index names the image `latest` (org.opencontainers.image.ref.name) and, for `strata
# load` and containerd, io.containerd.image.name = docker.io/library/strata-hello:latest.
#
# Reproducible: layer tars are made with sorted names, fixed mtimes and owners, and every
# timestamp umoci records is pinned to SOURCE_DATE_EPOCH, so rebuilding gives the same
# digests. Needs umoci, GNU tar, node (to add the name annotation), and a built hello.wasm.
#
#   build-image.sh [OUT_DIR]        (default: image/ next to this script)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/image}
epoch=${SOURCE_DATE_EPOCH:-1700000000}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
name=docker.io/library/strata-hello:latest

[ -f "$here/hello.wasm" ] || { echo "build-image.sh: run build.sh first (no hello.wasm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One layer tar from a directory tree; uncompressed (umoci raw add-layer compresses it).
layer_tar() { # layer_tar DIR OUT.tar PATHS...
  dir=$1 tarball=$2
  shift 2
  tar --create --file "$tarball" --directory "$dir" --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner "$@"
}

mkdir -p "$work/base/etc" "$work/base/tmp" "$work/base/data"
cat > "$work/base/etc/motd" <<'MOTD'
Welcome to Strata: this file comes from the image's base layer.
Whatever the program writes lands in the container's upper layer; see `strata diff`.
MOTD
echo hello > "$work/base/etc/hostname"
chmod 0644 "$work/base/etc/motd" "$work/base/etc/hostname"
chmod 0755 "$work/base/etc" "$work/base/data"
chmod 1777 "$work/base/tmp"
layer_tar "$work/base" "$work/base.tar" data etc tmp

mkdir -p "$work/app"
cp "$here/hello.wasm" "$work/app/hello.wasm"
chmod 0755 "$work/app/hello.wasm"
layer_tar "$work/app" "$work/app.tar" hello.wasm

rm -rf "$out"
umoci init --layout "$out"
umoci new --image "$out:latest"
umoci raw add-layer --image "$out:latest" --history.created "$created" \
  --history.created_by "build-image.sh: base files (/etc/motd, /tmp, /data)" "$work/base.tar"
umoci raw add-layer --image "$out:latest" --history.created "$created" \
  --history.created_by "build-image.sh: COPY hello.wasm /hello.wasm" "$work/app.tar"
umoci config --image "$out:latest" --created "$created" --history.created "$created" \
  --history.created_by "build-image.sh: config" \
  --os wasip1 --architecture wasm \
  --config.entrypoint /hello.wasm --config.cmd world \
  --config.env GREETING=Hello --config.env PATH=/ \
  --config.workingdir /data
umoci gc --layout "$out"

# Name the image for loaders that want a full reference (containerd, strata load).
node -e '
  const fs = require("fs");
  const [file, name] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const m of index.manifests) m.annotations = { ...m.annotations, "io.containerd.image.name": name };
  fs.writeFileSync(file, JSON.stringify(index));
' "$out/index.json" "$name"
echo "built $out ($name)"
