export * from './dkg.ts';
export * from './keys.ts';
export * from './sign.ts';
export * from './sign-coordinated.ts';
export * from './suites.ts';
export * from './share-codec.ts';
export * from './tweak.ts';
