/** FROST signing (RFC 9591): every signer aggregates, or one coordinator inside the signer set does. */
export * from './sign.ts';
export * from './sign-coordinated.ts';
