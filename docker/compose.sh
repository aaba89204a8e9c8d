#!/usr/bin/env bash
# `docker compose` (Compose v2) where the Docker CLI has it, `docker-compose` (v1) where that is
# all there is; the arguments are passed on unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version > /dev/null 2>&1; then exec docker compose "$@"; fi
if command -v docker-compose > /dev/null; then exec docker-compose "$@"; fi
echo "neither 'docker compose' nor 'docker-compose' is installed" >&2
exit 1
