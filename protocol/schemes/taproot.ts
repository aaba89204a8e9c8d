/**
 * BIP341 Taproot tweaks of a `schnorr-bip340` key. A BIP340 key is its **internal** key P (what
 * the DKG made, or its BIP32 child); what a Taproot output commits to is the output key
 *
 *   t = int(tagged_hash("TapTweak", x(P) ‖ merkleRoot))   (merkleRoot empty for BIP86 key-path only)
 *   Q = lift_x(x(P)) + t·G
 *
 * Signing for a Taproot output is plain BIP340 under x(Q); every signer moves its share by the
 * same t with the x-only tweak of protocol/threshold/tweak.ts.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, concatBytes, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ProtocolConfigError } from '../core/errors.ts';

/**
 * How a BIP340 signature is to be made: absent, plain BIP340 under the (internal) key; `{}`, a
 * BIP86 key-path spend (tweak without a script tree); `{ merkleRoot }`, a key-path spend of an
 * output that also commits to that script tree.
 */
export interface TaprootSpend {
  readonly merkleRoot?: Uint8Array;
}

const TAP_TWEAK_TAG = sha256(utf8ToBytes('TapTweak'));

/** The x-only form of a secp256k1 key given as 32 bytes (already x-only) or 33 (SEC1 compressed). */
export function xOnly(key: Uint8Array): Uint8Array {
  if (key.length === 32) return key;
  if (key.length === 33) return key.subarray(1);
  throw new ProtocolConfigError(`a secp256k1 key is 32 (x-only) or 33 (compressed) bytes, not ${key.length}`);
}

/** t of BIP341's taproot_tweak_pubkey, 32 bytes big-endian; refuses a merkle root that is not 32 bytes. */
export function tapTweak(internalKey: Uint8Array, spend: TaprootSpend = {}): Uint8Array {
  const root = spend.merkleRoot ?? new Uint8Array();
  if (root.length !== 0 && root.length !== 32) throw new ProtocolConfigError('a Taproot merkle root is 32 bytes');
  const t = bytesToNumberBE(sha256(concatBytes(TAP_TWEAK_TAG, TAP_TWEAK_TAG, xOnly(internalKey), root)));
  // Probability ~2^-128; BIP341 makes such an output unspendable by key path.
  if (t >= secp256k1.Point.Fn.ORDER) throw new ProtocolConfigError('the TapTweak hash is not below the group order');
  return numberToBytesBE(t, 32);
}

/** Q = lift_x(x(P)) + t·G as a 32-byte x-only key: the key a Taproot output's scriptPubKey holds. */
export function taprootOutputKey(internalKey: Uint8Array, spend: TaprootSpend = {}): Uint8Array {
  const P = secp256k1.Point.fromBytes(concatBytes(Uint8Array.of(2), xOnly(internalKey)));
  const t = bytesToNumberBE(tapTweak(internalKey, spend));
  const Q = t === 0n ? P : P.add(secp256k1.Point.BASE.multiply(t));
  return Q.toBytes(true).subarray(1);
}
