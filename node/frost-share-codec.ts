/**
 * TEMPORARY: serialises a FROST key share for the sealed store until protocol/frost ships its
 * own strict codec and a DKG-agreed chain code; then this file goes away.
 */
import { createHash } from 'node:crypto';
import { array, bytes, decodeCbor, encodeCbor, party, partyMap, struct, text, uint, type Bytes } from '../protocol/core/codec.ts';
import { FROST_SCHEMES, type FrostKeyShare, type FrostScheme } from '../protocol/frost/index.ts';
import { DecodeError } from '../protocol/core/errors.ts';

const codec = struct<Omit<FrostKeyShare, 'scheme' | 'parties' | 'commitments'> & { scheme: string; parties: FrostKeyShare['parties'][number][]; commitments: Bytes[] }>({
  scheme: text(32),
  self: party,
  threshold: uint(0xffff),
  parties: array(party, { min: 1, max: 0xffff }),
  groupKey: bytes({ min: 32, max: 33 }),
  commitments: array(bytes({ min: 32, max: 33 }), { min: 1, max: 0xffff }),
  verifyingShares: partyMap(bytes({ min: 32, max: 33 }), { min: 1, max: 0xffff }),
  signingShare: bytes(32),
});

export function encodeFrostKeyShare(share: FrostKeyShare): Uint8Array {
  return encodeCbor(codec, { ...share, parties: [...share.parties], commitments: [...share.commitments], verifyingShares: new Map(share.verifyingShares) });
}

export function decodeFrostKeyShare(raw: Uint8Array): FrostKeyShare {
  const s = decodeCbor(codec, raw);
  if (!(FROST_SCHEMES as readonly string[]).includes(s.scheme)) throw new DecodeError('malformed', 'unknown FROST scheme');
  return { ...s, scheme: s.scheme as FrostScheme };
}

export function frostChainCode(share: FrostKeyShare): Uint8Array {
  return createHash('sha256').update('mpc-signer/placeholder-chain-code/v1').update(share.groupKey).digest();
}
