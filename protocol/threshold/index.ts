/**
 * The generic threshold layer, shared by FROST and DKLs23: Pedersen DKG with proofs of
 * knowledge, the Shamir key share and its byte format, tweaks (BIP32 children, Taproot),
 * proactive refresh, resharing to a new committee, and repair of a lost share.
 */
export * from './dkg.ts';
export * from './keys.ts';
export * from './share-codec.ts';
export * from './tweak.ts';
export * from './refresh.ts';
export * from './reshare.ts';
export * from './repair.ts';
