#!/usr/bin/env bash
# Builds the mpc-signer image from local parts only (no image registry is needed):
#   1. mpc-base:bookworm, a Debian root filesystem made with debootstrap (cached in .mpc/docker),
#      with SoftHSM2 for the pkcs11 node;
#   2. the build context: sources, production node_modules, the Node 24 binary of the npm `node` package;
#   3. `docker build` of ./Dockerfile as mpc-signer:local.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$ROOT/.mpc/docker
mkdir -p "$WORK"

if ! docker image inspect mpc-base:bookworm > /dev/null 2>&1; then
  if [ ! -f "$WORK/base.tar" ]; then
    command -v debootstrap > /dev/null || { echo "debootstrap is missing (apt-get install -y debootstrap)" >&2; exit 1; }
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase --include=softhsm2,ca-certificates bookworm "$WORK/rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" > "$WORK/debootstrap.log"
    rm -rf "$WORK/rootfs/var/cache/apt/archives"/*.deb "$WORK/rootfs/var/lib/apt/lists"/*
    tar -C "$WORK/rootfs" -cf "$WORK/base.tar.tmp" . && mv "$WORK/base.tar.tmp" "$WORK/base.tar"
    rm -rf "$WORK/rootfs"
  fi
  docker import "$WORK/base.tar" mpc-base:bookworm > /dev/null
fi

CTX=$WORK/context
rm -rf "$CTX" && mkdir -p "$CTX/app"
cp -a package.json package-lock.json tsconfig.json protocol contract client cluster node coordinator bin docker "$CTX/app/"
cp -a node_modules "$CTX/app/node_modules"
cp -L node_modules/node/bin/node "$CTX/node"
(cd "$CTX/app" && npm prune --omit=dev --no-audit --no-fund --ignore-scripts > /dev/null 2>&1)
docker build -q -t mpc-signer:local -f Dockerfile "$CTX"
