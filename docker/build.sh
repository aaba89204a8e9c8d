#!/usr/bin/env bash
# Builds mpc-signer:local from the Dockerfile (dependencies installed inside the build with
# `npm ci`). Where no image registry is reachable, docker/base-image.sh first makes the base
# image tag from local parts; the Dockerfile is the same either way.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}
bash docker/base-image.sh
# A TLS-inspecting proxy's CAs, for npm inside the build (docker/extra-ca/README.md).
rm -f docker/extra-ca/*.crt
for ca in /usr/local/share/ca-certificates/*.crt; do [ -f "$ca" ] && cp "$ca" docker/extra-ca/; done
started=$(date +%s)
docker build -q --build-arg "NODE_IMAGE=$NODE_IMAGE" -t mpc-signer:local . > /dev/null
echo "mpc-signer:local built in $(( $(date +%s) - started )) s, $(docker image inspect -f '{{.Size}}' mpc-signer:local | awk '{printf "%.0f MB", $1 / 1000000}')" >&2
