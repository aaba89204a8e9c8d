# mpc-signer: the coordinator and the signer node (one image; the command picks the role).
#
#   docker build -t mpc-signer:local .          # or: docker compose build
#
# NODE_IMAGE is the official Node 24 image. On machines that reach no image registry,
# docker/base-image.sh makes the same tag from local parts first (npm run docker:build does).
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies, installed from the lock file. pkcs11js has no prebuilt
# binary, so its addon is compiled here and the compilers stay in this stage.
FROM ${NODE_IMAGE} AS deps
# node-gyp takes the headers the image ships (/usr/local/include/node) instead of downloading them.
ENV npm_config_nodedir=/usr/local
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# CAs of a TLS-inspecting proxy, if the build machine has one (docker/extra-ca/README.md).
COPY docker/extra-ca/ /tmp/extra-ca/
COPY package.json package-lock.json ./
RUN if ls /tmp/extra-ca/*.crt > /dev/null 2>&1; then cat /tmp/extra-ca/*.crt > /tmp/extra-ca.pem; export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
 && npm ci --omit=dev --no-audit --no-fund \
 && rm -rf /tmp/extra-ca /tmp/extra-ca.pem /root/.npm

# Stage 2: the runtime: Node, SoftHSM2 (for the PKCS#11 node), the app; runs as a non-root user
# with its data under /data (one volume per member).
FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mpc \
 && mkdir -p /data/coordinator /data/node-1 /data/node-2 /data/node-3 /data/node-4 /data/node-5 \
 && chown -R mpc:mpc /data && chmod 0700 /data/coordinator /data/node-*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY protocol ./protocol
COPY contract ./contract
COPY client ./client
COPY cluster ./cluster
COPY node ./node
COPY coordinator ./coordinator
COPY bin ./bin
COPY docker ./docker
# The native addons load and the entry points import: a broken image fails its build, not its first start.
RUN node -e "require('classic-level'); require('pkcs11js'); require('cbor-x')" \
 && node --input-type=module -e "await import('/app/node/config.ts'); await import('/app/coordinator/config.ts')"
USER mpc
ENV NODE_ENV=production
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=5 CMD ["node", "/app/docker/healthcheck.ts"]
# /bin/sh, so the script needs no execute bit in the build context.
ENTRYPOINT ["/bin/sh", "/app/docker/entrypoint.sh"]
