/**
 * A party's DKLs23 key share: its Shamir share of the secp256k1 key (the FROST DKG's output:
 * share, every party's public share, group key, chain code) plus what it set up with every
 * other holder at key generation, the base OTs for both directions of the OT extension and
 * the seed of the pairwise zero-sharing. Strict deterministic CBOR, version 1:
 *
 *   [1, core (FROST key share bytes), [[peer, [zeroSeed, delta, senderSeeds, seeds0, seeds1]], ...]]
 */
import { bytes, decodeCbor, encodeCbor, partyMap, struct, uint, type Bytes } from '../core/codec.ts';
import { DecodeError } from '../core/errors.ts';
import { MAX_PARTY_ID, type PartyId } from '../core/ids.ts';
import { zeroize } from '../core/transcript.ts';
import type { FrostKeyShare } from '../threshold/keys.ts';
import { decodeFrostKeyShare, encodeFrostKeyShare } from '../threshold/share-codec.ts';
import { KAPPA, SEED_BYTES, type OtReceiverSeeds, type OtSenderSeeds } from './ot-extension.ts';

export const DKLS_SCHEME = 'ecdsa-secp256k1';

/** What one party keeps about one other holder of the key. All of it is secret. */
export interface PairSetup {
  /** Seed of the pairwise zero-sharing, the same on both sides. */
  readonly zeroSeed: Bytes;
  /** This party as the extension sender (DKLs23's Alice) toward the peer. */
  readonly otSender: OtSenderSeeds;
  /** This party as the extension receiver (Bob) toward the peer. */
  readonly otReceiver: OtReceiverSeeds;
}

export interface DklsKeyShare {
  readonly scheme: typeof DKLS_SCHEME;
  /** The `frost-secp256k1` Shamir share: the same Feldman DKG output FROST uses. */
  readonly core: FrostKeyShare;
  readonly pairs: ReadonlyMap<PartyId, PairSetup>;
}

const SEEDS = SEED_BYTES * KAPPA;

interface EncodedPair {
  zeroSeed: Bytes;
  delta: Bytes;
  senderSeeds: Bytes;
  seeds0: Bytes;
  seeds1: Bytes;
}
interface Encoded {
  version: number;
  core: Bytes;
  pairs: Map<PartyId, EncodedPair>;
}

const VERSION = 1;
const codec = struct<Encoded>({
  version: uint(VERSION),
  core: bytes({ min: 1, max: 64 * 1024 * 1024 }),
  pairs: partyMap(
    struct<EncodedPair>({ zeroSeed: bytes(32), delta: bytes(KAPPA / 8), senderSeeds: bytes(SEEDS), seeds0: bytes(SEEDS), seeds1: bytes(SEEDS) }),
    { min: 1, max: MAX_PARTY_ID },
  ),
});

export function encodeDklsKeyShare(share: DklsKeyShare): Uint8Array {
  return encodeCbor(codec, {
    version: VERSION,
    core: encodeFrostKeyShare(share.core) as Bytes,
    pairs: new Map(
      [...share.pairs].map(([p, s]) => [
        p,
        {
          zeroSeed: s.zeroSeed,
          delta: s.otSender.delta as Bytes,
          senderSeeds: s.otSender.seeds as Bytes,
          seeds0: s.otReceiver.seeds0 as Bytes,
          seeds1: s.otReceiver.seeds1 as Bytes,
        },
      ]),
    ),
  });
}

export function decodeDklsKeyShare(raw: Uint8Array): DklsKeyShare {
  const s = decodeCbor(codec, raw, 64 * 1024 * 1024);
  const core = decodeFrostKeyShare(s.core);
  if (core.scheme !== 'frost-secp256k1') throw new DecodeError('malformed', `DKLs23 key share: core share is ${core.scheme}`);
  const peers = core.parties.filter((p) => p !== core.self);
  if (s.pairs.size !== peers.length || peers.some((p) => !s.pairs.has(p))) throw new DecodeError('malformed', 'DKLs23 key share: pairwise setup does not match the parties');
  return {
    scheme: DKLS_SCHEME,
    core,
    pairs: new Map(
      [...s.pairs].map(([p, e]) => [p, { zeroSeed: e.zeroSeed, otSender: { delta: e.delta, seeds: e.senderSeeds }, otReceiver: { seeds0: e.seeds0, seeds1: e.seeds1 } }]),
    ),
  };
}

export function zeroizeDklsKeyShare(share: DklsKeyShare): void {
  zeroize(share.core.signingShare);
  for (const p of share.pairs.values()) zeroize(p.zeroSeed, p.otSender.delta, p.otSender.seeds, p.otReceiver.seeds0, p.otReceiver.seeds1);
}
