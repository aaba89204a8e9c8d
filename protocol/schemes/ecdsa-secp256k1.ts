/**
 * ECDSA over secp256k1 by DKLs23 (Ethereum, Bitcoin legacy/SegWit v0). Signs a 32-byte digest;
 * signatures are low-S with a recovery id so `ecrecover` works.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { mapOutput } from '../core/compose.ts';
import { lockstep } from '../core/lockstep.ts';
import type { ProtocolStart } from '../core/party.ts';
import { verifyEcdsaLibsecp, verifyEcdsaRecoverableLibsecp } from '../curves/secp256k1-libsecp.ts';
import { encodeXpub } from '../derive.ts';
import { decodeDklsKeyShare, encodeDklsKeyShare, zeroizeDklsKeyShare, type DklsKeyShare } from '../dkls23/keys.ts';
import { dklsKeygen, dklsKeygenProtocol } from '../dkls23/keygen.ts';
import { dklsRefresh, dklsRefreshProtocol, dklsReshare, dklsReshareProtocol } from '../dkls23/lifecycle.ts';
import { DKLS_PRESIGNATURES_PER_SESSION, dklsPresign, dklsPresignLockstepProtocol, dklsPresignProtocol, dklsSign, dklsSignProtocol } from '../dkls23/sign.ts';
import { decodeDklsPresignature, dklsPresignedSignProtocol, dklsSignPresigned, dropDklsPresignature, encodeDklsPresignature } from '../dkls23/presigned.ts';
import { ProtocolConfigError } from '../core/errors.ts';
import { constantTimeEqual, zeroize } from '../core/transcript.ts';
import { tweakFrostKeyShare } from '../threshold/tweak.ts';
import { ethereumAddress, p2wpkhAddress } from './addresses.ts';
import { reshareDigest } from './frost-adapter.ts';
import { MESSAGE_HASHES } from './hashing.ts';
import type { SchemeAdapter, SchemeDefinition } from './types.ts';

/**
 * The key share's core is the plain secp256k1 Shamir share, so BIP32 derivation tweaks it
 * exactly as FROST's (every share and public share moves by δ·G); the pairwise OT setup does
 * not depend on the key and is reused as is.
 */
const adapter: SchemeAdapter<DklsKeyShare> = {
  dkgProtocol: dklsKeygenProtocol,
  dkg: (threshold) => dklsKeygen({ threshold }),
  signProtocol: () => dklsSignProtocol,
  // The lowest signer combines and verifies; the others only contribute (as with FROST).
  sign: (share, digest, { context, guard }) => (ctx) =>
    mapOutput(dklsSign(share, digest, { aggregator: ctx.parties[0]!, context, ...(guard ? { guard } : {}) })(ctx), (o) =>
      o ? { signature: o.signature, recoveryId: o.recoveryId } : undefined,
    ),
  presign: {
    kind: 'interactive',
    maxPerSession: DKLS_PRESIGNATURES_PER_SESSION,
    // One presignature: the plain presigning protocol; several: its instances in lockstep.
    protocol: (count) => (count === 1 ? dklsPresignProtocol : dklsPresignLockstepProtocol),
    start: (share, count, { context, guard }) => {
      const one: ProtocolStart<Uint8Array> = (ctx) =>
        mapOutput(dklsPresign(share, { context, ...(guard ? { guard } : {}) })(ctx), (p) => {
          const bytes = encodeDklsPresignature(p);
          dropDklsPresignature(p);
          return bytes;
        });
      return count === 1 ? (ctx) => mapOutput(one(ctx), (bytes) => [bytes]) : lockstep(count, () => one);
    },
    signProtocol: dklsPresignedSignProtocol,
    sign: (share, digest, presignature, { context }) => (ctx) => {
      const p = decodeDklsPresignature(presignature);
      zeroize(presignature);
      // Made for another (child) key: its R must never meet this key's digest.
      if (!constantTimeEqual(p.groupKey, share.core.groupKey)) {
        dropDklsPresignature(p);
        throw new ProtocolConfigError('the presignature was made for another key');
      }
      return mapOutput(dklsSignPresigned(p, digest, { aggregator: ctx.parties[0]!, context })(ctx), (o) => (o ? { signature: o.signature, recoveryId: o.recoveryId } : undefined));
    },
  },
  // The child shares the parent's pairwise setups (wiping both is harmless); only the core moves.
  tweak: (share, tweak) => ({ ...share, core: tweakFrostKeyShare(share.core, tweak) }),
  wipe: zeroizeDklsKeyShare,
  groupKey: (share) => share.core.groupKey,
  chainCode: (share) => {
    if (!share.core.chainCode) throw new Error('this ECDSA key share has no chain code');
    return share.core.chainCode;
  },
  threshold: (share) => share.core.threshold,
  encode: encodeDklsKeyShare,
  decode: decodeDklsKeyShare,
  // A failed KOS or multiplication check names the peer that cheated against this node's
  // OT setup; sessions over the same base OTs must not be offered to it again.
  pairwiseSetup: { compromisedBy: (abort) => (abort.reason === 'consistency_check_failed' || abort.reason === 'pair_retired' ? abort.culprits : []) },
  refresh: { protocol: () => dklsRefreshProtocol, start: dklsRefresh },
  reshare: {
    protocol: dklsReshareProtocol,
    start: (params, share) => dklsReshare(params, share),
    digest: (share) => reshareDigest(share.core),
  },
  // The lost node needs fresh OT setups with every holder as well as a share: resharing makes both.
  repairByResharing: true,
};

export const ecdsaSecp256k1: SchemeDefinition<'ecdsa-secp256k1'> = {
  name: 'ecdsa-secp256k1',
  curve: 'secp256k1',
  message: { kind: 'fixed', bytes: 32, noun: 'digest' },
  userKey: (groupKey) => groupKey,
  xpub: encodeXpub,
  addresses: (key, network) => ({ ethereum: ethereumAddress(key), p2wpkh: p2wpkhAddress(key, network) }),
  hashes: MESSAGE_HASHES,
  taproot: false,
  recoveryId: true,
  // Our signatures are low-S (BIP62/EIP-2), so the DER form is the strict one Bitcoin requires.
  signatureForms: (signature) => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return { r: hex(signature.subarray(0, 32)), s: hex(signature.subarray(32, 64)), der: hex(secp256k1.Signature.fromBytes(signature, 'compact').toBytes('der')) };
  },
  // libsecp256k1's verification, strict (low s): the verifier Bitcoin Core runs, and its key
  // recovery is what go-ethereum's ecrecover runs, so a signature passes here exactly when those
  // chains take it. ~0.3 ms against noble's ~1.7, paid by the coordinator for every signature.
  // The API takes a 32-byte digest, so OpenSSL (which hashes its input) cannot check it here;
  // tests verify with noble and with OpenSSL over the digest's preimage.
  verify: (publicKey, message, signature, recoveryId) =>
    recoveryId === undefined
      ? publicKey.length === 33 && verifyEcdsaLibsecp(signature, message, publicKey)
      : verifyEcdsaRecoverableLibsecp(signature, message, publicKey, recoveryId),
  adapter: adapter as SchemeDefinition['adapter'],
};
