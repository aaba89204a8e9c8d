/**
 * How a process joins the cluster: unseal its identity with its provider, load the manifest,
 * start the libp2p transport and put a `ClusterLink` on it. The node and the coordinator start
 * the same way; only their member id, listen address and data files differ.
 */
import { ClusterLink } from './link.ts';
import { loadIdentity, manifestPqVerifier, type Identity } from './identity.ts';
import type { Logger } from './log.ts';
import { MlDsaSigner } from './providers/mldsa.ts';
import type { ShareProtector } from './providers/types.ts';
import { Libp2pTransport } from './transport/libp2p.ts';
import { loadManifest, manifestVerifier, type ClusterManifest } from './transport/manifest.ts';
import type { MemberId } from './transport/types.ts';

export interface JoinOptions {
  readonly self: MemberId;
  readonly protector: ShareProtector;
  readonly identityFile: string;
  readonly manifestFile: string;
  readonly listen: string;
  /** The sealed ML-DSA-65 identity, when envelopes must carry one. */
  readonly mldsaFile?: string;
  readonly log: Logger;
}

export interface Membership {
  readonly identity: Identity;
  readonly manifest: ClusterManifest;
  /** Checks a member's identity signature against the manifest (also for reliable broadcast). */
  readonly verify: (member: string, input: Uint8Array, signature: Uint8Array) => boolean;
  readonly transport: Libp2pTransport;
  readonly link: ClusterLink;
}

export async function joinCluster(opts: JoinOptions): Promise<Membership> {
  const identity = await loadIdentity(opts.identityFile, opts.self, opts.protector);
  const manifest = await loadManifest(opts.manifestFile);
  const verify = manifestVerifier(manifest);
  const pq = opts.mldsaFile ? await MlDsaSigner.load(opts.mldsaFile, opts.self, opts.protector) : undefined;
  const transport = await Libp2pTransport.create({
    self: opts.self,
    manifest,
    identitySeed: identity.seed,
    listen: opts.listen,
    onRefused: (peer, reason) => opts.log.warn({ event: 'peer_refused', peer, reason }),
    onDialRetry: (peer, attempt, error) => opts.log.info({ event: 'dial_retry', peer, attempt, error: error.message }),
  });
  const link = new ClusterLink({
    transport,
    sign: identity.sign,
    ...(pq ? { pqSign: (input: Uint8Array) => pq.signSync(input) } : {}),
    verify,
    verifyPq: manifestPqVerifier(manifest),
    onRefused: (from, error) => opts.log.warn({ event: 'envelope_refused', from, error: error.message }),
  });
  return { identity, manifest, verify, transport, link };
}
