#!/usr/bin/env bash
# Produces the image the Dockerfile starts from (NODE_IMAGE, default node:24-bookworm-slim) when
# it is neither present nor pullable: on machines that reach no image registry, the same tag is
# made from local parts — a Debian bookworm root filesystem made with debootstrap (cached in
# .mpc/docker/bookworm.tar), the Node 24 binary of the npm `node` package, the npm CLI this
# machine runs, and its Node headers (for node-gyp; the addons we compile use N-API, which is
# ABI-stable across Node versions) — laid out as the official image lays them out
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm, /usr/local/include/node).
# Wherever a registry answers, this is a plain `docker pull`.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}
WORK=$PWD/.mpc/docker
mkdir -p "$WORK"

docker image inspect "$IMAGE" > /dev/null 2>&1 && exit 0
if timeout "${MPC_PULL_TIMEOUT:-30}" docker pull -q "$IMAGE" > /dev/null 2>&1; then exit 0; fi
echo "no registry answered for $IMAGE: making it from local parts (debootstrap + the npm node binary)" >&2

NODE_BIN=$(readlink -f node_modules/node/bin/node 2> /dev/null || true)
[ -x "$NODE_BIN" ] || { echo "node_modules/node/bin/node is missing: run npm install first" >&2; exit 1; }
NPM_DIR=$(npm root -g)/npm
[ -f "$NPM_DIR/bin/npm-cli.js" ] || { echo "the npm CLI was not found in $(npm root -g)" >&2; exit 1; }
HEADERS=$(npm config get nodedir 2> /dev/null || true)/include/node
[ -f "$HEADERS/node_api.h" ] || HEADERS=/usr/include/node
[ -f "$HEADERS/node_api.h" ] || { echo "no Node headers found (node-gyp needs them to build pkcs11js)" >&2; exit 1; }

if [ ! -f "$WORK/bookworm.tar" ]; then
  command -v debootstrap > /dev/null || { echo "debootstrap is missing (apt-get install -y debootstrap)" >&2; exit 1; }
  rootfs=$WORK/rootfs
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$WORK/debootstrap.log"
  rm -rf "$rootfs/var/cache/apt/archives"/*.deb "$rootfs/var/lib/apt/lists"/*
  tar -C "$rootfs" -cf "$WORK/bookworm.tar.tmp" . && mv "$WORK/bookworm.tar.tmp" "$WORK/bookworm.tar"
  rm -rf "$rootfs"
fi

stage=$WORK/node-base
rm -rf "$stage" && mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/node_modules" "$stage/usr/local/include"
tar -C "$stage" -xf "$WORK/bookworm.tar"
install -m 0755 "$NODE_BIN" "$stage/usr/local/bin/node"
cp -a "$NPM_DIR" "$stage/usr/local/lib/node_modules/npm"
cp -a "$HEADERS" "$stage/usr/local/include/node"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
tar -C "$stage" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' - "$IMAGE" > /dev/null
rm -rf "$stage"
docker run --rm "$IMAGE" sh -c 'node --version && npm --version' > /dev/null
