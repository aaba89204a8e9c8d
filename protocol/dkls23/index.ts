export { dklsKeygen, dklsKeygenProtocol } from './keygen.ts';
export { dklsPresign, dklsPresignProtocol, dklsSign, dklsSignProtocol, lagrangeAtZero, type EcdsaSignature } from './sign.ts';
export { decodeDklsPresignature, dklsPresignedSignProtocol, dklsSignPresigned, dropDklsPresignature, encodeDklsPresignature, type DklsPresignature } from './presigned.ts';
export { decodeDklsKeyShare, encodeDklsKeyShare, zeroizeDklsKeyShare, DKLS_SCHEME, type DklsKeyShare, type PairSetup } from './keys.ts';
export { dklsRefresh, dklsRefreshProtocol, dklsReshare, dklsReshareProtocol, type DklsReshareParams } from './lifecycle.ts';
