/** FROST signing (RFC 9591): every signer aggregates, one coordinator inside the signer set does, or nonces were committed ahead. */
export * from './sign.ts';
export * from './sign-coordinated.ts';
export * from './presigned.ts';
