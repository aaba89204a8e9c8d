export { dklsKeygen, dklsKeygenProtocol } from './keygen.ts';
export { dklsSign, dklsSignProtocol, lagrangeAtZero, type EcdsaSignature } from './sign.ts';
export { decodeDklsKeyShare, encodeDklsKeyShare, zeroizeDklsKeyShare, DKLS_SCHEME, type DklsKeyShare, type PairSetup } from './keys.ts';
export { dklsRefresh, dklsRefreshProtocol, dklsReshare, dklsReshareProtocol, type DklsReshareParams } from './lifecycle.ts';
