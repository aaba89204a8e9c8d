#!/bin/sh
# The image's entry point: `mpc` (bin/mpc.ts) under Node, with the garbage collector MPC_V8_GC
# picks, by the rule cluster/v8-flags.ts gives the local launcher: auto (default) runs V8 with
# one GC thread on fewer than 4 cores, where its helper threads cost more CPU than they save;
# single-threaded and parallel force either. exec: node keeps this process's pid and signals.
set -e
case "${MPC_V8_GC:-auto}" in
  single-threaded) gc=--single-threaded-gc ;;
  parallel) gc= ;;
  auto) if [ "$(nproc)" -lt 4 ]; then gc=--single-threaded-gc; else gc=; fi ;;
  *) echo "MPC_V8_GC must be one of auto, single-threaded, parallel, not \"$MPC_V8_GC\"" >&2; exit 2 ;;
esac
exec node $gc /app/bin/mpc.ts "$@"
