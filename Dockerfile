# mpc-signer image: the coordinator and the signer node (one image, the command picks the role).
#
# Built from local parts only (no registry): `docker/build.sh` imports a Debian bookworm root
# filesystem made with debootstrap as `mpc-base:bookworm`, and stages the build context in
# .mpc/docker/context: the sources, production node_modules (npm prune --omit=dev), and the
# Node 24 binary that the npm `node` package ships.

ARG BASE=mpc-base:bookworm

# Stage 1: assemble /app and check that the runtime starts and its native addons load.
FROM ${BASE} AS assemble
COPY node /usr/local/bin/node
COPY app /app
WORKDIR /app
RUN chmod 0755 /usr/local/bin/node \
 && node --version \
 && node -e "require('classic-level'); require('pkcs11js'); require('cbor-x')" \
 && node --input-type=module -e "await import('/app/node/config.ts'); await import('/app/coordinator/config.ts')"

# Stage 2: the runtime image, non-root, data under /data (one volume per member).
FROM ${BASE}
COPY --from=assemble /usr/local/bin/node /usr/local/bin/node
COPY --from=assemble /app /app
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mpc \
 && mkdir -p /data/coordinator /data/node-1 /data/node-2 /data/node-3 /data/node-4 /data/node-5 \
 && chown -R mpc:mpc /data && chmod 0700 /data/coordinator /data/node-*
USER mpc
WORKDIR /app
ENV NODE_ENV=production
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=5 CMD ["node", "/app/docker/healthcheck.ts"]
ENTRYPOINT ["node", "/app/bin/mpc.ts"]
