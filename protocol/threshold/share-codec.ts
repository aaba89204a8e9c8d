/**
 * The one byte format of a FROST key share (what the node's sealed store encrypts): strict
 * deterministic CBOR, version 1,
 *
 *   [1, scheme, self, threshold, parties, groupKey, commitments, verifyingShares, signingShare, chainCode?]
 *
 * Decoding rejects anything that is not exactly such a share: unknown or missing fields,
 * non-canonical CBOR, unknown schemes, invalid or identity points, out-of-range scalars,
 * parties not strictly ascending or not containing `self`, a threshold outside [2, n], a
 * commitment count other than the threshold, a group key other than `commitments[0]`,
 * verifying shares for another party set, and a signing share whose public image is not this
 * party's verifying share (so a corrupted or mismatched secret is caught before it signs).
 */
import { array, bytes, decodeCborChoosing, encodeCbor, party, partyMap, struct, text, uint, type Bytes, type Codec } from '../core/codec.ts';
import { BoundedMap } from '../core/bounded-map.ts';
import { DecodeError } from '../core/errors.ts';
import { MAX_PARTY_ID, type PartyId } from '../core/ids.ts';
import { constantTimeEqual, hashTranscript } from '../core/transcript.ts';
import type { FrostKeyShare } from './keys.ts';
import { FROST_SCHEMES, frostSuite, type FrostScheme } from '../curves/ciphersuites.ts';
import { eq, mulBase } from '../curves/group.ts';

const VERSION = 1;

interface Encoded {
  version: number;
  scheme: string;
  self: PartyId;
  threshold: number;
  parties: PartyId[];
  groupKey: Bytes;
  commitments: Bytes[];
  verifyingShares: Map<PartyId, Bytes>;
  signingShare: Bytes;
  chainCode: Bytes[];
}

const many = { min: 1, max: MAX_PARTY_ID };

function shareCodec(point: Codec<Bytes>, scalar: Codec<Bytes>): Codec<Encoded> {
  return struct<Encoded>({
    version: uint(VERSION),
    scheme: text(32),
    self: party,
    threshold: uint(MAX_PARTY_ID),
    parties: array(party, many),
    groupKey: point,
    commitments: array(point, many),
    verifyingShares: partyMap(point, many),
    signingShare: scalar,
    chainCode: array(bytes(32), { min: 0, max: 1 }),
  });
}

const strict = new Map(FROST_SCHEMES.map((s) => [s, shareCodec(frostSuite(s).point, frostSuite(s).scalar)] as const));

export function encodeFrostKeyShare(share: FrostKeyShare): Uint8Array {
  const codec = strict.get(share.scheme);
  if (!codec) throw new RangeError(`unknown FROST scheme ${share.scheme}`);
  return encodeCbor(codec, {
    version: VERSION,
    scheme: share.scheme,
    self: share.self,
    threshold: share.threshold,
    parties: [...share.parties],
    groupKey: share.groupKey,
    commitments: [...share.commitments],
    verifyingShares: new Map(share.verifyingShares),
    signingShare: share.signingShare,
    chainCode: share.chainCode ? [share.chainCode] : [],
  });
}

/** The strict codec of the scheme a decoded share names (its second element). */
function codecFor(value: unknown): Codec<Encoded> {
  const scheme: unknown = Array.isArray(value) ? value[1] : undefined;
  const codec = typeof scheme === 'string' ? strict.get(scheme as FrostScheme) : undefined;
  if (!codec) throw new DecodeError('malformed', `unknown FROST scheme ${typeof scheme === 'string' ? JSON.stringify(scheme) : 'field'}`);
  return codec;
}

export function decodeFrostKeyShare(raw: Uint8Array): FrostKeyShare {
  const s = decodeCborChoosing(codecFor, raw);
  const scheme = s.scheme;
  const fail = (what: string): never => {
    throw new DecodeError('malformed', `FROST key share: ${what}`);
  };
  if (s.version !== VERSION) fail(`version ${s.version}`);
  const n = s.parties.length;
  for (let i = 1; i < n; i++) if (s.parties[i]! <= s.parties[i - 1]!) fail('parties are not strictly ascending');
  if (!s.parties.includes(s.self)) fail('self is not one of the parties');
  if (s.threshold < 2 || s.threshold > n) fail(`threshold ${s.threshold} outside [2, ${n}]`);
  if (s.commitments.length !== s.threshold) fail(`${s.commitments.length} commitments for threshold ${s.threshold}`);
  if (!constantTimeEqual(s.commitments[0]!, s.groupKey)) fail('group key is not the constant commitment');
  if (s.verifyingShares.size !== n || s.parties.some((p) => !s.verifyingShares.has(p))) fail('verifying shares do not match the parties');
  if (!publicImageMatches(scheme as FrostScheme, s.signingShare, s.verifyingShares.get(s.self)!)) fail('signing share does not match its verifying share');
  return {
    scheme: scheme as FrostScheme,
    self: s.self,
    threshold: s.threshold,
    parties: s.parties,
    groupKey: s.groupKey,
    commitments: s.commitments,
    verifyingShares: s.verifyingShares,
    signingShare: s.signingShare,
    ...(s.chainCode[0] ? { chainCode: s.chainCode[0] } : {}),
  };
}

/**
 * Shares already seen to match, by a one-way digest of (scheme, signing share, verifying share):
 * a node decodes its share for every signature, and the check is a constant-time base
 * multiplication. Bounded; the digests reveal nothing of the shares.
 */
const MAX_CHECKED = 4096;
const imageChecked = new BoundedMap<string, true>(MAX_CHECKED);

function publicImageMatches(scheme: FrostScheme, signingShare: Uint8Array, verifyingShare: Uint8Array): boolean {
  const digest = Buffer.from(hashTranscript('mpc-signer/share-image-checked/v1', scheme, signingShare, verifyingShare)).toString('hex');
  if (imageChecked.has(digest)) return true;
  const group = frostSuite(scheme).group;
  let matches: boolean;
  try {
    const x = group.Fn.fromBytes(signingShare);
    matches = x !== 0n && eq(mulBase(group, x), group.decode(verifyingShare));
  } catch {
    matches = false; // a zero share (multiply refuses 0) is no valid share either
  }
  if (matches) imageChecked.set(digest, true);
  return matches;
}
